/**
 * What every CUDA kernel file needs: the allocator outputs come from and checked device
 * addresses of the inputs.
 * @internal
 */
import { DeviceError, DTypeError } from '../../errors.js';
import type { DType } from '../dtype.js';
import { Tensor, shapeSize } from '../tensor.js';
import type { CachingAllocator } from './allocator.js';
import { CudaStorage } from './storage.js';

let allocator: CachingAllocator | null = null;

/** Sets the allocator device tensors come from; called once, when a device exists. */
export function bindAllocator(alloc: CachingAllocator): void {
  allocator = alloc;
}

/** A new device tensor (contents undefined). */
export function cudaEmpty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  if (!allocator) throw new DeviceError('the CUDA backend is not started');
  return new Tensor(new CudaStorage(allocator, shapeSize(shape) * 4, dtype), shape, dtype);
}

/** Device address of `t`, checked to be a CUDA tensor (of `dtype` when given). */
export function ptr(t: Tensor, arg: string, dtype?: DType): bigint {
  const s = t.storage(arg);
  if (!(s instanceof CudaStorage)) throw new DeviceError(`argument '${arg}' is on ${s.device}, expected cuda`, arg);
  if (dtype && t.dtype !== dtype) throw new DTypeError(`argument '${arg}' must be ${dtype}, got ${t.dtype}`, arg);
  return s.ptr;
}

export const f32 = (t: Tensor, arg: string): bigint => ptr(t, arg, 'float32');
export const i32 = (t: Tensor, arg: string): bigint => ptr(t, arg, 'int32');
export const prod = (a: readonly number[]): number => a.reduce((p, d) => p * d, 1);

/** [rows, elements per row] of a table. */
export function rowsDim(t: Tensor): [number, number] {
  // The width comes from the shape: a 0-row table still has width D (see the CPU rowsDim).
  return [t.shape[0] ?? 1, prod(t.shape.slice(1))];
}
