/** Shape ops: reshape, 2-D transpose, concatenation and slicing along an axis. */
import { DTypeError, ShapeError, ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import { resolveShape, type Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';

/** A view of `x` with a new shape (one entry may be −1). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(shape, x.size);
  const y = x.view(target);
  return record('reshape', y, [x], (dy) => [dy.view(x.shape)]);
}

function normAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ValueError(`argument 'axis' = ${axis} is out of range for rank ${rank}`, 'axis');
  }
  return axis < 0 ? axis + rank : axis;
}

/** Transpose of a 2-D tensor. */
export function transpose(x: Tensor): Tensor {
  if (x.rank !== 2) throw new ShapeError(`transpose(): argument 'x' must be 2-D, got [${x.shape.join(', ')}]`, 'x');
  const y = runKernel('transpose2d', { x });
  return record('transpose', y, [x], (dy) => [runKernel('transpose2d', { x: dy })]);
}

/** Joins tensors along `axis`; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis = -1): Tensor {
  if (!xs.length) throw new ValueError("concat(): argument 'xs' is empty", 'xs');
  const rank = xs[0].rank;
  const ax = normAxis(axis, rank);
  xs.forEach((t, i) => {
    if (t.dtype !== xs[0].dtype) throw new DTypeError(`concat(): xs[${i}] is ${t.dtype} but xs[0] is ${xs[0].dtype}`, `xs[${i}]`);
    if (t.rank !== rank || t.shape.some((d, j) => j !== ax && d !== xs[0].shape[j])) {
      throw new ShapeError(`concat(): xs[${i}] has shape [${t.shape.join(', ')}], incompatible with [${xs[0].shape.join(', ')}] along axis ${ax}`, `xs[${i}]`);
    }
  });
  const inputs: Record<string, Tensor> = {};
  xs.forEach((t, i) => (inputs[`xs[${i}]`] = t));
  const y = runKernel('concat', inputs, { axis: ax });
  return record('concat', y, xs, (dy) => {
    let start = 0;
    return xs.map((t) => {
      const part = t.requiresGrad ? runKernel('slice', { x: dy }, { axis: ax, start, length: t.shape[ax] }) : null;
      start += t.shape[ax];
      return part;
    });
  });
}

/** The part of `x` from `start` (inclusive) of `length` entries along `axis`. */
export function slice(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normAxis(axis, x.rank);
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[ax]) {
    throw new ValueError(`slice(): [${start}, ${start + length}) is outside axis ${ax} of size ${x.shape[ax]}`, 'start');
  }
  const y = runKernel('slice', { x }, { axis: ax, start, length });
  return record('slice', y, [x], (dy) => [runKernel('pad', { x: dy }, { axis: ax, before: start, size: x.shape[ax] })]);
}
