/** Sum and mean over axes, with their gradients (broadcast the upstream gradient back). */
import { ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';
import { binary } from './arith.js';
import { reshape } from './shape.js';

function normAxes(axis: number | number[] | undefined, rank: number): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      throw new ValueError(`argument 'axis' = ${a} is out of range for rank ${rank}`, 'axis');
    }
    return a < 0 ? a + rank : a;
  });
  return [...new Set(out)].sort((x, y) => x - y);
}

/** Sums one axis of `x` with the native kernel, keeping it as size 1. @internal */
function sumOneAxis(x: Tensor, axis: number): Tensor {
  const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const len = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outShape = x.shape.slice();
  outShape[axis] = 1;
  return runKernel('sumAxis', { x }, { outer, len, inner, outShape });
}

/** Sum over `axis` (all axes by default). `keepDims` keeps reduced axes as size 1. */
export function sum(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  x.checkDType('float32', 'x');
  const axes = normAxes(axis, x.rank);
  let y = x;
  if (x.rank === 0) y = runKernel('copy', { x });
  else if (axes.length === x.rank) {
    y = runKernel('sumAxis', { x }, { outer: 1, len: x.size, inner: 1, outShape: x.shape.map(() => 1) });
  } else {
    for (const a of axes) {
      const next = sumOneAxis(y, a);
      if (y !== x) y.dispose();
      y = next;
    }
  }
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const out = y.view(outShape);
  if (y !== x) y.dispose();
  return record('sum', out, [x], (dy) => [broadcastTo(reshape(dy, kept), x.shape)]);
}

/** Mean over `axis` (all axes by default). */
export function mean(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  const axes = normAxes(axis, x.rank);
  // A 0-d tensor has one element; its only axis, 0, is not in its (empty) shape.
  const count = axes.reduce((p, a) => p * (x.rank === 0 ? 1 : x.shape[a]), 1);
  if (count === 0) throw new ValueError("mean(): argument 'x' is empty along the reduced axes", 'x');
  const s = sum(x, axis, keepDims);
  return binary('mul', s, 1 / count);
}

/** `x` repeated along its size-1 (or missing leading) axes to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.join() === shape.join()) return x;
  const zero = runKernel('fill', {}, { shape, value: 0, device: x.device });
  return binary('add', zero, x);
}

/** Sums a broadcast gradient back to `shape`. @internal */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, true), shape);
}
