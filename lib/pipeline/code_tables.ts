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
import { codeStats, vqCodes } from '../quant/vq_codes.js';
import { codeRows } from '../rank/prefix.js';
import { Generator } from '../tensor/random.js';
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
  /** int32 [poolSize]: the dataset item of each pool entry (the warm items in dataset order). */
  poolItems: Int32Array;
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
  opts: { levels: number; codebookSize: number | number[]; iterations: number; seed: number; prefixTableSize?: number; balanced?: boolean },
): RQTable {
  const n = warm.length;
  const warmRows = Int32Array.from(Array.from(warm.keys()).filter((i) => warm[i]));
  const sizes = Array.isArray(opts.codebookSize) ? opts.codebookSize.slice() : new Array<number>(opts.levels).fill(opts.codebookSize);
  const balanced = opts.balanced ?? false;
  const rq = new RQKMeans({ levels: opts.levels, codebookSize: sizes, iterations: opts.iterations, seed: opts.seed, balanced });
  const xw = Tensor.fromArray(rowsOf(x, dim, warmRows), [warmRows.length, dim], 'float32');
  rq.fit(xw);
  xw.dispose();
  const all = Tensor.fromArray(x, [n, dim], 'float32');
  const enc = rq.encode(all);
  const L = opts.levels;
  const codes = Int32Array.from(enc.i32());
  enc.dispose();
  // Balanced: the warm items keep the capacity-constrained codes the levels were fitted with
  // (their nearest codewords could pile up again); cold items are encoded (and backed off) as usual.
  if (balanced) warmRows.forEach((r, i) => codes.set(rq.fitCodes!.subarray(i * L, (i + 1) * L), r * L));
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
      let best = -1,
        bestD = Infinity;
      for (let c = 0; c < sizes[l]; c++) {
        if (!used[l][c]) continue;
        let d2 = 0;
        for (let j = 0; j < dim; j++) {
          const t = resid[j] - B[c * dim + j];
          d2 += t * t;
        }
        if (d2 < bestD) {
          bestD = d2;
          best = c;
        }
      }
      if (best !== codes[i * L + l]) backedOff[l]++;
      codes[i * L + l] = best;
      for (let j = 0; j < dim; j++) resid[j] -= B[best * dim + j];
    }
  }
  const summary = codeSummary(name, codes, sizes, warm, opts.prefixTableSize ?? DEFAULT_PREFIX_TABLE, { embeddings: all, codebooks: rq.codebooks });
  all.dispose();
  for (const c of rq.codebooks) c.dispose();
  summary.coldItemsBackedOff = backedOff;
  summary.balanced = balanced;
  return { codes, levels: L, sizes, summary };
}

/** The ranker's default prefix-table size (lib/rank's RankerConfig.prefixTableSize). */
const DEFAULT_PREFIX_TABLE = 16384;

/**
 * Statistics of an RQ code table in dataset order: per level utilisation, perplexity (and
 * reconstruction error with `quality`), collisions, codes no warm item uses, and what the
 * ranker's prefix tables of `prefixTableSize` rows would hold: distinct warm prefixes per
 * length, how many share a hashed row, how many cold items' prefixes no warm item has.
 */
export function codeSummary(
  name: string,
  codes: Int32Array,
  sizes: number[],
  warm: Uint8Array,
  prefixTableSize: number,
  quality: { embeddings?: Tensor; codebooks?: Tensor[] } = {},
): CodeSummary {
  const n = warm.length;
  const L = sizes.length;
  const codeT = Tensor.fromArray(codes, [n, L], 'int32');
  const st = codeStats(codeT, sizes, quality);
  codeT.dispose();
  const used = sizes.map((sz) => new Uint8Array(sz));
  for (let i = 0; i < n; i++) if (warm[i]) for (let l = 0; l < L; l++) used[l][codes[i * L + l]] = 1;
  // Warm items first, the order the ranker's item ids have (lib/rank/prefix.ts's vocabulary rule).
  const order = [...Array(n).keys()].sort((a, b) => warm[b] - warm[a] || a - b);
  const reordered = new Int32Array(n * L);
  order.forEach((r, i) => reordered.set(codes.subarray(r * L, (r + 1) * L), i * L));
  let numWarm = 0;
  for (const w of warm) numWarm += w;
  const pr = codeRows({ codes: reordered, levels: L, codebookSize: sizes }, n, {
    mode: 'prefix',
    tableSize: prefixTableSize,
    hashSeed: 0,
    vocabItems: numWarm,
  });
  return {
    name,
    levels: L,
    codebookSize: sizes,
    utilisation: st.levels.map((s) => s.utilisation),
    perplexity: st.levels.map((s) => s.perplexity),
    relativeError: st.levels.map((s) => s.relativeError ?? NaN),
    collisionRate: st.collisionRate,
    largestBucket: st.largestBucket,
    uniqueTuples: st.uniqueTuples,
    untrainedRows: used.map((u) => u.length - u.reduce((a, b) => a + b, 0)),
    prefix: { tableSize: pr.tableSizes, hashed: pr.hashed, distinct: pr.distinct, collisions: pr.collisions, coldUnseen: pr.unseen },
  };
}

