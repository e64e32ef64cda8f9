/**
 * The data-parallel parts of {@link trainRanker} with `dist` (issue 17, step 3): the data
 * fingerprint the ranks agree on before training (the split of a global batch and the agreement
 * itself are lib/dist/slice.ts and lib/dist/agree.ts, shared with the aligner), and the
 * per-step gradient exchange (dense gradients all-reduced, row-sparse embedding gradients
 * all-gathered and applied on every rank). Used only when the communicator has more than one
 * rank; the one-process trainer never calls into this file.
 * @internal
 */
import { RowSparseGrad } from '../autograd/sparse.js';
import type { Communicator } from '../dist/index.js';
import { Tensor } from '../tensor/tensor.js';
import { fmix32 } from './hash.js';
import { fingerprintArrays } from '../dist/agree.js';
import type { RankSamples } from './types.js';

/**
 * The collectives data-parallel ranker training uses: lib/dist's {@link Communicator} (the
 * shared `dist`), or anything with the same members (a wrapper, a test double).
 */
export type RankCommunicator = Pick<Communicator, 'rank' | 'worldSize' | 'allReduce' | 'allGather' | 'broadcast'>;

/** A 32-bit fingerprint of a sample set (every column), to check that all ranks hold the same data. */
export function fingerprint(s: RankSamples): number {
  const start = fmix32((s.size ^ 0x2545f491) >>> 0) ^ s.maxHistory;
  return fingerprintArrays(start, [s.user, s.item, s.label, s.historyLength, s.history, s.group]);
}

/** A host array as a tensor on `like`'s device (the host copy is released). */
export function onDeviceOf(data: Float32Array | Int32Array, shape: number[], like: Tensor): Tensor {
  const t = Tensor.fromArray(data, shape, data instanceof Float32Array ? 'float32' : 'int32');
  if (like.device === t.device) return t;
  const moved = t.to(like.device);
  t.dispose();
  return moved;
}

/** `p`'s gradient as coalesced host rows (a dense gradient is every row); null without one. */
function hostRows(p: Tensor): { indices: Int32Array; values: Float32Array } | null {
  const g = p.grad;
  if (!g) return null;
  if (g instanceof RowSparseGrad) {
    const c = g.coalesce();
    const out = { indices: c.indices.readHost() as Int32Array, values: c.values.readHost() as Float32Array };
    if (c !== g) c.dispose();
    return out;
  }
  const rows = p.shape[0] ?? 1;
  return { indices: Int32Array.from({ length: rows }, (_, i) => i), values: (g as Tensor).readHost() as Float32Array };
}

/**
 * Makes every rank's gradients those of the global batch, identical on every rank:
 * - `dense`: each parameter's gradient is all-reduced (summed over ranks in rank order; the
 *   loss was already divided by the global batch size, so the sum is the one-process gradient
 *   of the global batch's mean loss, up to the order of the float additions). A parameter no
 *   rank has a gradient for keeps none, as in one process.
 * - `sparse` (embedding tables, replicated): each rank's row-sparse gradient, coalesced, is
 *   all-gathered (row ids, then rows) and every rank sets the concatenation in rank order as
 *   the gradient, which the optimizer coalesces (duplicate rows summed in rank order).
 * One allReduce (float32: the dense gradients, which parameters have one, and the loss) and two
 * allGathers (int32 row counts and ids, float32 rows) per step. Returns the global batch's loss.
 */
export function syncGradients(comm: RankCommunicator, sparse: Tensor[], dense: Tensor[], loss: number): number {
  const payload = densePayload(dense, loss);
  const packed = packRows(sparse.map(hostRows));
  const sum = comm.allReduce(payload);
  const allIds = comm.allGather(packed.ids);
  const allValues = comm.allGather(packed.values);
  const global = setDenseGradients(dense, sum);
  const widths = sparse.map((p) => p.size / (p.shape[0] ?? 1));
  sparse.forEach((p, t) => {
    const { idx, vals } = concatRanks(allIds, allValues, widths, t);
    p.grad?.dispose();
    p.grad =
      idx.length === 0 ? null : new RowSparseGrad(onDeviceOf(idx, [idx.length], p), onDeviceOf(vals, [idx.length, ...p.shape.slice(1)], p), [...p.shape]);
  });
  return global;
}

