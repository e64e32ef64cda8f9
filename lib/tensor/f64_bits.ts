/**
 * Float64 values kept in int32 tensors as bit pairs (shape [..., 2], the two little-endian
 * halves of each double): tensors have no float64 dtype, and the k-means statistics (cluster
 * sums, objectives) must stay float64 on every device to give the same numbers as a float64
 * host loop.
 * @internal
 */
import type { Device, TypedArray } from './dtype.js';
import { runKernel } from './backend.js';
import type { Tensor } from './tensor.js';

/** A float64 view of the int32 memory of a CPU tensor (for CPU kernels; the memory must be 8-byte aligned, as fresh tensors are). */
export function f64View(a: Int32Array): Float64Array {
  return new Float64Array(a.buffer, a.byteOffset, a.length >> 1);
}

/** The float64 values of a host copy (from `readHost()`) of a float64-bits tensor. */
export function f64FromBits(a: TypedArray): Float64Array {
  const b = a.byteOffset % 8 === 0 ? a : a.slice();
  return new Float64Array(b.buffer, b.byteOffset, b.length >> 1);
}

/** `count` float64 zeros (+0.0 bits) on `device`: int32 [count, 2]. */
export function f64Zeros(count: number, device: Device): Tensor {
  return runKernel('fill', {}, { shape: [count, 2], value: 0, dtype: 'int32', device });
}
