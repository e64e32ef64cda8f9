/**
 * CPU implementations of the foundation kernels: thin wrappers that allocate outputs in
 * Node memory and call the native addon. Shape logic lives in the ops; these only check
 * what they need to pass safe sizes down.
 */
import { registerKernel } from '../backend.js';
import { empty, uninitialized } from '../creation.js';
import { native } from '../native.js';
import { shapeSize, type Tensor } from '../tensor.js';

/** Codes shared with native/core/elementwise.h. @internal */
export const UNARY = { neg: 0, relu: 1, sigmoid: 2, tanh: 3, exp: 4, log: 5, sqrt: 6, abs: 7, square: 8, reluGrad: 9 } as const;
/** @internal */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, ge: 7, le: 8 } as const;
export type UnaryName = keyof typeof UNARY;
export type BinaryName = keyof typeof BINARY;

registerKernel('matmul', 'cpu', ({ a, b }, attrs) => {
  const { M, N, K, transA, transB, outShape } = attrs as {
    M: number; N: number; K: number; transA: boolean; transB: boolean; outShape: number[];
  };
  const out = uninitialized(outShape); // beta = 0: every element is written (zeros when K = 0)
  native.sgemm(transA, transB, M, N, K, 1, a.f32('a'), b.f32('b'), 0, out.f32());
  return out;
});

registerKernel('unary', 'cpu', ({ x }, attrs) => {
  const out = uninitialized(x.shape); // every element written
  native.unary(UNARY[attrs.op as UnaryName], x.f32('x'), out.f32(), x.size);
  return out;
});

registerKernel('binary', 'cpu', ({ a, b }, attrs) => {
  const { op, shape, aStrides, bStrides } = attrs as { op: BinaryName; shape: number[]; aStrides: number[]; bStrides: number[] };
  const out = uninitialized(shape); // every element written
  native.binary(BINARY[op], a.f32('a'), aStrides, b.f32('b'), bStrides, out.f32(), shape);
  return out;
});

registerKernel('sumAxis', 'cpu', ({ x }, attrs) => {
  const { outer, len, inner, outShape } = attrs as { outer: number; len: number; inner: number; outShape: number[] };
  const out = empty(outShape);
  native.reduceSum(x.f32('x'), out.f32(), outer, len, inner);
  return out;
});

registerKernel('softmaxRows', 'cpu', ({ x }, attrs) => {
  const out = empty(x.shape);
  native.softmaxRows(x.f32('x'), out.f32(), attrs.rows as number, attrs.cols as number);
  return out;
});

registerKernel('logsumexpRows', 'cpu', ({ x }, attrs) => {
  const out = empty(attrs.outShape as number[]);
  native.logsumexpRows(x.f32('x'), out.f32(), attrs.rows as number, attrs.cols as number);
  return out;
});

registerKernel('l2NormalizeRows', 'cpu', ({ x }, attrs) => {
  const rows = attrs.rows as number;
  const out = empty(x.shape);
  const norms = empty([rows]);
  native.l2NormalizeRows(x.f32('x'), out.f32(), norms.f32(), rows, attrs.cols as number, attrs.eps as number);
  return [out, norms];
});

registerKernel('argReduceRows', 'cpu', ({ x }, attrs) => {
  const out = empty(attrs.outShape as number[], 'int32');
  native.argReduceRows(x.f32('x'), out.i32(), attrs.rows as number, attrs.cols as number, attrs.isMax as boolean);
  return out;
});

registerKernel('gatherRows', 'cpu', ({ table, indices }, attrs) => {
  const [rows, dim] = [table.shape[0], shapeSize(table.shape.slice(1))];
  const out = empty([...indices.shape, ...table.shape.slice(1)]);
  native.gatherRows(table.f32('table'), rows, dim, indices.i32('indices'), out.f32(), (attrs.argName as string) ?? 'indices');
  return out;
});

registerKernel('scatterAddRows', 'cpu', ({ target, indices, source }, attrs) => {
  const rows = target.shape[0];
  const dim = shapeSize(target.shape.slice(1));
  native.scatterAddRows(target.f32('target'), rows, dim, indices.i32('indices'), source.f32('source'), (attrs.argName as string) ?? 'indices');
  return target;
});

registerKernel('axpby', 'cpu', ({ x, y }, attrs) => {
  native.axpby(attrs.alpha as number, x.f32('x'), attrs.beta as number, y.f32('y'), y.size);
  return y;
});

registerKernel('fill', 'cpu', (_inputs, attrs) => {
  const out = empty(attrs.shape as number[], (attrs.dtype as 'float32' | 'int32' | undefined) ?? 'float32');
  if (attrs.value !== 0) out.toTypedArray().fill(attrs.value as number);
  return out;
});

registerKernel('copy', 'cpu', ({ x }) => {
  const out = empty(x.shape, x.dtype);
  out.toTypedArray().set(x.toTypedArray());
  return out;
});


registerKernel('transpose2d', 'cpu', ({ x }) => {
  const [r, c] = x.shape;
  const out = empty([c, r], x.dtype);
  const src = x.toTypedArray();
  const dst = out.toTypedArray();
  const B = 32;
  for (let i0 = 0; i0 < r; i0 += B) {
    for (let j0 = 0; j0 < c; j0 += B) {
      const i1 = Math.min(r, i0 + B), j1 = Math.min(c, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * r + i] = src[i * c + j];
    }
  }
  return out;
});

// Shapes are [outer, axisLen, inner]: each input contributes a contiguous run per outer index.
registerKernel('concat', 'cpu', (inputs, attrs) => {
  const xs = Object.values(inputs);
  const axis = attrs.axis as number;
  const shape = xs[0].shape.slice();
  shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
  const out = empty(shape, xs[0].dtype);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const dst = out.toTypedArray();
  const rowOut = shape[axis] * inner;
  let offset = 0;
  for (const t of xs) {
    const src = t.toTypedArray();
    const run = t.shape[axis] * inner;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * run, (o + 1) * run), o * rowOut + offset);
    offset += run;
  }
  return out;
});

registerKernel('slice', 'cpu', ({ x }, attrs) => {
  const { axis, start, length } = attrs as { axis: number; start: number; length: number };
  const shape = x.shape.slice();
  shape[axis] = length;
  const out = empty(shape, x.dtype);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const src = x.toTypedArray();
  const dst = out.toTypedArray();
  const rowIn = x.shape[axis] * inner;
  const run = length * inner;
  for (let o = 0; o < outer; o++) dst.set(src.subarray(o * rowIn + start * inner, o * rowIn + start * inner + run), o * run);
  return out;
});

// Zero-pads `x` along `axis` to `size`, placing it at offset `before` (the slice gradient).
registerKernel('pad', 'cpu', ({ x }, attrs) => {
  const { axis, before, size } = attrs as { axis: number; before: number; size: number };
  const shape = x.shape.slice();
  shape[axis] = size;
  const out = empty(shape, x.dtype);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const src = x.toTypedArray();
  const dst = out.toTypedArray();
  const run = x.shape[axis] * inner;
  for (let o = 0; o < outer; o++) dst.set(src.subarray(o * run, (o + 1) * run), o * size * inner + before * inner);
  return out;
});
