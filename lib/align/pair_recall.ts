/**
 * Retrieval metrics for item pairs: Recall@K of a pair's partner when the other item queries
 * all items (the query itself excluded). Used for early stopping and for the alignment report.
 */
import { ValueError } from '../errors.js';
import { matmul } from '../autograd/ops/matmul.js';
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../tensor/creation.js';
import type { ItemPairs, ScoreTable } from './pairs.js';
import { ScoreMatrix } from './score_matrix.js';

/** Scores of `queries` against all N items, row-major `[queries.length, N]`. */
export type Scorer = (queries: Int32Array) => Float32Array;

/** Inner-product scorer over row-major `[N, D]` embeddings (cosine when rows are L2-normalised). */
export function embeddingScorer(emb: Float32Array, n: number, d: number): Scorer {
  if (emb.length !== n * d) throw new ValueError(`argument 'emb' has ${emb.length} values, want ${n}x${d}`, 'emb');
  const all = tensor(emb, [n, d]);
  return (queries) =>
    noGrad(() => {
      const q = new Float32Array(queries.length * d);
      queries.forEach((i, r) => q.set(emb.subarray(i * d, (i + 1) * d), r * d));
      const qt = tensor(q, [queries.length, d]);
      const s = matmul(qt, all, { transB: true });
      const out = s.readHost() as Float32Array; // the metric's scores: a host copy
      qt.dispose();
      s.dispose();
      return out;
    });
}

/** Scorer from a sparse similarity table (absent entries score 0). */
export function tableScorer(table: ScoreTable): Scorer {
  const n = table.length;
  return (queries) => {
    const out = new Float32Array(queries.length * n);
    queries.forEach((i, r) => {
      for (const [j, s] of table[i]) out[r * n + j] = s;
    });
    return out;
  };
}

/** Scorer from the miners' internal score matrix (absent entries score 0). */
export function matrixScorer(m: ScoreMatrix): Scorer {
  const n = m.n;
  return (queries) => {
    const out = new Float32Array(queries.length * n);
    queries.forEach((i, r) => m.copyRow(i, out, r * n));
    return out;
  };
}

/**
 * Memoises a scorer's rows per query item, for metrics evaluated many times on the same queries
 * (e.g. one fixed content space mixed with an aligned space at several weights). Holds at most
 * `n` rows of `n` floats.
 */
export function cachedScorer(scorer: Scorer, n: number): Scorer {
  const rows = new Map<number, Float32Array>();
  return (queries) => {
    const missing = Int32Array.from(new Set(Array.from(queries).filter((i) => !rows.has(i))));
    if (missing.length) {
      const sc = scorer(missing);
      missing.forEach((i, r) => rows.set(i, sc.slice(r * n, (r + 1) * n)));
    }
    const out = new Float32Array(queries.length * n);
    queries.forEach((i, r) => out.set(rows.get(i)!, r * n));
    return out;
  };
}

/**
 * `w · a + (1 − w) · b`: the scores of `mixSpaces`'s concatenated space when `a` and `b`
 * are cosine scorers of its two parts.
 */
export function mixedScorer(a: Scorer, b: Scorer, w: number): Scorer {
  if (!(w >= 0 && w <= 1)) throw new ValueError(`argument 'w' must be in [0, 1], got ${w}`, 'w');
  if (w === 1) return a;
  return (queries) => {
    const sa = a(queries);
    const sb = b(queries);
    const out = new Float32Array(sa.length);
    for (let k = 0; k < sa.length; k++) out[k] = w * sa[k] + (1 - w) * sb[k];
    return out;
  };
}

/**
 * Retrieval space mixing aligned and raw content embeddings: row i is
 * `[√w · a_i / |a_i|, √(1−w) · b_i / |b_i|]` (unit length), so inner products are
 * `w · cos_a + (1 − w) · cos_b`. `a`: row-major `[n, da]`, `b`: `[n, db]`.
 */
export function mixSpaces(a: Float32Array, da: number, b: Float32Array, db: number, n: number, w: number): Float32Array {
  if (a.length !== n * da || b.length !== n * db)
    throw new ValueError(`mixSpaces(): want ${n}x${da} and ${n}x${db} values, got ${a.length} and ${b.length}`, 'a');
  if (!(w >= 0 && w <= 1)) throw new ValueError(`argument 'w' must be in [0, 1], got ${w}`, 'w');
  const d = da + db;
  const out = new Float32Array(n * d);
  const put = (x: Float32Array, dx: number, off: number, scale: number): void => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < dx; c++) s += x[i * dx + c] * x[i * dx + c];
      const f = s > 0 ? scale / Math.sqrt(s) : 0;
      for (let c = 0; c < dx; c++) out[i * d + off + c] = x[i * dx + c] * f;
    }
  };
  put(a, da, 0, Math.sqrt(w));
  put(b, db, da, Math.sqrt(1 - w));
  return out;
}