/**
 * The allReduce payload of the dense gradients: [gradients of every dense parameter...,
 * has-gradient flags (one per parameter), loss].
 */
export function densePayload(dense: Tensor[], loss: number): Float32Array {
  const total = dense.reduce((s, p) => s + p.size, 0);
  const payload = new Float32Array(total + dense.length + 1);
  let off = 0;
  dense.forEach((p, i) => {
    const g = p.grad;
    if (g) {
      payload.set(g instanceof RowSparseGrad ? hostRowsToDense(g) : ((g as Tensor).readHost() as Float32Array), off);
      payload[total + i] = 1;
    }
    off += p.size;
  });
  payload[total + dense.length] = loss;
  return payload;
}

/** Sets the summed {@link densePayload} `sum` as the dense parameters' gradients; returns the global loss. */
export function setDenseGradients(dense: Tensor[], sum: Float32Array): number {
  const total = dense.reduce((s, p) => s + p.size, 0);
  let off = 0;
  dense.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = sum[total + i] > 0 ? onDeviceOf(sum.slice(off, off + p.size), [...p.shape], p) : null;
    off += p.size;
  });
  return sum[total + dense.length];
}

/** Rows of several tables as the two arrays one rank sends: int32 [row count per table..., row ids...], float32 [rows...]. */
export function packRows(rows: ({ indices: Int32Array; values: Float32Array } | null)[]): { ids: Int32Array; values: Float32Array } {
  const counts = rows.map((r) => (r ? r.indices.length : 0));
  const ids = new Int32Array(rows.length + counts.reduce((s, c) => s + c, 0));
  const values = new Float32Array(rows.reduce((s, r) => s + (r ? r.values.length : 0), 0));
  ids.set(counts);
  let io = rows.length;
  let vo = 0;
  for (const r of rows) {
    if (!r) continue;
    ids.set(r.indices, io);
    values.set(r.values, vo);
    io += r.indices.length;
    vo += r.values.length;
  }
  return { ids, values };
}

/**
 * Where table `t`'s part starts in each rank's {@link packRows} arrays `allIds` (tables of
 * `widths[u]` floats per row): [index of its first id, index of its first float] per rank.
 */
export function partStarts(allIds: Int32Array[], widths: readonly number[], t: number): [number, number][] {
  return allIds.map((part) => {
    let ids = widths.length;
    let floats = 0;
    for (let u = 0; u < t; u++) {
      ids += part[u];
      floats += part[u] * widths[u];
    }
    return [ids, floats];
  });
}

/** Table `t`'s rows of every rank, concatenated in rank order (ids and rows of `width` floats). */
export function concatRanks(allIds: Int32Array[], allValues: Float32Array[], widths: readonly number[], t: number): { idx: Int32Array; vals: Float32Array } {
  const width = widths[t];
  const n = allIds.reduce((s, part) => s + part[t], 0);
  const idx = new Int32Array(n);
  const vals = new Float32Array(n * width);
  let o = 0;
  partStarts(allIds, widths, t).forEach(([io, vo], r) => {
    const c = allIds[r][t];
    idx.set(allIds[r].subarray(io, io + c), o);
    vals.set(allValues[r].subarray(vo, vo + c * width), o * width);
    o += c;
  });
  return { idx, vals };
}

/** A row-sparse gradient of a dense parameter as a dense host array. */
function hostRowsToDense(g: RowSparseGrad): Float32Array {
  const d = g.toDense();
  const out = d.readHost() as Float32Array;
  d.dispose();
  return out;
}

/**
 * Every rank's float32 array concatenated in rank order (the same on every rank): the
 * validation probabilities of the ranks' shards, so that each rank computes the metrics of
 * the whole validation set.
 */
export function gatherAll(comm: RankCommunicator, x: Float32Array, total: number): Float32Array {
  const parts = comm.allGather(x);
  return new Float32Array(parts[0].buffer, parts[0].byteOffset, total);
}
