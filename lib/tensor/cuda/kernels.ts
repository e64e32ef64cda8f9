/**
 * CUDA implementations of the kernels the CPU backend registers (lib/tensor/cpu/*.ts), under
 * the same names and with the same inputs, attributes and results, so every op runs
 * unchanged on tensors moved with `.to('cuda')`. Outputs are allocated on the device through
 * the caching allocator; launches are asynchronous on one stream (host copies and kernels
 * that validate indices synchronise).
 * @internal
 */
import { DeviceError, DTypeError, ShapeError } from '../../errors.js';
import { registerKernel } from '../backend.js';
import type { DType } from '../dtype.js';
import { Tensor, shapeSize } from '../tensor.js';
import { UNARY, BINARY, type UnaryName, type BinaryName } from '../cpu/kernels.js';
import type { CachingAllocator } from './allocator.js';
import type { CudaAddon } from './native_cuda.js';
import { CudaStorage } from './storage.js';
import { settings } from './settings.js';

let addon: CudaAddon;
let allocator: CachingAllocator;

/** A new device tensor (contents undefined). */
export function cudaEmpty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(new CudaStorage(allocator, shapeSize(shape) * 4, dtype), shape, dtype);
}

/** Device address of `t`, checked to be a CUDA tensor (of `dtype` when given). */
export function ptr(t: Tensor, arg: string, dtype?: DType): bigint {
  const s = t.storage(arg);
  if (!(s instanceof CudaStorage)) throw new DeviceError(`argument '${arg}' is on ${s.device}, expected cuda`, arg);
  if (dtype && t.dtype !== dtype) throw new DTypeError(`argument '${arg}' must be ${dtype}, got ${t.dtype}`, arg);
  return s.ptr;
}

const f32 = (t: Tensor, arg: string) => ptr(t, arg, 'float32');
const i32 = (t: Tensor, arg: string) => ptr(t, arg, 'int32');
const prod = (a: readonly number[]) => a.reduce((p, d) => p * d, 1);

/**
 * Merges output dimensions a broadcast can walk as one (both inputs contiguous across them)
 * and drops size-1 dimensions, so any rank reaches the device as at most a few dimensions.
 */
