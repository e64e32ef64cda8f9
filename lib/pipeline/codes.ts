/**
 * The code tables of the experiment: RQ codes (residual k-means) and VQ codes (top-K warm pool
 * neighbours), built from raw content or aligned embeddings, with their statistics.
 *
 * Leakage and untrained rows: the RQ codebooks are fitted on the warm (training) items only,
 * and the VQ pool is the warm items. A cold item can still land on an RQ code that no warm item
 * uses; the ranker's row for that code would never receive a gradient and would feed random
 * initial weights into every cold prediction. So cold items are encoded greedily level by level
 * over the *used* codes only ("back-off" to the nearest trained code: for an item whose
 * unrestricted code is used this is exactly the usual encoding). VQ codes only ever name warm
 * pool items, and pool items that no warm item's code names are blanked (-1, an ignored slot)
 * in cold items' codes for the same reason.
 */
import { RQKMeans } from '../quant/rqkmeans.js';
import { codeStats, vqCodes } from '../quant/codes.js';
import { Tensor } from '../tensor/tensor.js';
import type { CodeSummary } from './results.js';

/** RQ codes of every item in dataset order, row-major [numItems, levels]. */
export interface RQTable {
  codes: Int32Array;
  levels: number;
  sizes: number[];
  summary: CodeSummary;
}

/** VQ codes of every item in dataset order, [numItems, k], values = warm pool index (−1 = empty). */
export interface VQTable {
  codes: Int32Array;
  k: number;
  poolSize: number;
  summary: Record<string, number>;
}

function rowsOf(x: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/** Fits RQ-KMeans on the warm rows of `x` and encodes every row (cold rows backed off to used codes). */
export function buildRQ(
  name: string,
  x: Float32Array,
  dim: number,
  warm: Uint8Array,
  opts: { levels: number; codebookSize: number | number[]; iterations: number; seed: number },
): RQTable {
  const n = warm.length;
  const warmRows = Int32Array.from(Array.from(warm.keys()).filter((i) => warm[i]));
  const sizes = Array.isArray(opts.codebookSize) ? opts.codebookSize.slice() : new Array<number>(opts.levels).fill(opts.codebookSize);
  const rq = new RQKMeans({ levels: opts.levels, codebookSize: sizes, iterations: opts.iterations, seed: opts.seed });
  const xw = Tensor.fromArray(rowsOf(x, dim, warmRows), [warmRows.length, dim], 'float32');
  rq.fit(xw);
  xw.dispose();
  const all = Tensor.fromArray(x, [n, dim], 'float32');
  const enc = rq.encode(all);
  const L = opts.levels;
  const codes = Int32Array.from(enc.i32());
  enc.dispose();
  // Codes used by warm items, per level.
  const used = sizes.map((s) => new Uint8Array(s));
  for (const r of warmRows) for (let l = 0; l < L; l++) used[l][codes[r * L + l]] = 1;
  const books = rq.codebooks.map((c) => c.f32());
  const backedOff = new Array<number>(L).fill(0);
  const resid = new Float32Array(dim);
  for (let i = 0; i < n; i++) {
    if (warm[i]) continue;
    let ok = true;
    for (let l = 0; l < L; l++) if (!used[l][codes[i * L + l]]) ok = false;
    if (ok) continue;
    resid.set(x.subarray(i * dim, (i + 1) * dim));
    for (let l = 0; l < L; l++) {
      const B = books[l];
      let best = -1, bestD = Infinity;
      for (let c = 0; c < sizes[l]; c++) {
        if (!used[l][c]) continue;
        let d2 = 0;
        for (let j = 0; j < dim; j++) {
          const t = resid[j] - B[c * dim + j];
          d2 += t * t;
        }
        if (d2 < bestD) { bestD = d2; best = c; }
      }
      if (best !== codes[i * L + l]) backedOff[l]++;
      codes[i * L + l] = best;
      for (let j = 0; j < dim; j++) resid[j] -= B[best * dim + j];
    }
  }
  const codeT = Tensor.fromArray(codes, [n, L], 'int32');
  const st = codeStats(codeT, sizes, { embeddings: all, codebooks: rq.codebooks });
  codeT.dispose();
  all.dispose();
  const unused = used.map((u) => u.length - u.reduce((a, b) => a + b, 0));
  for (const c of rq.codebooks) c.dispose();
  return {
    codes,
    levels: L,
    sizes,
    summary: {
      name,
      levels: L,
      codebookSize: sizes,
      utilisation: st.levels.map((s) => s.utilisation),
      perplexity: st.levels.map((s) => s.perplexity),
      relativeError: st.levels.map((s) => s.relativeError ?? NaN),
      collisionRate: st.collisionRate,
      largestBucket: st.largestBucket,
      uniqueTuples: st.uniqueTuples,
      untrainedRows: unused,
      coldItemsBackedOff: backedOff,
    },
  };
}

/** VQ codes: each item's top-k nearest warm pool items (cosine), itself excluded. */
export function buildVQ(name: string, x: Float32Array, dim: number, warm: Uint8Array, k: number): VQTable {
  const n = warm.length;
  const warmRows: number[] = [], coldRows: number[] = [];
  for (let i = 0; i < n; i++) (warm[i] ? warmRows : coldRows).push(i);
  const W = warmRows.length;
  const kk = Math.min(k, W - 1);
  const pool = Tensor.fromArray(rowsOf(x, dim, Int32Array.from(warmRows)), [W, dim], 'float32');
  const codes = new Int32Array(n * kk).fill(-1);
  const wc = vqCodes(pool, pool, { k: kk, excludeSelf: true, metric: 'cosine' });
  const wa = wc.i32();
  warmRows.forEach((r, i) => codes.set(wa.subarray(i * kk, (i + 1) * kk), r * kk));
  wc.dispose();
  const usedByWarm = new Uint8Array(W);
  for (let i = 0; i < wa.length; i++) usedByWarm[wa[i]] = 1;
  let blanked = 0;
  if (coldRows.length) {
    const xc = Tensor.fromArray(rowsOf(x, dim, Int32Array.from(coldRows)), [coldRows.length, dim], 'float32');
    const cc = vqCodes(xc, pool, { k: kk, metric: 'cosine' });
    const ca = cc.i32();
    coldRows.forEach((r, i) => {
      for (let j = 0; j < kk; j++) {
        const id = ca[i * kk + j];
        if (usedByWarm[id]) codes[r * kk + j] = id;
        else blanked++;
      }
    });
    cc.dispose();
    xc.dispose();
  }
  pool.dispose();
  let usedIds = 0;
  for (const u of usedByWarm) usedIds += u;
  return {
    codes,
    k: kk,
    poolSize: W,
    summary: { k: kk, poolSize: W, poolIdsUsed: usedIds, poolUtilisation: usedIds / W, coldSlotsBlanked: blanked },
  };
}
