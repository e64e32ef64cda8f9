/**
 * CUDA implementations of the dense kernels (lib/tensor/cpu/kernels.ts on the CPU): math,
 * creation, copies, shapes and rows by index (column-block copies: column_kernels.ts). Outputs are allocated on the device through
 * the caching allocator; launches are asynchronous on one stream (host copies and kernels
 * that validate indices synchronise).
 * @internal
 */
import { ShapeError } from '../../errors.js';
import type { KernelGroup } from '../kernel_table.js';
import { BINARY, UNARY } from '../op_codes.js';
import { checkCopyInto, resizeAxis, type Tensor } from '../tensor.js';
import { cudaEmpty, f32, i32, ptr, rowsDim } from './context.js';
import type { CudaAddon } from './native_cuda.js';
import { settings } from './settings.js';

/**
 * Merges output dimensions a broadcast can walk as one (both inputs contiguous across them)
 * and drops size-1 dimensions, so any rank reaches the device as at most a few dimensions.
 */
export function mergeDims(shape: readonly number[], as: readonly number[], bs: readonly number[]): [number[], number[], number[]] {
  const S: number[] = [],
    A: number[] = [],
    B: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const n = S.length;
    if (n && A[n - 1] === as[d] * shape[d] && B[n - 1] === bs[d] * shape[d]) {
      S[n - 1] *= shape[d];
      A[n - 1] = as[d];
      B[n - 1] = bs[d];
    } else {
      S.push(shape[d]);
      A.push(as[d]);
      B.push(bs[d]);
    }
  }
  if (!S.length) return [[1], [0], [0]];
  return [S, A, B];
}

