/**
 * CPU kernels of embedding tables: in-place index-add, row-sparse gradient reduction
 * (coalesce), pooled bags and the fused row-sparse optimizer steps. Thin wrappers over
 * native/binding/bind_embedding.cc.
 */
import { uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';

declare module '../native.js' {
  interface NativeAddon {
    indexAdd(target: Float32Array, rows: number, dim: number, indices: Int32Array, source: Float32Array, argName?: string): void;
    gatherRowsPadded(table: Float32Array, rows: number, dim: number, indices: Int32Array, out: Float32Array, argName?: string): void;
    coalesceRows(indices: Int32Array, rows: number, dim: number, source: Float32Array, argName?: string,
      skipNegative?: boolean): [Int32Array, Float32Array];
    tbeForward(tables: Float32Array[], rows: number[], ids: Int32Array[], group: number[], G: number, n: number, dim: number,
      out: Float32Array, argName?: string): void;
    coalesceStrided(indices: Int32Array, rows: number, dim: number, source: Float32Array, stride: number, offset: number,
      argName?: string): [Int32Array, Float32Array];
    bagPool(table: Float32Array, rows: number, dim: number, values: Int32Array, offsets: Int32Array,
      weights: Float32Array | null, mean: boolean, out: Float32Array, argName?: string): void;
    bagBackward(values: Int32Array, offsets: Int32Array, weights: Float32Array | null, mean: boolean, rows: number,
      dim: number, dy: Float32Array, argName?: string): [Int32Array, Float32Array];
    sparseAdam(param: Float32Array, m: Float32Array, v: Float32Array, rows: number, dim: number, indices: Int32Array,
      grad: Float32Array, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
      decoupled: boolean, step: number): void;
    rowwiseAdagrad(param: Float32Array, state: Float32Array, rows: number, dim: number, indices: Int32Array,
      grad: Float32Array, lr: number, eps: number, weightDecay: number): void;
    dinScoresForward(q: Float32Array, k: Float32Array, W1: Float32Array, b1: Float32Array, w2: Float32Array, b2: number, act: number,
      B: number, H: number, K: number, A: number, scores: Float32Array): void;
    dinScoresBackward(q: Float32Array, k: Float32Array, W1: Float32Array, b1: Float32Array, w2: Float32Array, dscores: Float32Array,
      act: number, B: number, H: number, K: number, A: number, dq: Float32Array | null, dk: Float32Array | null, dW1: Float32Array,
      db1: Float32Array, dw2: Float32Array, db2: Float32Array): void;
    dinAttentionPool(rep: Float32Array, B: number, H: number, K: number, masks: Float32Array, M: number, W1: Float32Array,
      b1: Float32Array, w2: Float32Array, b2: number, act: number, A: number, pooled: Float32Array, keep?: boolean): Float32Array | undefined;
    dinAttentionPoolBackward(rep: Float32Array, B: number, H: number, K: number, masks: Float32Array, M: number, W1: Float32Array,
      b1: Float32Array, w2: Float32Array, b2: number, act: number, A: number, dpooled: Float32Array, drep: Float32Array | null,
      dW1: Float32Array, db1: Float32Array, dw2: Float32Array, db2: Float32Array, cache?: Float32Array | null): void;
    copyColumns(src: Float32Array, rows: number, srcCols: number, srcOff: number, dst: Float32Array, dstCols: number, dstOff: number,
      width: number): void;
    weightedPool(w: Float32Array, k: Float32Array, out: Float32Array, B: number, M: number, H: number, D: number): void;
    weightedPoolBackward(w: Float32Array, k: Float32Array, dout: Float32Array, dw: Float32Array | null, dk: Float32Array | null,
      B: number, M: number, H: number, D: number): void;
  }
}

const ACT = { sigmoid: 0, relu: 1 } as const;

// The scorer activations a forward kept in `attrs.cache`, when it ran on this backend.
const cachedScores = (cache: { value?: unknown } | undefined) => (cache?.value instanceof Float32Array ? cache.value : null);

function rowsDim(t: Tensor): [number, number] {
  // The row width comes from the shape, not size / rows: a table with 0 rows still has width D,
  // and its bags (all empty) must be [B, D] zeros, not a tensor with no data.
  return [t.shape[0] ?? 1, t.shape.slice(1).reduce((p, d) => p * d, 1)];
}

/** Embedding-table, column and attention kernels on the CPU. @internal */
export const cpuEmbeddingKernels = {
  indexAdd: ({ target, indices, source }, attrs) => {
    const [rows, dim] = rowsDim(target);
    native.indexAdd(target.f32('target'), rows, dim, indices.i32('indices'), source.f32('source'), attrs.argName ?? 'indices');
    return target;
  },

  // Rows of `table` at `indices`, zeros where an index is negative (padding).
  gatherRowsPadded: ({ table, indices }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const out = Tensor.fromArray(new Float32Array(indices.size * dim), [...indices.shape, ...table.shape.slice(1)], 'float32');
    native.gatherRowsPadded(table.f32('table'), rows, dim, indices.i32('indices'), out.f32(), attrs.argName ?? 'indices');
    return out;
  },

  // Unique ascending rows of `indices` and the summed `source` rows of each: [indices, values].
  coalesceRows: ({ indices, source }, attrs) => {
    const { rows, rowShape } = attrs;
    const dim = rowShape.reduce((p, d) => p * d, 1);
    const [u, v] = native.coalesceRows(indices.i32('indices'), rows, dim, source.f32('source'), attrs.argName ?? 'indices',
      attrs.skipNegative ?? false);
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, ...rowShape], 'float32')];
  },

  bagPool: ({ table, values, offsets, weights }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const nbags = offsets.size - 1;
    const out = Tensor.fromArray(new Float32Array(nbags * dim), [nbags, ...table.shape.slice(1)], 'float32');
    native.bagPool(table.f32('table'), rows, dim, values.i32('values'), offsets.i32('offsets'), weights ? weights.f32('weights') : null,
      attrs.mean, out.f32(), attrs.argName ?? 'values');
    return out;
  },

  bagBackward: ({ values, offsets, weights, dy }, attrs) => {
    const { rows, rowShape, mean } = attrs;
    const dim = rowShape.reduce((p, d) => p * d, 1);
    const [u, v] = native.bagBackward(values.i32('values'), offsets.i32('offsets'), weights ? weights.f32('weights') : null, mean, rows, dim,
      dy.f32('dy'), attrs.argName ?? 'values');
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, ...rowShape], 'float32')];
  },

  sparseAdamUpdate: ({ param, m, v, indices, grad }, attrs) => {
    const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
    const [rows, dim] = rowsDim(param);
    native.sparseAdam(param.f32('param'), m.f32('m'), v.f32('v'), rows, dim, indices.i32('indices'), grad.f32('grad'),
      lr, beta1, beta2, eps, weightDecay, decoupled, step);
    return param;
  },

  rowwiseAdagradUpdate: ({ param, state, indices, grad }, attrs) => {
    const { lr, eps, weightDecay } = attrs;
    const [rows, dim] = rowsDim(param);
    native.rowwiseAdagrad(param.f32('param'), state.f32('state'), rows, dim, indices.i32('indices'), grad.f32('grad'), lr, eps, weightDecay);
    return param;
  },

  // out[b, m, :] = Σ_h w[b, m, h] k[b, h, :] (attention pooling of a padded sequence).
  weightedPool: ({ w, k }) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const out = Tensor.fromArray(new Float32Array(B * M * D), [B, M, D], 'float32');
    native.weightedPool(w.f32('w'), k.f32('k'), out.f32(), B, M, H, D);
    return out;
  },

  weightedPoolBackward: ({ w, k, dout }, attrs) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const dw = attrs.needW ? Tensor.fromArray(new Float32Array(B * M * H), w.shape, 'float32') : null;
    const dk = attrs.needK ? Tensor.fromArray(new Float32Array(B * H * D), k.shape, 'float32') : null;
    native.weightedPoolBackward(w.f32('w'), k.f32('k'), dout.f32('dout'), dw ? dw.f32() : null, dk ? dk.f32() : null, B, M, H, D);
    return [dw, dk];
  },

  // Fused one-hidden-layer DIN scoring → scores [B, H].
  dinScores: ({ query, keys, W1, b1, w2, b2 }, attrs) => {
    const [B, H, K] = keys.shape;
    const A = W1.shape[0];
    const scores = Tensor.fromArray(new Float32Array(B * H), [B, H], 'float32');
    native.dinScoresForward(query.f32('query'), keys.f32('keys'), W1.f32('W1'), b1.f32('b1'), w2.f32('w2'), b2.f32('b2')[0],
      ACT[attrs.activation], B, H, K, A, scores.f32());
    return scores;
  },

  dinScoresBackward: ({ query, keys, W1, b1, w2, dscores }, attrs) => {
    const [B, H, K] = keys.shape;
    const A = W1.shape[0];
    const mk = (shape: number[]) => Tensor.fromArray(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
    const dq = attrs.needQ ? mk([B, K]) : null;
    const dk = attrs.needK ? mk([B, H, K]) : null;
    const dW1 = mk([A, 4 * K]), db1 = mk([A]), dw2 = mk([1, A]), db2 = mk([1]);
    native.dinScoresBackward(query.f32('query'), keys.f32('keys'), W1.f32('W1'), b1.f32('b1'), w2.f32('w2'), dscores.f32('dscores'),
      ACT[attrs.activation], B, H, K, A, dq ? dq.f32() : null, dk ? dk.f32() : null, dW1.f32(), db1.f32(), dw2.f32(), db2.f32());
    return [dq, dk, dW1, db1, dw2, db2];
  },

  // Concatenation of float32 [rows, c_i] matrices along the last axis (native strided copies).
  concatColumns: (inputs, attrs) => {
    const xs = Object.values(inputs);
    const { rows, outShape } = attrs;
    const cols = xs.reduce((s, t) => s + t.size / Math.max(rows, 1), 0);
    const out = uninitialized(outShape); // the blocks cover every column
    let off = 0;
    xs.forEach((t, i) => {
      const w = rows ? t.size / rows : 0;
      native.copyColumns(t.f32(`xs[${i}]`), rows, w, 0, out.f32(), cols, off, w);
      off += w;
    });
    return out;
  },

  // Columns [start, start + width) of a float32 [rows, cols] matrix.
  sliceColumns: ({ x }, attrs) => {
    const { rows, cols, start, width, outShape } = attrs;
    const out = uninitialized(outShape); // every row's block is copied
    native.copyColumns(x.f32('x'), rows, cols, start, out.f32(), width, 0, width);
    return out;
  },

  // Table-batched lookup: block g of each output row sums the tables of group g (ids < 0: padding).
  tbeLookup: (inputs, attrs) => {
    const { ids, group, G, n, dim, argName } = attrs;
    const tables = Object.values(inputs);
    const out = uninitialized([n, G * dim]); // every row is cleared, then summed into
    native.tbeForward(tables.map((t, i) => t.f32(`tables[${i}]`)), tables.map((t) => t.shape[0]), ids, group, G, n, dim, out.f32(), argName ?? 'ids');
    return out;
  },

  // Coalesced row-sparse gradient of one table from its column block of a [n, stride] gradient.
  coalesceStrided: ({ source }, attrs) => {
    const { ids, rows, dim, offset, argName } = attrs;
    const [u, v] = native.coalesceStrided(ids, rows, dim, source.f32('source'), source.shape[1], offset, argName ?? 'ids');
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, dim], 'float32')];
  },

  // Fused target attention over packed [queries; keys] rows → pooled [B, M·K].
  dinAttentionPool: ({ rep, masks, W1, b1, w2, b2 }, attrs) => {
    const { B, H, activation } = attrs;
    const K = rep.shape[1];
    const M = masks.shape[1];
    const A = W1.shape[0];
    const out = uninitialized([B, M * K]); // every sample's rows are cleared, then pooled into
    // attrs.cache (when given): the native scores and hidden activations go there for the backward.
    const holder = attrs.cache;
    const cache = native.dinAttentionPool(rep.f32('rep'), B, H, K, masks.f32('masks'), M, W1.f32('W1'), b1.f32('b1'), w2.f32('w2'),
      b2.f32('b2')[0], ACT[activation], A, out.f32(), !!holder);
    if (holder) holder.value = cache;
    return out;
  },

  dinAttentionPoolBackward: ({ rep, masks, W1, b1, w2, b2, dpooled }, attrs) => {
    const { B, H, activation, needRep } = attrs;
    const K = rep.shape[1];
    const M = masks.shape[1];
    const A = W1.shape[0];
    const mk = (shape: number[]) => Tensor.fromArray(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
    // Every drep row is written (inactive slots and empty samples get explicit zeros).
    const drep = needRep ? uninitialized(rep.shape) : null;
    const dW1 = mk([A, 4 * K]), db1 = mk([A]), dw2 = mk([1, A]), db2 = mk([1]);
    native.dinAttentionPoolBackward(rep.f32('rep'), B, H, K, masks.f32('masks'), M, W1.f32('W1'), b1.f32('b1'), w2.f32('w2'), b2.f32('b2')[0],
      ACT[activation], A, dpooled.f32('dpooled'), drep ? drep.f32() : null, dW1.f32(), db1.f32(), dw2.f32(), db2.f32(),
      cachedScores(attrs.cache));
    return [drep, dW1, db1, dw2, db2];
  },
} satisfies KernelGroup;
