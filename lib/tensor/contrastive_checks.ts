/**
 * Argument checks of the fused InfoNCE kernels, shared by the CPU and CUDA backends.
 * @internal
 */
import { ShapeError } from '../errors.js';
import type { Tensor } from './tensor.js';

/** b of a square [b, b] matrix argument. */
export function squareSide(t: Tensor, name: string): number {
  if (t.rank !== 2 || t.shape[0] !== t.shape[1]) throw new ShapeError(`argument '${name}' must be [b, b], got [${t.shape.join(', ')}]`, name);
  return t.shape[0];
}

/** Checks that `t` has `size` elements. */
export function checkSize(t: Tensor, size: number, name: string): void {
  if (t.size !== size) throw new ShapeError(`argument '${name}' must have ${size} values, got [${t.shape.join(', ')}]`, name);
}
