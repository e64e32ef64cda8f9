/**
 * Lloyd k-means over the fused nearest-codeword kernel. The centroid update is a native,
 * deterministic reduction (rows grouped by cluster, each cluster owned by one thread, no
 * atomics); empty clusters are re-seeded by splitting a large one (FAISS's rule); large inputs
 * are subsampled to `maxPointsPerCentroid * k` training rows. Same seed → same result for any
 * thread count.
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { balancedAssign } from './balanced.js';
import { nearest } from './nearest.js';

/** Options of {@link kmeans}. */
export interface KMeansOptions {
  /** Number of clusters (1 ≤ k ≤ rows of x). */
  k: number;
  /** Lloyd iterations. Default 25. */
  iterations?: number;
  /** Seed of initialisation, subsampling and empty-cluster splits. Default 0. */
  seed?: number;
  /** `kmeans++` (D² sampling, default) or `random` (k distinct rows). Or a `[k, D]` tensor of initial centroids. */
  init?: 'kmeans++' | 'random' | Tensor;
  /** Train on at most `maxPointsPerCentroid * k` rows sampled without replacement (0 = all). Default 256. */
  maxPointsPerCentroid?: number;
  /**
   * Balanced k-means (the OneRec tokenizer's remedy for skewed buckets): every assignment step,
   * the final one included, gives each cluster at most ceil(rows / k) rows by a deterministic
   * capacity-constrained assignment (lib/quant/balanced.ts); `inertia` and `history` are then
   * the constrained objective. It needs every row's distance to every centroid, O(N·k) memory.
   * Default false.
   */
  balanced?: boolean;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** float32 `[k, D]`. */
  centroids: Tensor;
  /** int32 `[N]`: nearest final centroid of every row of x (all rows, not only the training sample). */
  assignments: Tensor;
  /** Sum of squared distances of all rows of x to their assigned final centroid. */
  inertia: number;
  /** Objective (sum of squared distances on the training rows) at each iteration's assignment step. */
  history: number[];
  /** Number of empty clusters re-seeded by splitting, over all iterations. */
  splits: number;
}

const SPLIT_EPS = 1 / 1024;

function rows(src: Float32Array, d: number, ids: ArrayLike<number>): Float32Array {
  const out = new Float32Array(ids.length * d);
  for (let i = 0; i < ids.length; i++) out.set(src.subarray(ids[i] * d, ids[i] * d + d), i * d);
  return out;
}

/** `m` distinct indices of [0, n) in sampling order (partial Fisher-Yates). */
export function sampleWithoutReplacement(n: number, m: number, g: Generator): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + g.int(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, m);
}

/**
 * k-means++ (D² sampling). Distances to new centres come from the fused `nearest` kernel. For
 * k ≤ 16 centres are drawn one at a time (exact k-means++); for larger k each round draws
 * ceil(k / 16) distinct centres from the same D² distribution before the distances are
 * updated (k-means||-style rounds), which keeps the cost at about one Lloyd iteration.
 */
function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, g: Generator): Float32Array {
  const c = new Float32Array(k * d);
  const minD = new Float64Array(n).fill(Infinity);
  const xt = Tensor.fromArray(x, [n, d], 'float32');
  const perRound = Math.ceil(k / 16);
  const chosen = new Uint8Array(n);
  const prefix = new Float64Array(n);
  let have = 0;
  let round: number[] = [g.int(n)];
  for (;;) {
    for (const p of round) {
      chosen[p] = 1;
      c.set(x.subarray(p * d, p * d + d), have * d);
      have++;
    }
    if (have === k) break;
    const newC = Tensor.fromArray(c.slice((have - round.length) * d, have * d), [round.length, d], 'float32');
    const { indices, distances } = nearest(xt, newC, { k: 1 });
    const dist = distances.f32();
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = chosen[i] ? 0 : Math.max(0, dist[i]);
      if (v < minD[i]) minD[i] = v;
      total += minD[i];
      prefix[i] = total;
    }
    indices.dispose();
    distances.dispose();
    newC.dispose();
    const m = Math.min(perRound, k - have);
    round = [];
    const picked = new Set<number>();
    for (let guard = 0; round.length < m; guard++) {
      let p: number;
      if (total > 0 && guard < 100 * m) {
        const r = g.uniform() * total;
        let lo = 0, hi = n - 1; // first i with prefix[i] > r
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (prefix[mid] > r) hi = mid;
          else lo = mid + 1;
        }
        p = lo;
      } else {
        p = g.int(n); // all points coincide with centres (or sampling keeps colliding)
      }
      if (chosen[p] || picked.has(p)) {
        if (total > 0 && guard < 100 * m) continue;
        if (picked.has(p)) continue;
      }
      picked.add(p);
      round.push(p);
    }
  }
  xt.dispose();
  return c;
}

/** FAISS's rule: an empty cluster takes a copy of a cluster chosen with probability ∝ (size − 1), both perturbed ±eps. */
function splitEmpty(c: Float32Array, counts: Int32Array, k: number, d: number, n: number, g: Generator): number {
  let splits = 0;
  for (let ci = 0; ci < k; ci++) {
    if (counts[ci] !== 0) continue;
    let cj = 0;
    for (let guard = 0; ; cj = (cj + 1) % k, guard++) {
      const p = (counts[cj] - 1) / Math.max(1, n - k);
      if (g.uniform() < p || guard > 100 * k) break;
    }
    if (counts[cj] < 2) continue; // nothing to split (degenerate data)
    for (let j = 0; j < d; j++) {
      const v = c[cj * d + j];
      if (j % 2 === 0) {
        c[ci * d + j] = v * (1 + SPLIT_EPS);
        c[cj * d + j] = v * (1 - SPLIT_EPS);
      } else {
        c[ci * d + j] = v * (1 - SPLIT_EPS);
        c[cj * d + j] = v * (1 + SPLIT_EPS);
      }
    }
    counts[ci] = counts[cj] >> 1;
    counts[cj] -= counts[ci];
    splits++;
  }
  return splits;
}

