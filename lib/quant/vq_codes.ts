/** QARM's VQ codes and tooling over code tables: disambiguation and statistics. */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { nearest, type Metric } from './nearest.js';

/** Options of {@link vqCodes}. */
export interface VQCodeOptions {
  /** Neighbours per item (paper: 25). Default 25. */
  k?: number;
  /** x row i is pool row i: drop each item itself from its own code. Default false. */
  excludeSelf?: boolean;
  /** Similarity used (default `cosine`, as for aligned embeddings). */
  metric?: Metric;
}

/**
 * QARM's VQ code: the codebook is the (aligned) item pool itself; an item's code is the ids of
 * its `k` nearest pool items, nearest first. int32 `[N, k]`.
 */
export function vqCodes(x: Tensor, pool: Tensor, opts: VQCodeOptions = {}): Tensor {
  const { k = 25, excludeSelf = false, metric = 'cosine' } = opts;
  if (excludeSelf && x instanceof Tensor && pool instanceof Tensor && x.shape[0] !== pool.shape[0]) {
    throw new ShapeError(`excludeSelf needs 'x' and 'pool' with the same rows, got ${x.shape[0]} and ${pool.shape[0]}`, 'pool');
  }
  if (!excludeSelf) return nearest(x, pool, { k, metric }).indices;
  if (!Number.isInteger(k) || k < 1 || k + 1 > pool.shape[0]) {
    throw new ValueError(`argument 'k' must be in [1, ${pool.shape[0] - 1}] with excludeSelf, got ${k}`, 'k');
  }
  const { indices, distances } = nearest(x, pool, { k: k + 1, metric });
  distances.dispose();
  const codes = runKernel('dropSelf', { indices });
  indices.dispose();
  return codes;
}

function checkCodes(codes: Tensor): [number, number, Int32Array] {
  if (!(codes instanceof Tensor)) throw new ValueError("argument 'codes' must be a Tensor", 'codes');
  if (codes.dtype !== 'int32') throw new DTypeError(`argument 'codes' must be int32, got ${codes.dtype}`, 'codes');
  if (codes.rank !== 2) throw new ShapeError(`argument 'codes' must be 2-D [N, levels], got [${codes.shape.join(', ')}]`, 'codes');
  // Code tables are read at this edge (statistics, tuple grouping), from any device.
  return [codes.shape[0], codes.shape[1], codes.readHost() as Int32Array];
}

/** Groups rows of an [n, L] int table by their full tuple; returns a group id per row (in first-seen order). */
function groupTuples(a: Int32Array, n: number, L: number): { group: Int32Array; sizes: number[] } {
  const map = new Map<string, number>();
  const group = new Int32Array(n);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = Array.prototype.join.call(a.subarray(i * L, i * L + L), ',');
    let gid = map.get(key);
    if (gid === undefined) {
      gid = sizes.length;
      map.set(key, gid);
      sizes.push(0);
    }
    sizes[gid]++;
    group[i] = gid;
  }
  return { group, sizes };
}

/**
 * Appends a level that makes every code tuple unique (TIGER-style): the new entry is the
 * item's rank, in row order, among the items sharing its tuple (0 for the first).
 * int32 `[N, L]` → int32 `[N, L + 1]`.
 */
export function disambiguate(codes: Tensor): Tensor {
  const [n, L, a] = checkCodes(codes);
  const { group, sizes } = groupTuples(a, n, L);
  const seen = new Int32Array(sizes.length);
  const out = new Int32Array(n * (L + 1));
  for (let i = 0; i < n; i++) {
    out.set(a.subarray(i * L, i * L + L), i * (L + 1));
    out[i * (L + 1) + L] = seen[group[i]]++;
  }
  return Tensor.fromArray(out, [n, L + 1], 'int32');
}

