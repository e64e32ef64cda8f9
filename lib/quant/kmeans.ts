/**
 * Lloyd k-means over the fused nearest-codeword kernel. The centroid update is a native,
 * deterministic reduction (rows grouped by cluster, each cluster owned by one thread, no
 * atomics); empty clusters are re-seeded by splitting a large one (FAISS's rule); large inputs
 * are subsampled to `maxPointsPerCentroid * k` training rows. Same seed → same result for any
 * thread count.
 *
 * Every step after the host draws the subsample and the first centre runs on kernels on x's
 * device (the seeded stream moves there as a state tensor), and each iteration's cluster
 * counts and sums are one explicit kernel (`clusterSums`), the statistic a distributed k-means
 * all-reduces (`dist` option, lib/quant/kmeans_dist.ts). The host reads the objectives and the
 * split count once, at the end.
 */
import type { Communicator } from '../dist/index.js';
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import type { Device } from '../tensor/dtype.js';
import { f64FromBits, f64Zeros } from '../tensor/f64_bits.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkCommunicator, kmeansDistributed } from './kmeans_dist.js';
import { nearest } from './nearest.js';

/**
 * The collectives a distributed fit calls: lib/dist's {@link Communicator} (the shared `dist`),
 * or any object with the same members (a subset of ranks, a test double).
 */
export type KMeansCommunicator = Pick<Communicator, 'rank' | 'worldSize' | 'allReduce' | 'allGather' | 'broadcast'>;

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
  /**
   * Distributed fit: each rank of the communicator (`dist` from lib/dist, under `mpirun`)
   * passes its own shard of the rows as `x` (any sizes, at least one row each; the shards in
   * rank order are the data set) and the same options. The fit is that of one process on all
   * the rows: the training subsample is drawn from the global row ids, k-means++ runs on rank 0
   * over the whole training sample (gathered once; its rows travel to every rank, about
   * `maxPointsPerCentroid · k · D · 4` bytes) and the centroids are broadcast; each iteration
   * all-reduces the float64 cluster sums, the counts and the objective (one host read and one
   * `allReduce` of `(k·D + k + 1)` float64 per iteration), and every rank applies the same
   * update and empty-cluster splits, so all ranks end with the same centroids. Only the order of
   * the float64 additions differs from one process (rank by rank), so centroids agree to float32
   * rounding. `assignments` are this rank's rows'; `inertia`, `history` and `splits` are global.
   * A tensor `init` is rank 0's. Not with `balanced` (`ValueError`). A bad argument or options
   * that differ between ranks throw on every rank. Without it, or with one rank, the fit is the
   * one-process fit, bit for bit.
   */
  dist?: KMeansCommunicator;
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

