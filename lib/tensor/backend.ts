/**
 * Kernel registry (after tfjs-core's kernel_registry): ops call kernels by name; each device
 * backend registers its implementations. A call checks that its tensor inputs are alive and
 * on one device, then runs that device's kernel.
 */
import { DeviceError, ValueError } from '../errors.js';
import type { Device } from './dtype.js';
import { Tensor } from './tensor.js';

/** A kernel: named tensor inputs and plain attributes in, tensor(s) out. */
export type KernelFn = (inputs: Record<string, Tensor>, attrs: Record<string, unknown>) => unknown;

const registry = new Map<string, KernelFn>();

/** Registers `fn` as kernel `name` on `device`, replacing any earlier one. */
export function registerKernel(name: string, device: Device, fn: KernelFn): void {
  registry.set(`${name}@${device}`, fn);
}

/** Whether a kernel exists for `name` on `device`. */
export function hasKernel(name: string, device: Device): boolean {
  return registry.has(`${name}@${device}`);
}

/** Device shared by all inputs; throws naming the first input that differs or is disposed. */
export function commonDevice(inputs: Record<string, Tensor>): Device {
  let device: Device | undefined;
  let first = '';
  for (const [arg, t] of Object.entries(inputs)) {
    if (!(t instanceof Tensor)) throw new ValueError(`argument '${arg}' must be a Tensor`, arg);
    const d = t.storage(arg).device;
    if (device === undefined) {
      device = d;
      first = arg;
    } else if (d !== device) {
      throw new DeviceError(`argument '${arg}' is on ${d} but '${first}' is on ${device}`, arg);
    }
  }
  return device ?? 'cpu';
}

/** Runs kernel `name` on the device its inputs live on. */
export function runKernel<T = Tensor>(name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown> = {}): T {
  // Creation kernels have no tensor inputs and name their device in `attrs.device`.
  const device = Object.keys(inputs).length ? commonDevice(inputs) : ((attrs.device as Device | undefined) ?? 'cpu');
  const fn = registry.get(`${name}@${device}`);
  if (!fn) throw new DeviceError(`no '${name}' kernel is available on ${device}`);
  return fn(inputs, attrs) as T;
}
