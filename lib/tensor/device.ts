/**
 * Which devices this process can use. 'cpu' always; 'cuda' once the optional CUDA backend
 * (lib/tensor/cuda/) found its addon and a device. Kept apart from the backend so that
 * `Tensor.to()` can name the reason a device is missing without importing CUDA code.
 */
import { DeviceError } from '../errors.js';
import type { Device } from './dtype.js';

const KNOWN: readonly Device[] = ['cpu', 'cuda'];
const status: Record<Device, { available: boolean; reason: string }> = {
  cpu: { available: true, reason: '' },
  cuda: { available: false, reason: 'the CUDA backend is not loaded' },
};

/** Records whether `device` can be used, and why not. @internal */
export function setDeviceStatus(device: Device, available: boolean, reason = ''): void {
  status[device] = { available, reason };
}

/** The devices tensors can be placed on here, e.g. `['cpu']` or `['cpu', 'cuda']`. */
export function devices(): Device[] {
  return KNOWN.filter((d) => status[d].available);
}

/** Why `device` is unavailable ('' when it is available). */
export function deviceUnavailableReason(device: Device): string {
  return status[device]?.available ? '' : (status[device]?.reason ?? `unknown device '${String(device)}'`);
}

/** Checks that `device` names a known, available device; throws DeviceError naming `argument`. */
export function checkDevice(device: unknown, argument = 'device'): Device {
  if (!KNOWN.includes(device as Device)) {
    throw new DeviceError(`argument '${argument}' must be 'cpu' or 'cuda', got ${String(device)}`, argument);
  }
  const d = device as Device;
  if (!status[d].available) {
    throw new DeviceError(`argument '${argument}': device '${d}' is not available (${status[d].reason}); available: ${devices().join(', ')}`, argument);
  }
  return d;
}