export function mergeDims(shape: readonly number[], as: readonly number[], bs: readonly number[]): [number[], number[], number[]] {
  const S: number[] = [], A: number[] = [], B: number[] = [];
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

function rowsDim(t: Tensor): [number, number] {
  const rows = t.shape[0] ?? 1;
  return [rows, rows ? t.size / rows : 0];
}

/** Registers every CUDA kernel against `a` and `alloc`. Called once, when a device exists. */
export function registerCudaKernels(a: CudaAddon, alloc: CachingAllocator): void {
  addon = a;
  allocator = alloc;
  const reg = (name: string, fn: Parameters<typeof registerKernel>[2]) => registerKernel(name, 'cuda', fn);

  reg('matmul', ({ a: x, b: y }, attrs) => {
    const { M, N, K, transA, transB, outShape } = attrs as {
      M: number; N: number; K: number; transA: boolean; transB: boolean; outShape: number[];
    };
    const out = cudaEmpty(outShape);
    addon.sgemm(transA, transB, M, N, K, 1, f32(x, 'a'), f32(y, 'b'), 0, ptr(out, 'out'), settings.gemm === 'builtin');
    return out;
  });

  reg('unary', ({ x }, attrs) => {
    const out = cudaEmpty(x.shape);
    addon.unary(UNARY[attrs.op as UnaryName], f32(x, 'x'), ptr(out, 'out'), x.size);
    return out;
  });

  reg('binary', ({ a: x, b: y }, attrs) => {
    const { op, shape, aStrides, bStrides } = attrs as { op: BinaryName; shape: number[]; aStrides: number[]; bStrides: number[] };
    const out = cudaEmpty(shape);
    const [S, A, B] = mergeDims(shape, aStrides, bStrides);
    if (S.length > 8) throw new ShapeError(`binary(): output [${shape.join(', ')}] has more than 8 non-mergeable dimensions on cuda`, 'shape');
    addon.binary(BINARY[op], f32(x, 'a'), A, f32(y, 'b'), B, ptr(out, 'out'), S);
    return out;
  });

  reg('sumAxis', ({ x }, attrs) => {
    const { outer, len, inner, outShape } = attrs as { outer: number; len: number; inner: number; outShape: number[] };
    const out = cudaEmpty(outShape);
    addon.reduceSum(f32(x, 'x'), ptr(out, 'out'), outer, len, inner);
    return out;
  });

  reg('softmaxRows', ({ x }, attrs) => {
    const out = cudaEmpty(x.shape);
    addon.softmaxRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows as number, attrs.cols as number);
    return out;
  });

  reg('logsumexpRows', ({ x }, attrs) => {
    const out = cudaEmpty(attrs.outShape as number[]);
    addon.logsumexpRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows as number, attrs.cols as number);
    return out;
  });

  reg('l2NormalizeRows', ({ x }, attrs) => {
    const rows = attrs.rows as number;
    const out = cudaEmpty(x.shape);
    const norms = cudaEmpty([rows]);
    addon.l2NormalizeRows(f32(x, 'x'), ptr(out, 'out'), ptr(norms, 'norms'), rows, attrs.cols as number, attrs.eps as number);
    return [out, norms];
  });

  reg('argReduceRows', ({ x }, attrs) => {
    const out = cudaEmpty(attrs.outShape as number[], 'int32');
    addon.argReduceRows(f32(x, 'x'), ptr(out, 'out'), attrs.rows as number, attrs.cols as number, attrs.isMax as boolean);
    return out;
  });

  reg('gatherRows', ({ table, indices }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const out = cudaEmpty([...indices.shape, ...table.shape.slice(1)]);
    addon.gatherRows(f32(table, 'table'), rows, dim, i32(indices, 'indices'), indices.size, ptr(out, 'out'),
      (attrs.argName as string) ?? 'indices');
    return out;
  });

  reg('gatherRowsPadded', ({ table, indices }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const out = cudaEmpty([...indices.shape, ...table.shape.slice(1)]);
    addon.gatherRows(f32(table, 'table'), rows, dim, i32(indices, 'indices'), indices.size, ptr(out, 'out'),
      (attrs.argName as string) ?? 'indices', true);
    return out;
  });

  const scatter = (target: Tensor, indices: Tensor, source: Tensor, argName: string, atomic: boolean) => {
    const [rows, dim] = rowsDim(target);
    addon.scatterAddRows(f32(target, 'target'), rows, dim, i32(indices, argName), indices.size, f32(source, 'source'), atomic, argName);
    return target;
  };
  reg('scatterAddRows', ({ target, indices, source }, attrs) =>
    scatter(target, indices, source, (attrs.argName as string) ?? 'indices', settings.scatter === 'atomic'));
  // In-place index_add_: always the sorted (bit-exact with the CPU loop) path.
  reg('indexAdd', ({ target, indices, source }, attrs) =>
    scatter(target, indices, source, (attrs.argName as string) ?? 'indices', false));

  reg('axpby', ({ x, y }, attrs) => {
    addon.axpby(attrs.alpha as number, f32(x, 'x'), attrs.beta as number, f32(y, 'y'), y.size);
    return y;
  });

  reg('fill', (_inputs, attrs) => {
    const dtype = (attrs.dtype as DType | undefined) ?? 'float32';
    const out = cudaEmpty(attrs.shape as number[], dtype);
    addon.fill(ptr(out, 'out'), out.size, attrs.value as number, dtype === 'int32');
    return out;
  });

  reg('copy', ({ x }) => {
    const out = cudaEmpty(x.shape, x.dtype);
    addon.copy(ptr(out, 'out'), ptr(x, 'x'), x.size * 4);
    return out;
  });

  reg('transpose2d', ({ x }) => {
    const [r, c] = x.shape;
    const out = cudaEmpty([c, r], x.dtype);
    addon.transpose2d(ptr(x, 'x'), ptr(out, 'out'), r, c);
    return out;
  });

  // concat/slice/pad are strided 2-D copies over [outer, axisLen * inner] (cudaMemcpy2D).
  reg('concat', (inputs, attrs) => {
    const xs = Object.values(inputs);
    const axis = attrs.axis as number;
    const shape = xs[0].shape.slice();
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    const out = cudaEmpty(shape, xs[0].dtype);
    const outer = prod(shape.slice(0, axis));
    const inner = prod(shape.slice(axis + 1));
    const rowOut = shape[axis] * inner * 4;
    let offset = 0;
    xs.forEach((t, i) => {
      const run = t.shape[axis] * inner * 4;
      addon.copy2d(ptr(out, 'out'), offset, rowOut, ptr(t, Object.keys(inputs)[i]), 0, run, run, outer);
      offset += run;
    });
    return out;
  });

  reg('slice', ({ x }, attrs) => {
    const { axis, start, length } = attrs as { axis: number; start: number; length: number };
    const shape = x.shape.slice();
    shape[axis] = length;
    const out = cudaEmpty(shape, x.dtype);
    const outer = prod(shape.slice(0, axis));
    const inner = prod(shape.slice(axis + 1));
    const run = length * inner * 4;
    addon.copy2d(ptr(out, 'out'), 0, run, ptr(x, 'x'), start * inner * 4, x.shape[axis] * inner * 4, run, outer);
    return out;
  });

  // Column concat/slice of [rows, c] matrices (the ranker's feature assembly).
  reg('concatColumns', (inputs, attrs) => {
    const xs = Object.values(inputs);
    const names = Object.keys(inputs);
    const { rows, outShape } = attrs as { rows: number; outShape: number[] };
    const cols = xs.reduce((s, t) => s + t.size / Math.max(rows, 1), 0);
    const out = cudaEmpty(outShape);
    let off = 0;
    xs.forEach((t, i) => {
      const w = rows ? t.size / rows : 0;
      addon.copy2d(ptr(out, 'out'), off * 4, cols * 4, f32(t, names[i]), 0, w * 4, w * 4, rows);
      off += w;
    });
    return out;
  });

  reg('sliceColumns', ({ x }, attrs) => {
    const { rows, cols, start, width, outShape } = attrs as { rows: number; cols: number; start: number; width: number; outShape: number[] };
    const out = cudaEmpty(outShape);
    addon.copy2d(ptr(out, 'out'), 0, width * 4, f32(x, 'x'), start * 4, cols * 4, width * 4, rows);
    return out;
  });

  reg('pad', ({ x }, attrs) => {
    const { axis, before, size } = attrs as { axis: number; before: number; size: number };
    const shape = x.shape.slice();
    shape[axis] = size;
    const out = cudaEmpty(shape, x.dtype);
    const outer = prod(shape.slice(0, axis));
    const inner = prod(shape.slice(axis + 1));
    const run = x.shape[axis] * inner * 4;
    addon.memsetZero(ptr(out, 'out'), out.size * 4);
    addon.copy2d(ptr(out, 'out'), before * inner * 4, size * inner * 4, ptr(x, 'x'), 0, run, run, outer);
    return out;
  });

  reg('sgdUpdate', ({ param, grad, velocity }, attrs) => {
    const { lr, momentum, weightDecay, nesterov } = attrs as { lr: number; momentum: number; weightDecay: number; nesterov: boolean };
    addon.sgdUpdate(f32(param, 'param'), f32(grad, 'grad'), velocity ? f32(velocity, 'velocity') : null, param.size, lr,
      momentum, weightDecay, nesterov);
    return param;
  });

  reg('adamUpdate', ({ param, grad, m, v }, attrs) => {
    const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs as {
      lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; step: number;
    };
    addon.adamUpdate(f32(param, 'param'), f32(grad, 'grad'), f32(m, 'm'), f32(v, 'v'), param.size, lr, beta1, beta2, eps,
      weightDecay, decoupled, step);
    return param;
  });

  // ---- quantisation ----
  const nearest = (x: Tensor, codebook: Tensor, attrs: Record<string, unknown>) => {
    const { k, metric } = attrs as { k: number; metric: string };
    const [N, D] = x.shape;
    const K = codebook.shape[0];
    const indices = cudaEmpty([N, k], 'int32');
    const distances = cudaEmpty([N, k]);
    const tf32 = ((attrs.variant as string | undefined) ?? settings.nearest) === 'tf32';
    try {
      addon.nearest(f32(x, 'x'), N, D, f32(codebook, 'codebook'), K, k, metric, ptr(indices, 'indices'),
        ptr(distances, 'distances'), tf32, (attrs.candidates as number | undefined) ?? settings.nearestCandidates);
    } catch (e) {
      indices.dispose();
      distances.dispose();
      throw e;
    }
    return { indices, distances };
  };
  reg('nearest', ({ x, codebook }, attrs) => nearest(x, codebook, attrs));
  reg('nearestAsync', ({ x, codebook }, attrs) => {
    try {
      return Promise.resolve(nearest(x, codebook, attrs));
    } catch (e) {
      return Promise.reject(e);
    }
  });

  reg('kmeansUpdate', ({ x, assignments, centroids }) => {
    const K = centroids.shape[0];
    const counts = cudaEmpty([K], 'int32');
    addon.kmeansUpdate(f32(x, 'x'), x.shape[0], x.shape[1], i32(assignments, 'assignments'), K, f32(centroids, 'centroids'),
      ptr(counts, 'counts'));
    return counts;
  });

  reg('rvqLevelForward', ({ residual, codebook, codes, quantized, next }) =>
    addon.rvqLevelForward(f32(residual, 'residual'), f32(codebook, 'codebook'), codebook.shape[0], codebook.shape[1],
      i32(codes, 'codes'), residual.shape[0], f32(quantized, 'quantized'), f32(next, 'next')));

  reg('vqScatterAddScaled', ({ grad, codes, rows }, attrs) => {
    addon.vqScatterAddScaled(f32(grad, 'grad'), grad.shape[0], grad.shape[1], i32(codes, 'codes'), codes.size,
      f32(rows, 'rows'), attrs.scale as number);
    return grad;
  });

  reg('rvqSteBackward', ({ gradOut, rows }, attrs) => {
    const { levels, shape, scale } = attrs as { levels: number; shape: number[]; scale: number };
    const out = cudaEmpty(shape);
    addon.rvqSteBackward(gradOut ? f32(gradOut, 'gradOut') : null, rows ? f32(rows, 'rows') : null, levels, out.size, scale,
      ptr(out, 'out'));
    return out;
  });

  reg('vqCodeSums', ({ x, codes }, attrs) => {
    const K = attrs.K as number;
    const counts = cudaEmpty([K]);
    const sums = cudaEmpty([K, x.shape[1]]);
    addon.vqCodeSums(f32(x, 'x'), x.shape[0], x.shape[1], i32(codes, 'codes'), K, ptr(counts, 'counts'), ptr(sums, 'sums'));
    return { counts, sums };
  });

  // ---- embedding tables: row-sparse gradients, bags, sparse optimizers, attention pooling ----
  // Coalescing: the native plan call returns the number of unique rows, which sizes the outputs.
  const coalesce = (indices: Tensor, rows: number, skipNegative: boolean, argName: string, source: Tensor, sourceRows: number,
    rowShape: number[], srcRow: bigint | null, weights: bigint | null): [Tensor, Tensor] => {
    const dim = prod(rowShape);
    const { count, plan } = addon.coalescePlan(i32(indices, argName), indices.size, rows, skipNegative, argName);
    const uniq = cudaEmpty([count], 'int32');
    const values = cudaEmpty([count, ...rowShape]);
    try {
      addon.coalesceReduce(plan, count, f32(source, 'source'), sourceRows, dim, indices.size, srcRow, weights, ptr(uniq, 'out'),
        ptr(values, 'out'));
    } catch (e) {
      uniq.dispose();
      values.dispose();
      throw e;
    }
    return [uniq, values];
  };

  reg('coalesceRows', ({ indices, source }, attrs) => {
    const { rows, rowShape } = attrs as { rows: number; rowShape: number[] };
    return coalesce(indices, rows, (attrs.skipNegative as boolean) ?? false, (attrs.argName as string) ?? 'indices', source,
      indices.size, rowShape, null, null);
  });

  reg('bagBackward', ({ values, offsets, weights, dy }, attrs) => {
    const { rows, rowShape, mean } = attrs as { rows: number; rowShape: number[]; mean: boolean };
    const nv = values.size, nbags = offsets.size - 1;
    // Released right after the launches: later work on the stream is ordered after them.
    const bagOf = cudaEmpty([nv], 'int32');
    const scale = cudaEmpty([nv]);
    try {
      addon.bagWeights(i32(offsets, 'offsets'), nbags, nv, weights ? f32(weights, 'weights') : null, mean, ptr(bagOf, 'out'),
        ptr(scale, 'out'));
      return coalesce(values, rows, false, (attrs.argName as string) ?? 'values', dy, nbags, rowShape, ptr(bagOf, 'out'),
        ptr(scale, 'out'));
    } finally {
      bagOf.dispose();
      scale.dispose();
    }
  });

  reg('bagPool', ({ table, values, offsets, weights }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const nbags = offsets.size - 1;
    const out = cudaEmpty([nbags, ...table.shape.slice(1)]);
    const argName = (attrs.argName as string) ?? 'values';
    try {
      addon.bagPool(f32(table, 'table'), rows, dim, i32(values, argName), values.size, i32(offsets, 'offsets'), nbags,
        weights ? f32(weights, 'weights') : null, attrs.mean as boolean, ptr(out, 'out'), argName);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  });

  reg('sparseAdamUpdate', ({ param, m, v, indices, grad }, attrs) => {
    const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs as {
      lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; step: number;
    };
    const [rows, dim] = rowsDim(param);
    addon.sparseAdam(f32(param, 'param'), f32(m, 'm'), f32(v, 'v'), rows, dim, i32(indices, 'indices'), indices.size,
      f32(grad, 'grad'), lr, beta1, beta2, eps, weightDecay, decoupled, step);
    return param;
  });

  reg('rowwiseAdagradUpdate', ({ param, state, indices, grad }, attrs) => {
    const { lr, eps, weightDecay } = attrs as { lr: number; eps: number; weightDecay: number };
    const [rows, dim] = rowsDim(param);
    addon.rowwiseAdagrad(f32(param, 'param'), f32(state, 'state'), rows, dim, i32(indices, 'indices'), indices.size,
      f32(grad, 'grad'), lr, eps, weightDecay);
    return param;
  });

  reg('weightedPool', ({ w, k }) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const out = cudaEmpty([B, M, D]);
    addon.weightedPool(f32(w, 'w'), f32(k, 'k'), ptr(out, 'out'), B, M, H, D);
    return out;
  });

  reg('weightedPoolBackward', ({ w, k, dout }, attrs) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const dw = attrs.needW ? cudaEmpty(w.shape) : null;
    const dk = attrs.needK ? cudaEmpty(k.shape) : null;
    addon.weightedPoolBackward(f32(w, 'w'), f32(k, 'k'), f32(dout, 'dout'), dw ? ptr(dw, 'dw') : null, dk ? ptr(dk, 'dk') : null,
      B, M, H, D);
    return [dw, dk];
  });
}
