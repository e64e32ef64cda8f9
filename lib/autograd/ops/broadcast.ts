/** NumPy broadcasting rules shared by the binary ops and their gradients. */
import { ShapeError } from '../../errors.js';

/** The broadcast shape of two shapes, or a ShapeError naming both. */
export function broadcastShapes(a: readonly number[], b: readonly number[], names: [string, string] = ['a', 'b']): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`arguments '${names[0]}' [${a.join(', ')}] and '${names[1]}' [${b.join(', ')}] cannot be broadcast together`, names[1]);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Element strides of `shape` laid out over `outShape` (0 on broadcast dimensions). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = rank - shape.length + i;
    strides[oi] = shape[i] === 1 && outShape[oi] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Axes of `outShape` along which a tensor of `shape` was broadcast. */
export function broadcastAxes(shape: readonly number[], outShape: readonly number[]): number[] {
  const axes: number[] = [];
  const lead = outShape.length - shape.length;
  for (let i = 0; i < outShape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}
