/**
 * Kernel registry (after tfjs-core's kernel_registry): ops call kernels by name; each device
 * backend registers its implementations. Both sides are typed by the kernel table
 * (kernel_table.ts), so a call's inputs, attributes and result are checked at compile time.
 * A call checks that its tensor inputs are alive and on one device, then runs that device's
 * kernel.
 */
import { DeviceError, ValueError } from '../errors.js';
import type { Device } from './dtype.js';
import type { KernelAttrs, KernelImpl, KernelImpls, KernelInputs, KernelName, KernelOutput } from './kernel_table.js';
import { hostAccessGuard } from './storage.js';
import { Tensor } from './tensor.js';

export type { KernelAttrs, KernelImpl, KernelImpls, KernelInputs, KernelName, KernelOutput } from './kernel_table.js';

// Each entry was stored by registerKernel under its own name, so the type of the key holds.
type AnyKernel = (inputs: object, attrs: object) => unknown;
const registry = new Map<string, AnyKernel>();

/**
 * Registers `fn` as kernel `name` on `device`.
 * @throws ValueError when `name` already has a kernel on `device`: a silent replacement would
 *   run whichever module loaded last.
 */
export function registerKernel<K extends KernelName>(name: K, device: Device, fn: KernelImpl<K>): void {
  const key = `${name}@${device}`;
  if (registry.has(key)) throw new ValueError(`kernel '${name}' is already registered on ${device}`, 'name');
  registry.set(key, fn as AnyKernel);
}

/** Registers every kernel of a backend on `device`. */
export function registerBackend(device: Device, impls: KernelImpls): void {
  for (const name of Object.keys(impls) as KernelName[]) registerKernel(name, device, impls[name] as KernelImpl<typeof name>);
}

/** Whether a kernel exists for `name` on `device`. */
export function hasKernel(name: string, device: Device): boolean {
  return registry.has(`${name}@${device}`);
}

/** Names of the kernels registered on `device`, sorted. */
export function kernelNames(device: Device): string[] {
  const suffix = `@${device}`;
  return [...registry.keys()]
    .filter((k) => k.endsWith(suffix))
    .map((k) => k.slice(0, -suffix.length))
    .sort();
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

/** The attributes argument of {@link runKernel}: optional when kernel `K` requires none. */
export type KernelAttrsArg<K extends KernelName> = Record<string, never> extends KernelAttrs<K> ? [attrs?: KernelAttrs<K>] : [attrs: KernelAttrs<K>];

/** Runs kernel `name` on the device its inputs live on. */
export function runKernel<K extends KernelName>(name: K, inputs: KernelInputs<K>, ...rest: KernelAttrsArg<K>): KernelOutput<K> {
  const attrs: object = rest[0] ?? {};
  const tensors = inputs as Record<string, Tensor>;
  // Creation kernels have no tensor inputs and name their device in `attrs.device`.
  const device = Object.keys(tensors).length ? commonDevice(tensors) : creationDevice(attrs);
  const fn = registry.get(`${name}@${device}`);
  if (!fn) throw new DeviceError(`no '${name}' kernel is available on ${device}`);
  // Kernels may touch host memory even where tests forbid it elsewhere (see hostAccessGuard);
  // inline rather than through runAsKernel: no closure on the path of every op.
  hostAccessGuard.kernelDepth++;
  try {
    return fn(inputs, attrs) as KernelOutput<K>;
  } finally {
    hostAccessGuard.kernelDepth--;
  }
}

/**
 * Runs `fn`, the CPU implementation of an op written outside the kernel table (a branch taken
 * only for CPU tensors, whose memory is the device memory there), as a kernel: tests that
 * forbid host reads (see hostAccessGuard) allow it, as they allow the table's CPU kernels.
 * Device tensors never reach such a branch.
 */
export function runAsKernel<T>(fn: () => T): T {
  hostAccessGuard.kernelDepth++;
  try {
    return fn();
  } finally {
    hostAccessGuard.kernelDepth--;
  }
}

function creationDevice(attrs: object): Device {
  return 'device' in attrs && attrs.device !== undefined ? (attrs.device as Device) : 'cpu';
}