/** The dense kernels on CUDA, against `addon`. */
export function cudaDenseKernels(addon: CudaAddon) {
  const scatter = (target: Tensor, indices: Tensor, source: Tensor, argName: string, atomic: boolean) => {
    const [rows, dim] = rowsDim(target);
    addon.scatterAddRows(f32(target, 'target'), rows, dim, i32(indices, argName), indices.size, f32(source, 'source'), atomic, argName);
    return target;
  };

  return {
    matmul: ({ a: x, b: y }, attrs) => {
      const { M, N, K, transA, transB, outShape } = attrs;
      const out = cudaEmpty(outShape);
      addon.sgemm(transA, transB, M, N, K, 1, f32(x, 'a'), f32(y, 'b'), 0, ptr(out, 'out'), settings.gemm === 'builtin');
      return out;
    },

    unary: ({ x }, attrs) => {
      const out = cudaEmpty(x.shape);
      addon.unary(UNARY[attrs.op], f32(x, 'x'), ptr(out, 'out'), x.size);
      return out;
    },

    binary: ({ a: x, b: y }, attrs) => {
      const { op, shape, aStrides, bStrides } = attrs;
      const out = cudaEmpty(shape);
      const [S, A, B] = mergeDims(shape, aStrides, bStrides);
      if (S.length > 8) throw new ShapeError(`binary(): output [${shape.join(', ')}] has more than 8 non-mergeable dimensions on cuda`, 'shape');
      addon.binary(BINARY[op], f32(x, 'a'), A, f32(y, 'b'), B, ptr(out, 'out'), S);
      return out;
    },

    sumAxis: ({ x }, attrs) => {
      const { outer, len, inner, outShape } = attrs;
      const out = cudaEmpty(outShape);
      addon.reduceSum(f32(x, 'x'), ptr(out, 'out'), outer, len, inner);
      return out;
    },

    softmaxRows: ({ x }, attrs) => {
      const out = cudaEmpty(x.shape);
      addon.softmaxRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows, attrs.cols);
      return out;
    },

    logsumexpRows: ({ x }, attrs) => {
      const out = cudaEmpty(attrs.outShape);
      addon.logsumexpRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows, attrs.cols);
      return out;
    },

    l2NormalizeRows: ({ x }, attrs) => {
      const rows = attrs.rows;
      const out = cudaEmpty(x.shape);
      const norms = cudaEmpty([rows]);
      addon.l2NormalizeRows(f32(x, 'x'), ptr(out, 'out'), ptr(norms, 'norms'), rows, attrs.cols, attrs.eps);
      return [out, norms];
    },

    clampNorms: ({ norms }, { eps }) => {
      const clamped = cudaEmpty(norms.shape);
      const mask = cudaEmpty(norms.shape);
      addon.clampNorms(f32(norms, 'norms'), norms.size, eps, ptr(clamped, 'clamped'), ptr(mask, 'mask'));
      return [clamped, mask];
    },

    argReduceRows: ({ x }, attrs) => {
      const out = cudaEmpty(attrs.outShape, 'int32');
      addon.argReduceRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows, attrs.cols, attrs.isMax);
      return out;
    },

    gatherRows: ({ table, indices }, attrs) => {
      const [rows, dim] = rowsDim(table);
      const out = cudaEmpty([...indices.shape, ...table.shape.slice(1)]);
      addon.gatherRows(f32(table, 'table'), rows, dim, i32(indices, 'indices'), indices.size, ptr(out, 'out'), attrs.argName ?? 'indices');
      return out;
    },

    gatherRowsPadded: ({ table, indices }, attrs) => {
      const [rows, dim] = rowsDim(table);
      const out = cudaEmpty([...indices.shape, ...table.shape.slice(1)]);
      addon.gatherRows(f32(table, 'table'), rows, dim, i32(indices, 'indices'), indices.size, ptr(out, 'out'), attrs.argName ?? 'indices', true);
      return out;
    },

    scatterAddRows: ({ target, indices, source }, attrs) => scatter(target, indices, source, attrs.argName ?? 'indices', settings.scatter === 'atomic'),
    // In-place index_add_: always the sorted (bit-exact with the CPU loop) path.
    indexAdd: ({ target, indices, source }, attrs) => scatter(target, indices, source, attrs.argName ?? 'indices', false),

    axpby: ({ x, y }, attrs) => {
      addon.axpby(attrs.alpha, f32(x, 'x'), attrs.beta, f32(y, 'y'), y.size);
      return y;
    },

    fill: (_inputs, attrs) => {
      const dtype = attrs.dtype ?? 'float32';
      const out = cudaEmpty(attrs.shape, dtype);
      addon.fill(ptr(out, 'out'), out.size, attrs.value, dtype === 'int32');
      return out;
    },

    copy: ({ x }) => {
      const out = cudaEmpty(x.shape, x.dtype);
      addon.copy(ptr(out, 'out'), ptr(x, 'x'), x.size * 4);
      return out;
    },

    copyInto: ({ x, out }) => {
      checkCopyInto(x, out);
      addon.copy(ptr(out, 'out'), ptr(x, 'x'), x.size * 4);
      return out;
    },

    transpose2d: ({ x }) => {
      const [r, c] = x.shape;
      const out = cudaEmpty([c, r], x.dtype);
      addon.transpose2d(ptr(x, 'x'), ptr(out, 'out'), r, c);
      return out;
    },

    // concat/slice/pad are strided 2-D copies over [outer, axisLen * inner] (cudaMemcpy2D).
    concat: (inputs, attrs) => {
      const xs = Object.values(inputs);
      const axis = attrs.axis;
      const { shape, outer, inner } = resizeAxis(
        xs[0].shape,
        axis,
        xs.reduce((s, t) => s + t.shape[axis], 0),
      );
      const out = cudaEmpty(shape, xs[0].dtype);
      const rowOut = shape[axis] * inner * 4;
      let offset = 0;
      xs.forEach((t, i) => {
        const run = t.shape[axis] * inner * 4;
        addon.copy2d(ptr(out, 'out'), offset, rowOut, ptr(t, Object.keys(inputs)[i]), 0, run, run, outer);
        offset += run;
      });
      return out;
    },

    slice: ({ x }, attrs) => {
      const { axis, start, length } = attrs;
      const { shape, outer, inner } = resizeAxis(x.shape, axis, length);
      const out = cudaEmpty(shape, x.dtype);
      const run = length * inner * 4;
      addon.copy2d(ptr(out, 'out'), 0, run, ptr(x, 'x'), start * inner * 4, x.shape[axis] * inner * 4, run, outer);
      return out;
    },

    pad: ({ x }, attrs) => {
      const { axis, before, size } = attrs;
      const { shape, outer, inner } = resizeAxis(x.shape, axis, size);
      const out = cudaEmpty(shape, x.dtype);
      const run = x.shape[axis] * inner * 4;
      addon.memsetZero(ptr(out, 'out'), out.size * 4);
      addon.copy2d(ptr(out, 'out'), before * inner * 4, size * inner * 4, ptr(x, 'x'), 0, run, run, outer);
      return out;
    },
  } satisfies KernelGroup;
}