function sumF32(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/**
 * k-means (Lloyd) on the rows of `x`.
 * @param x float32 `[N, D]`, finite
 * @throws ValueError / ShapeError / DTypeError naming the argument for bad input
 */
export function kmeans(x: Tensor, opts: KMeansOptions): KMeansResult {
  if (!(x instanceof Tensor)) throw new ValueError("argument 'x' must be a Tensor", 'x');
  if (x.dtype !== 'float32') throw new DTypeError(`argument 'x' must be float32, got ${x.dtype}`, 'x');
  if (x.rank !== 2) throw new ShapeError(`argument 'x' must be 2-D [N, D], got [${x.shape.join(', ')}]`, 'x');
  const [n, d] = x.shape;
  if (n === 0 || d === 0) throw new ValueError(`argument 'x' is empty ([${n}, ${d}])`, 'x');
  const { k, iterations = 25, seed = 0, init = 'kmeans++', maxPointsPerCentroid = 256, balanced = false } = opts ?? ({} as KMeansOptions);
  if (typeof balanced !== 'boolean') throw new ValueError(`argument 'balanced' must be a boolean, got ${String(balanced)}`, 'balanced');
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ValueError(`argument 'k' must be an integer in [1, ${n}] (rows of x), got ${k}`, 'k');
  if (!Number.isInteger(iterations) || iterations < 0) throw new ValueError(`argument 'iterations' must be a non-negative integer, got ${iterations}`, 'iterations');
  if (!Number.isInteger(maxPointsPerCentroid) || maxPointsPerCentroid < 0) {
    throw new ValueError(`argument 'maxPointsPerCentroid' must be a non-negative integer, got ${maxPointsPerCentroid}`, 'maxPointsPerCentroid');
  }
  const g = new Generator(seed);
  const xa = x.f32('x');
  let train = x;
  if (maxPointsPerCentroid > 0 && n > k * maxPointsPerCentroid) {
    const ids = sampleWithoutReplacement(n, k * maxPointsPerCentroid, g);
    ids.sort();
    train = Tensor.fromArray(rows(xa, d, ids), [ids.length, d], 'float32');
  }
  const nt = train.shape[0];
  const ta = train.f32();
  let c: Float32Array;
  if (init instanceof Tensor) {
    if (init.dtype !== 'float32' || init.rank !== 2 || init.shape[0] !== k || init.shape[1] !== d) {
      throw new ShapeError(`argument 'init' must be a float32 [${k}, ${d}] tensor, got ${init.dtype} [${init.shape.join(', ')}]`, 'init');
    }
    c = Float32Array.from(init.f32('init'));
  } else if (init === 'random') {
    c = rows(ta, d, sampleWithoutReplacement(nt, k, g));
  } else if (init === 'kmeans++') {
    c = kmeansPlusPlus(ta, nt, d, k, g);
  } else {
    throw new ValueError(`argument 'init' must be 'kmeans++', 'random' or a Tensor, got ${String(init)}`, 'init');
  }
  const centroids = Tensor.fromArray(c, [k, d], 'float32');
  const history: number[] = [];
  let splits = 0;
  for (let it = 0; it < iterations; it++) {
    if (balanced) {
      const { assign, objective } = assignBalanced(train, centroids, k);
      history.push(objective);
      const counts = runKernel('kmeansUpdate', { x: train, assignments: assign, centroids });
      splits += splitEmpty(c, counts.i32(), k, d, nt, g);
      assign.dispose();
      counts.dispose();
      continue;
    }
    const { indices, distances } = nearest(train, centroids, { k: 1 });
    history.push(sumF32(distances.f32()));
    const assign = indices.view([nt]);
    const counts = runKernel('kmeansUpdate', { x: train, assignments: assign, centroids });
    splits += splitEmpty(c, counts.i32(), k, d, nt, g);
    indices.dispose();
    distances.dispose();
    assign.dispose();
    counts.dispose();
  }
  if (balanced) {
    const { assign, objective } = assignBalanced(x, centroids, k);
    if (train !== x) train.dispose();
    return { centroids, assignments: assign, inertia: objective, history, splits };
  }
  const { indices, distances } = nearest(x, centroids, { k: 1 });
  const inertia = sumF32(distances.f32());
  distances.dispose();
  const assignments = indices.view([n]);
  indices.dispose();
  if (train !== x) train.dispose();
  return { centroids, assignments, inertia, history, splits };
}

/** The balanced assignment of the rows of `x` to `centroids` (at most ceil(N / k) each). */
function assignBalanced(x: Tensor, centroids: Tensor, k: number): { assign: Tensor; objective: number } {
  const n = x.shape[0];
  const { indices, distances } = nearest(x, centroids, { k });
  const r = balancedAssign(indices.i32(), distances.f32(), n, k, Math.ceil(n / k));
  indices.dispose();
  distances.dispose();
  return { assign: Tensor.fromArray(r.assign, [n], 'int32'), objective: r.objective };
}