/** Options of {@link pairRecall}. */
export interface PairRecallOptions {
  /** Cut-offs (default [10, 50]). */
  ks?: number[];
  /** Query rows scored at once (default 256). */
  chunk?: number;
}

/**
 * Recall@K over directed queries: every pair (a, b) asks "is b in a's top K" and "is a in b's
 * top K" over all items except the query. Ties count against the target (an item scoring the
 * same as the target is ranked ahead of it), so a constant scorer gets no credit.
 * Returns recall per K and the number of directed queries.
 */
export function pairRecall(scorer: Scorer, n: number, pairs: ItemPairs, opts: PairRecallOptions = {}): { recall: Record<number, number>; queries: number } {
  const ks = opts.ks ?? [10, 50];
  const chunk = opts.chunk ?? 256;
  const m = pairs.a.length;
  // Directed queries grouped by query item: each item's score row is computed once.
  const targets = new Map<number, number[]>();
  const push = (qi: number, t: number): void => {
    let l = targets.get(qi);
    if (!l) targets.set(qi, (l = []));
    l.push(t);
  };
  for (let k = 0; k < m; k++) {
    push(pairs.a[k], pairs.b[k]);
    push(pairs.b[k], pairs.a[k]);
  }
  const items = Int32Array.from([...targets.keys()].sort((x, y) => x - y));
  const hits = new Float64Array(ks.length);
  for (let s = 0; s < items.length; s += chunk) {
    const q = items.subarray(s, Math.min(s + chunk, items.length));
    const sc = scorer(q);
    for (let r = 0; r < q.length; r++) {
      const row = sc.subarray(r * n, (r + 1) * n);
      const ts = targets.get(q[r])!;
      // rank = #{j != query, j != t : s_j >= s_t}. A few targets: count directly (O(n) each);
      // many: one pass over the row for all of them (ranksOf).
      if (ts.length < 12) {
        for (const t of ts) {
          const v = row[t];
          let rank = -1; // t itself is counted below
          for (let j = 0; j < n; j++) if (row[j] >= v) rank++;
          if (row[q[r]] >= v) rank--;
          ks.forEach((k, x) => {
            if (rank < k) hits[x]++;
          });
        }
        continue;
      }
      const ranks = ranksOf(row, q[r], ts);
      for (const rank of ranks) {
        ks.forEach((k, x) => {
          if (rank < k) hits[x]++;
        });
      }
    }
  }
  const total = 2 * m;
  const recall: Record<number, number> = {};
  ks.forEach((k, x) => (recall[k] = total ? hits[x] / total : NaN));
  return { recall, queries: total };
}

/**
 * Ranks of the targets `ts` in `row` with the query's own score taken as -Infinity:
 * `#{j : !(s_j < s_t)} − 1`, i.e. what a sorted copy of the row and a binary search per target
 * give (NaN sorts last, so it counts as ≥ every score; a NaN target ranks n − 1). One pass over
 * the row places each score among the targets' distinct scores (O(n log T)), instead of sorting
 * the row (O(n log n)).
 */
function ranksOf(row: Float32Array, query: number, ts: readonly number[]): number[] {
  const n = row.length;
  const w = [...new Set(ts.map((t) => row[t]).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
  const m = w.length;
  // below[p]: scores x with exactly p target scores <= x; NaN scores counted apart.
  const below = new Int32Array(m + 1);
  let nan = 0;
  for (let j = 0; j < n; j++) {
    const x = j === query ? -Infinity : row[j];
    if (x < w[0]) {
      below[0]++;
      continue;
    }
    if (x !== x) {
      nan++;
      continue;
    }
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (w[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    below[lo]++;
  }
  // atLeast[i] = #{x : !(x < w[i])} = #{x : x >= w[i]} + NaNs.
  const atLeast = new Int32Array(m);
  for (let p = m, c = nan; p >= 1; p--) {
    c += below[p];
    atLeast[p - 1] = c;
  }
  return ts.map((t) => (Number.isNaN(row[t]) ? n - 1 : atLeast[w.indexOf(row[t])] - 1));
}
