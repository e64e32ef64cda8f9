/**
 * CPU implementations of the foundation kernels: thin wrappers that allocate outputs in
 * Node memory and call the native addon. Shape logic lives in the ops; these only check
 * what they need to pass safe sizes down.
 */
import { empty, uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { BINARY, UNARY } from '../op_codes.js';
import { checkCopyInto, resizeAxis, shapeSize } from '../tensor.js';

/** Dense math, creation, copies and shapes on the CPU. @internal */
export const cpuDenseKernels = {
  matmul: ({ a, b }, attrs) => {
    const { M, N, K, transA, transB, outShape } = attrs;
    const out = uninitialized(outShape); // beta = 0: every element is written (zeros when K = 0)
    native.sgemm(transA, transB, M, N, K, 1, a.f32('a'), b.f32('b'), 0, out.f32());
    return out;
  },

  unary: ({ x }, attrs) => {
    const out = uninitialized(x.shape); // every element written
    native.unary(UNARY[attrs.op], x.f32('x'), out.f32(), x.size);
    return out;
  },

  binary: ({ a, b }, attrs) => {
    const { op, shape, aStrides, bStrides } = attrs;
    const out = uninitialized(shape); // every element written
    native.binary(BINARY[op], a.f32('a'), aStrides, b.f32('b'), bStrides, out.f32(), shape);
    return out;
  },

  sumAxis: ({ x }, attrs) => {
    const { outer, len, inner, outShape } = attrs;
    const out = empty(outShape);
    native.reduceSum(x.f32('x'), out.f32(), outer, len, inner);
    return out;
  },

  softmaxRows: ({ x }, attrs) => {
    const out = empty(x.shape);
    native.softmaxRows(x.f32('x'), out.f32(), attrs.rows, attrs.cols);
    return out;
  },

  logsumexpRows: ({ x }, attrs) => {
    const out = empty(attrs.outShape);
    native.logsumexpRows(x.f32('x'), out.f32(), attrs.rows, attrs.cols);
    return out;
  },

  l2NormalizeRows: ({ x }, attrs) => {
    const rows = attrs.rows;
    const out = empty(x.shape);
    const norms = empty([rows]);
    native.l2NormalizeRows(x.f32('x'), out.f32(), norms.f32(), rows, attrs.cols, attrs.eps);
    return [out, norms];
  },

  clampNorms: ({ norms }, { eps }) => {
    const clamped = uninitialized(norms.shape); // every element written
    const mask = uninitialized(norms.shape);
    native.clampNorms(norms.f32('norms'), norms.size, eps, clamped.f32(), mask.f32());
    return [clamped, mask];
  },

  argReduceRows: ({ x }, attrs) => {
    const out = empty(attrs.outShape, 'int32');
    native.argReduceRows(x.f32('x'), out.i32(), attrs.rows, attrs.cols, attrs.isMax);
    return out;
  },

  gatherRows: ({ table, indices }, attrs) => {
    const [rows, dim] = [table.shape[0], shapeSize(table.shape.slice(1))];
    const out = empty([...indices.shape, ...table.shape.slice(1)]);
    native.gatherRows(table.f32('table'), rows, dim, indices.i32('indices'), out.f32(), attrs.argName ?? 'indices');
    return out;
  },

  scatterAddRows: ({ target, indices, source }, attrs) => {
    const rows = target.shape[0];
    const dim = shapeSize(target.shape.slice(1));
    native.scatterAddRows(target.f32('target'), rows, dim, indices.i32('indices'), source.f32('source'), attrs.argName ?? 'indices');
    return target;
  },

  axpby: ({ x, y }, attrs) => {
    native.axpby(attrs.alpha, x.f32('x'), attrs.beta, y.f32('y'), y.size);
    return y;
  },

  fill: (_inputs, attrs) => {
    const out = empty(attrs.shape, attrs.dtype ?? 'float32');
    if (attrs.value !== 0) out.toTypedArray().fill(attrs.value);
    return out;
  },

  copy: ({ x }) => {
    const out = empty(x.shape, x.dtype);
    out.toTypedArray().set(x.toTypedArray());
    return out;
  },

  copyInto: ({ x, out }) => {
    checkCopyInto(x, out);
    out.toTypedArray().set(x.toTypedArray());
    return out;
  },

  transpose2d: ({ x }) => {
    const [r, c] = x.shape;
    const out = empty([c, r], x.dtype);
    const src = x.toTypedArray();
    const dst = out.toTypedArray();
    const B = 32;
    for (let i0 = 0; i0 < r; i0 += B) {
      for (let j0 = 0; j0 < c; j0 += B) {
        const i1 = Math.min(r, i0 + B),
          j1 = Math.min(c, j0 + B);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * r + i] = src[i * c + j];
      }
    }
    return out;
  },

  // Shapes are [outer, axisLen, inner]: each input contributes a contiguous run per outer index.
  concat: (inputs, attrs) => {
    const xs = Object.values(inputs);
    const { axis } = attrs;
    const { shape, outer, inner } = resizeAxis(
      xs[0].shape,
      axis,
      xs.reduce((s, t) => s + t.shape[axis], 0),
    );
    const out = empty(shape, xs[0].dtype);
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
  },

  slice: ({ x }, attrs) => {
    const { axis, start, length } = attrs;
    const { shape, outer, inner } = resizeAxis(x.shape, axis, length);
    const out = empty(shape, x.dtype);
    const src = x.toTypedArray();
    const dst = out.toTypedArray();
    const rowIn = x.shape[axis] * inner;
    const run = length * inner;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * rowIn + start * inner, o * rowIn + start * inner + run), o * run);
    return out;
  },

  // Zero-pads `x` along `axis` to `size`, placing it at offset `before` (the slice gradient).
  pad: ({ x }, attrs) => {
    const { axis, before, size } = attrs;
    const { shape, outer, inner } = resizeAxis(x.shape, axis, size);
    const out = empty(shape, x.dtype);
    const src = x.toTypedArray();
    const dst = out.toTypedArray();
    const run = x.shape[axis] * inner;
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * run, (o + 1) * run), o * size * inner + before * inner);
    return out;
  },
} satisfies KernelGroup;