/** VQ codes: each item's top-k nearest warm pool items (cosine), itself excluded. */
export function buildVQ(name: string, x: Float32Array, dim: number, warm: Uint8Array, k: number): VQTable {
  const n = warm.length;
  const warmRows: number[] = [],
    coldRows: number[] = [];
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
    poolItems: Int32Array.from(warmRows),
    summary: { k: kk, poolSize: W, poolIdsUsed: usedIds, poolUtilisation: usedIds / W, coldSlotsBlanked: blanked },
  };
}

/**
 * The random-codes control (Singh et al.'s hashing baseline): RQ codes of the given shape and
 * VQ codes of k entries of the warm pool, drawn uniformly per item from `seed` — the tables and
 * features of `qarm`, with no meaning. Warm items draw from everything (a warm item never names
 * itself in its VQ codes, as in {@link buildVQ}); cold items draw only codes / pool entries some
 * warm item has, as qarm's back-off leaves them, so no cold feature reads an untrained row.
 */
export function buildRandomCodes(
  warm: Uint8Array,
  opts: { levels: number; codebookSize: number | number[]; k: number; seed: number; prefixTableSize?: number },
): { rq: RQTable; vq: VQTable } {
  const n = warm.length;
  const L = opts.levels;
  const sizes = Array.isArray(opts.codebookSize) ? opts.codebookSize.slice() : new Array<number>(L).fill(opts.codebookSize);
  const g = new Generator(opts.seed);
  const warmRows: number[] = [];
  for (let i = 0; i < n; i++) if (warm[i]) warmRows.push(i);
  const W = warmRows.length;
  const codes = new Int32Array(n * L);
  const used = sizes.map((sz) => new Uint8Array(sz));
  for (const i of warmRows) {
    for (let l = 0; l < L; l++) {
      codes[i * L + l] = g.int(sizes[l]);
      used[l][codes[i * L + l]] = 1;
    }
  }
  const usedList = used.map((u) => [...u.keys()].filter((c) => u[c]));
  for (let i = 0; i < n; i++) if (!warm[i]) for (let l = 0; l < L; l++) codes[i * L + l] = usedList[l][g.int(usedList[l].length)];
  // VQ: k distinct pool entries per item (pool index p = the p-th warm item), as buildVQ's k.
  const k = Math.max(0, Math.min(opts.k, W - 1));
  const vq = new Int32Array(n * k).fill(-1);
  const poolOf = new Int32Array(n).fill(-1);
  warmRows.forEach((r, p) => (poolOf[r] = p));
  const usedPool = new Uint8Array(W);
  for (const i of warmRows) {
    const chosen = new Set<number>();
    while (chosen.size < k) {
      const p = g.int(W);
      if (p !== poolOf[i]) chosen.add(p);
    }
    let j = 0;
    for (const p of chosen) {
      vq[i * k + j++] = p;
      usedPool[p] = 1;
    }
  }
  const usedPoolList = [...usedPool.keys()].filter((p) => usedPool[p]);
  const coldK = Math.min(k, usedPoolList.length);
  let blanked = 0;
  for (let i = 0; i < n; i++) {
    if (warm[i]) continue;
    const chosen = new Set<number>();
    while (chosen.size < coldK) chosen.add(usedPoolList[g.int(usedPoolList.length)]);
    let j = 0;
    for (const p of chosen) vq[i * k + j++] = p;
    blanked += k - coldK;
  }
  const summary = codeSummary('rq (random)', codes, sizes, warm, opts.prefixTableSize ?? DEFAULT_PREFIX_TABLE);
  return {
    rq: { codes, levels: L, sizes, summary },
    vq: {
      codes: vq,
      k,
      poolSize: W,
      poolItems: Int32Array.from(warmRows),
      summary: { k, poolSize: W, poolIdsUsed: usedPoolList.length, poolUtilisation: usedPoolList.length / Math.max(W, 1), coldSlotsBlanked: blanked },
    },
  };
}