/** Host-made row ids as an int32 tensor on `device` (an upload; no tensor memory is read). */
function upload(ids: Int32Array, device: Device): Tensor {
  const t = Tensor.fromArray(ids, [ids.length], 'int32');
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
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
 * k-means++ (D² sampling) from row `first`, drawing from the device stream `rng`. Distances
 * to new centres come from the fused `nearest` kernel. For k ≤ 16 centres are drawn one at a
 * time (exact k-means++); for larger k each round draws ceil(k / 16) distinct centres from the
 * same D² distribution before the distances are updated (k-means||-style rounds), which keeps
 * the cost at about one Lloyd iteration.
 */
export function kmeansPlusPlus(x: Tensor, k: number, first: number, rng: Tensor): Tensor {
  const n = x.shape[0];
  const device = x.device;
  const perRound = Math.ceil(k / 16);
  const minDist = runKernel('fill', {}, { shape: [n], value: Infinity, device });
  const chosen = runKernel('fill', {}, { shape: [n], value: 0, dtype: 'int32', device });
  const rounds = [upload(Int32Array.of(first), device)];
  let have = 1;
  while (have < k) {
    const round = rounds[rounds.length - 1];
    const newC = runKernel('gatherRows', { table: x, indices: round }, { argName: 'x' });
    const { indices, distances } = nearest(x, newC, { k: 1 });
    const m = Math.min(perRound, k - have);
    rounds.push(runKernel('dsquaredRound', { distances, minDist, chosen, round, rng }, { m }));
    have += m;
    for (const t of [newC, indices, distances]) t.dispose();
  }
  minDist.dispose();
  chosen.dispose();
  const ids = rounds.length === 1 ? rounds[0] : runKernel('concat', Object.fromEntries(rounds.map((r, i) => [`r${i}`, r])), { axis: 0 });
  const c = runKernel('gatherRows', { table: x, indices: ids }, { argName: 'x' });
  if (ids !== rounds[0]) ids.dispose();
  for (const r of rounds) r.dispose();
  return c;
}

/**
 * k-means (Lloyd) on the rows of `x`.
 * @param x float32 `[N, D]`, finite; with `opts.dist` on several ranks, this rank's shard of the rows
 * @throws ValueError / ShapeError / DTypeError naming the argument for bad input
 */
export function kmeans(x: Tensor, opts: KMeansOptions): KMeansResult {
  const comm = opts?.dist;
  checkCommunicator(comm);
  if (comm !== undefined && comm.worldSize > 1) return kmeansDistributed(x, opts, comm);
  if (!(x instanceof Tensor)) throw new ValueError("argument 'x' must be a Tensor", 'x');
  if (x.dtype !== 'float32') throw new DTypeError(`argument 'x' must be float32, got ${x.dtype}`, 'x');
  if (x.rank !== 2) throw new ShapeError(`argument 'x' must be 2-D [N, D], got [${x.shape.join(', ')}]`, 'x');
  const [n, d] = x.shape;
  if (n === 0 || d === 0) throw new ValueError(`argument 'x' is empty ([${n}, ${d}])`, 'x');
  const { k, iterations = 25, seed = 0, init = 'kmeans++', maxPointsPerCentroid = 256, balanced = false } = opts ?? ({} as KMeansOptions);
  if (typeof balanced !== 'boolean') throw new ValueError(`argument 'balanced' must be a boolean, got ${String(balanced)}`, 'balanced');
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ValueError(`argument 'k' must be an integer in [1, ${n}] (rows of x), got ${k}`, 'k');
  if (!Number.isInteger(iterations) || iterations < 0)
    throw new ValueError(`argument 'iterations' must be a non-negative integer, got ${iterations}`, 'iterations');
  if (!Number.isInteger(maxPointsPerCentroid) || maxPointsPerCentroid < 0) {
    throw new ValueError(`argument 'maxPointsPerCentroid' must be a non-negative integer, got ${maxPointsPerCentroid}`, 'maxPointsPerCentroid');
  }
  const g = new Generator(seed);
  const device = x.device;
  let train = x;
  if (maxPointsPerCentroid > 0 && n > k * maxPointsPerCentroid) {
    const ids = sampleWithoutReplacement(n, k * maxPointsPerCentroid, g);
    ids.sort();
    const idt = upload(ids, device);
    train = runKernel('gatherRows', { table: x, indices: idt }, { argName: 'x' });
    idt.dispose();
  }
  const nt = train.shape[0];
  let initial: Tensor | null = null;
  let first = 0;
  if (init instanceof Tensor) {
    if (init.dtype !== 'float32' || init.rank !== 2 || init.shape[0] !== k || init.shape[1] !== d) {
      throw new ShapeError(`argument 'init' must be a float32 [${k}, ${d}] tensor, got ${init.dtype} [${init.shape.join(', ')}]`, 'init');
    }
    initial = runKernel('copy', { x: init });
  } else if (init === 'random') {
    const idt = upload(sampleWithoutReplacement(nt, k, g), device);
    initial = runKernel('gatherRows', { table: train, indices: idt }, { argName: 'x' });
    idt.dispose();
  } else if (init === 'kmeans++') {
    first = g.int(nt);
  } else {
    throw new ValueError(`argument 'init' must be 'kmeans++', 'random' or a Tensor, got ${String(init)}`, 'init');
  }
  // From here the seeded stream lives on the device: k-means++ rounds and splits draw from it.
  const rng = upload(g.getState(), device);
  const centroids = initial ?? kmeansPlusPlus(train, k, first, rng);
  // Objectives of the iterations and the final inertia, float64 on the device until the end.
  const objectives = f64Zeros(iterations + 1, device);
  const splits = runKernel('fill', {}, { shape: [1], value: 0, dtype: 'int32', device });
  for (let it = 0; it < iterations; it++) {
    let assign: Tensor;
    if (balanced) {
      assign = assignBalanced(train, centroids, k, objectives, it);
    } else {
      const { indices, distances } = nearest(train, centroids, { k: 1 });
      runKernel('sumF64', { x: distances, out: objectives }, { slot: it, square: false });
      assign = indices.view([nt]);
      indices.dispose();
      distances.dispose();
    }
    // The iteration's statistic (what ranks would all-reduce), then the update from it.
    const { counts, sums } = runKernel('clusterSums', { x: train, assignments: assign }, { K: k });
    runKernel('centroidsFromSums', { sums, counts, centroids });
    runKernel('splitEmptyClusters', { centroids, counts, rng, splits }, { n: nt });
    for (const t of [assign, counts, sums]) t.dispose();
  }
  let assignments: Tensor;
  if (balanced) {
    assignments = assignBalanced(x, centroids, k, objectives, iterations);
  } else {
    const { indices, distances } = nearest(x, centroids, { k: 1 });
    runKernel('sumF64', { x: distances, out: objectives }, { slot: iterations, square: false });
    assignments = indices.view([n]);
    indices.dispose();
    distances.dispose();
  }
  if (train !== x) train.dispose();
  rng.dispose();
  // The edge: the objectives and the split count come to the host once.
  const values = f64FromBits(objectives.readHost());
  const splitCount = splits.readHost()[0];
  objectives.dispose();
  splits.dispose();
  return { centroids, assignments, inertia: values[iterations], history: Array.from(values.subarray(0, iterations)), splits: splitCount };
}

/** The balanced assignment of the rows of `x` to `centroids` (at most ceil(N / k) each); its objective goes to slot `slot`. */
function assignBalanced(x: Tensor, centroids: Tensor, k: number, objectives: Tensor, slot: number): Tensor {
  const n = x.shape[0];
  const { indices, distances } = nearest(x, centroids, { k });
  const assign = runKernel('balancedAssign', { order: indices, distances, objective: objectives }, { cap: Math.ceil(n / k), slot });
  indices.dispose();
  distances.dispose();
  return assign;
}