/** Per-level statistics of {@link codeStats}. */
export interface LevelStats {
  /** Distinct codes used. */
  used: number;
  /** used / codebook size. */
  utilisation: number;
  /** exp(entropy) of the code distribution (codebook size when uniform). */
  perplexity: number;
  /** ||x − Σ_{m≤l} codebook_m[code_m]||² / ||x||², when embeddings and codebooks are given. */
  relativeError?: number;
}

/** Result of {@link codeStats}. */
export interface CodeStats {
  levels: LevelStats[];
  /** Share of items whose full code tuple is shared with at least one other item. */
  collisionRate: number;
  /** Items in the largest group of identical tuples. */
  largestBucket: number;
  /** Distinct full tuples. */
  uniqueTuples: number;
}

/**
 * Code-table statistics: per-level utilisation and perplexity, collision rate, largest bucket,
 * and (with `embeddings` [N, D] and per-level `codebooks`) per-level relative reconstruction error.
 */
export function codeStats(codes: Tensor, codebookSize: number | number[], opts: { embeddings?: Tensor; codebooks?: Tensor[] } = {}): CodeStats {
  const [n, L, a] = checkCodes(codes);
  if (n === 0 || L === 0) throw new ValueError(`argument 'codes' is empty ([${n}, ${L}])`, 'codes');
  const sizes = Array.isArray(codebookSize) ? codebookSize : new Array<number>(L).fill(codebookSize);
  if (sizes.length !== L || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ValueError(`argument 'codebookSize' must be a positive integer or ${L} of them`, 'codebookSize');
  }
  const levels: LevelStats[] = [];
  for (let l = 0; l < L; l++) {
    const cnt = new Float64Array(sizes[l]);
    for (let i = 0; i < n; i++) {
      const c = a[i * L + l];
      if (c < 0 || c >= sizes[l]) throw new ValueError(`argument 'codes' holds ${c} at [${i}, ${l}], outside [0, ${sizes[l]})`, 'codes');
      cnt[c]++;
    }
    let used = 0;
    let h = 0;
    for (const c of cnt) {
      if (c > 0) {
        used++;
        const p = c / n;
        h -= p * Math.log(p);
      }
    }
    levels.push({ used, utilisation: used / sizes[l], perplexity: Math.exp(h) });
  }
  const { sizes: groups } = groupTuples(a, n, L);
  let shared = 0;
  let largest = 0;
  for (const s of groups) {
    if (s > 1) shared += s;
    largest = Math.max(largest, s);
  }
  const { embeddings, codebooks } = opts;
  if (embeddings || codebooks) {
    if (!embeddings || !codebooks || codebooks.length !== L) {
      throw new ValueError(`reconstruction error needs both 'embeddings' and ${L} 'codebooks'`, embeddings ? 'codebooks' : 'embeddings');
    }
    if (embeddings.dtype !== 'float32' || embeddings.rank !== 2 || embeddings.shape[0] !== n) {
      throw new ShapeError(`argument 'embeddings' must be float32 [${n}, D]`, 'embeddings');
    }
    const d = embeddings.shape[1];
    const r = Float64Array.from(embeddings.readHost());
    let total = 0;
    for (const v of r) total += v * v;
    for (let l = 0; l < L; l++) {
      const cb = codebooks[l];
      if (cb.dtype !== 'float32' || cb.rank !== 2 || cb.shape[0] !== sizes[l] || cb.shape[1] !== d) {
        throw new ShapeError(`argument 'codebooks' entry ${l} must be float32 [${sizes[l]}, ${d}]`, 'codebooks');
      }
      const ca = cb.readHost();
      let err = 0;
      for (let i = 0; i < n; i++) {
        const c = a[i * L + l];
        for (let j = 0; j < d; j++) {
          r[i * d + j] -= ca[c * d + j];
          err += r[i * d + j] * r[i * d + j];
        }
      }
      levels[l].relativeError = total > 0 ? err / total : 0;
    }
  }
  return { levels, collisionRate: shared / n, largestBucket: largest, uniqueTuples: groups.length };
}
