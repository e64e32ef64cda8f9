/**
 * Distributed k-means: {@link kmeans} with `dist` set and more than one rank. Each rank passes
 * its own shard of the rows; the shards in rank order are the data set. The fit is the
 * one-process fit of the concatenated rows, step for step:
 *
 * - every rank draws the same training subsample of the global row ids from the seed (no
 *   communication) and keeps the sampled rows it holds;
 * - k-means++ runs on rank 0 over the whole training sample (gathered once, see below) and the
 *   centroids and the advanced seeded stream are broadcast; `random` and tensor inits need no
 *   k-means++ (a tensor init is rank 0's, broadcast);
 * - each iteration, every rank computes its rows' cluster counts, float64 sums and objective
 *   (one host read), one `allReduce` of float64 adds them in rank order, and every rank applies
 *   the same update and the same empty-cluster splits to the same reduced numbers, so the
 *   centroids never diverge between ranks.
 *
 * The only difference from the one-process fit is the order of the float64 additions (within a
 * rank in row order, then rank by rank), a few ulps of float64 before the float32 rounding.
 * @internal
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import type { Device } from '../tensor/dtype.js';
import { f64FromBits, f64Zeros } from '../tensor/f64_bits.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { kmeansPlusPlus, type KMeansCommunicator, type KMeansOptions, type KMeansResult } from './kmeans.js';
import { nearest } from './nearest.js';

/** Host data as a tensor on `device` (an upload; no tensor memory is read). */
function uploadArray(data: Float32Array | Int32Array, shape: number[], device: Device): Tensor {
  const t = Tensor.fromArray(data, shape, data instanceof Float32Array ? 'float32' : 'int32');
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/**
 * `sampleWithoutReplacement`'s draws (lib/quant/kmeans.ts) (the same ids in the same order from the same
 * stream), with the swapped positions kept in a map: O(m) memory instead of O(n), since n here
 * is the rows of all ranks, which one rank need not be able to hold.
 */
export function sampleIdsSparse(n: number, m: number, g: Generator): Int32Array {
  const moved = new Map<number, number>();
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const j = i + g.int(n - i);
    const vi = moved.get(i) ?? i;
    const vj = moved.get(j) ?? j;
    moved.set(j, vi);
    out[i] = vj;
  }
  return out;
}

/** Where each rank's rows sit in the data set, agreed by all ranks. */
export interface ShardLayout {
  /** Rows of each rank, in rank order. */
  rows: number[];
  /** First global row of each rank. */
  offsets: number[];
  /** All rows. */
  total: number;
}

const INIT_CODES = { 'kmeans++': 1, random: 2, tensor: 3 } as const;

/**
 * Refuses a `dist` option that is not a communicator (kmeans and RQKMeans.fit take the same one);
 * `undefined` means no distributed fit.
 */
export function checkCommunicator(comm: KMeansCommunicator | undefined): void {
  if (comm === undefined) return;
  if (comm === null || typeof comm !== 'object' || !Number.isInteger(comm.worldSize) || typeof comm.allReduce !== 'function') {
    throw new ValueError("argument 'dist' must be a Communicator (lib/dist's dist)", 'dist');
  }
}

/**
 * Checks x and the options on this rank, then agrees with the other ranks (one small
 * allGather) on the layout and that every rank passed the same options; a problem on any rank
 * throws on every rank (the rank at fault gets its own error, the others a ValueError naming
 * it), so no rank is left waiting in a later collective.
 */
export function agreeShards(
  comm: KMeansCommunicator,
  x: Tensor,
  settings: Record<string, number>,
  check: () => void,
  minRowsPerRank: number,
): ShardLayout & { d: number } {
  let local: unknown = null;
  try {
    if (!(x instanceof Tensor)) throw new ValueError("argument 'x' must be a Tensor", 'x');
    if (x.dtype !== 'float32') throw new DTypeError(`argument 'x' must be float32, got ${x.dtype}`, 'x');
    if (x.rank !== 2) throw new ShapeError(`argument 'x' must be 2-D [N, D], got [${x.shape.join(', ')}]`, 'x');
    if (x.shape[1] === 0) throw new ValueError(`argument 'x' has no columns ([${x.shape.join(', ')}])`, 'x');
    if (x.shape[0] < minRowsPerRank) {
      throw new ValueError(`argument 'x' has ${x.shape[0]} rows on rank ${comm.rank}; every rank needs at least ${minRowsPerRank}`, 'x');
    }
    check();
  } catch (e) {
    local = e;
  }
  const keys = Object.keys(settings);
  const ok = local === null;
  const mine = Float64Array.from([ok ? 1 : 0, ok ? x.shape[0] : -1, ok ? x.shape[1] : -1, ...keys.map((k) => settings[k])]);
  const all = comm.allGather(mine);
  if (local !== null) throw local;
  const bad = all.findIndex((h) => h[0] !== 1);
  if (bad >= 0) throw new ValueError(`rank ${bad} passed an invalid 'x' or options to a distributed fit (see its error)`, 'x');
  const d = all[0][2];
  if (all.some((h) => h[2] !== d)) {
    throw new ShapeError(`argument 'x' must have the same columns on every rank (${all.map((h, r) => `rank ${r}: ${h[2]}`).join(', ')})`, 'x');
  }
  keys.forEach((key, i) => {
    const v = all[0][3 + i];
    if (all.some((h) => !Object.is(h[3 + i], v))) {
      const list = all.map((h, r) => `rank ${r}: ${h[3 + i]}`).join(', ');
      throw new ValueError(`argument '${key}' must be the same on every rank of a distributed fit (${list})`, key);
    }
  });
  const rows = all.map((h) => h[1]);
  const offsets: number[] = [];
  let total = 0;
  for (const r of rows) {
    offsets.push(total);
    total += r;
  }
  return { rows, offsets, total, d };
}

/** The rows of `t` (float32 [m, D] on any device) gathered from every rank, in rank order: float32 [Σm, D] on `device`. */
function gatherRowsEverywhere(comm: KMeansCommunicator, t: Tensor | null, d: number, device: Device): Tensor {
  const mine = t === null ? new Float32Array(0) : (t.readHost() as Float32Array);
  const parts = comm.allGather(mine);
  const total = parts.reduce((s, p) => s + p.length, 0);
  const all = new Float32Array(parts[0].buffer, parts[0].byteOffset, total);
  return uploadArray(all, [total / d, d], device);
}

/** Distributed {@link kmeans}; `comm.worldSize > 1`. */
export function kmeansDistributed(x: Tensor, opts: KMeansOptions, comm: KMeansCommunicator): KMeansResult {
  const { k, iterations = 25, seed = 0, init = 'kmeans++', maxPointsPerCentroid = 256, balanced = false } = opts ?? ({} as KMeansOptions);
  const initCode: number =
    init instanceof Tensor ? INIT_CODES.tensor : init === 'kmeans++' ? INIT_CODES['kmeans++'] : init === 'random' ? INIT_CODES.random : 0;
  const layout = agreeShards(
    comm,
    x,
    { k, iterations, seed, maxPointsPerCentroid, init: initCode },
    () => {
      if (balanced !== false) {
        throw new ValueError('argument \'balanced\': balanced k-means needs every row at once and has no distributed form; fit without "dist"', 'balanced');
      }
      if (!Number.isInteger(k) || k < 1) throw new ValueError(`argument 'k' must be a positive integer, got ${k}`, 'k');
      if (!Number.isInteger(iterations) || iterations < 0)
        throw new ValueError(`argument 'iterations' must be a non-negative integer, got ${iterations}`, 'iterations');
      if (!Number.isInteger(maxPointsPerCentroid) || maxPointsPerCentroid < 0) {
        throw new ValueError(`argument 'maxPointsPerCentroid' must be a non-negative integer, got ${maxPointsPerCentroid}`, 'maxPointsPerCentroid');
      }
      if (!Number.isFinite(seed)) throw new ValueError(`argument 'seed' must be a number, got ${seed}`, 'seed');
      if (initCode === 0) throw new ValueError(`argument 'init' must be 'kmeans++', 'random' or a Tensor, got ${String(init)}`, 'init');
      if (init instanceof Tensor && (init.dtype !== 'float32' || init.rank !== 2 || init.shape[0] !== k || init.shape[1] !== x.shape[1])) {
        throw new ShapeError(`argument 'init' must be a float32 [${k}, ${x.shape[1]}] tensor, got ${init.dtype} [${init.shape.join(', ')}]`, 'init');
      }
    },
    1,
  );
  const { total: n, d } = layout;
  if (k > n) throw new ValueError(`argument 'k' must be an integer in [1, ${n}] (rows of x on all ranks), got ${k}`, 'k');
  const me = comm.rank;
  const size = comm.worldSize;
  const device = x.device;
  const nLocal = x.shape[0];

  // The training rows: the one-process subsample of the global ids, each rank keeping its own.
  const g = new Generator(seed);
  let train: Tensor | null = x;
  let trainRows = layout.rows.slice();
  if (maxPointsPerCentroid > 0 && n > k * maxPointsPerCentroid) {
    const ids = sampleIdsSparse(n, k * maxPointsPerCentroid, g);
    ids.sort();
    trainRows = layout.offsets.map((off, r) => {
      let c = 0;
      for (const id of ids) if (id >= off && id < off + layout.rows[r]) c++;
      return c;
    });
    const off = layout.offsets[me];
    const mine = ids.filter((id) => id >= off && id < off + nLocal).map((id) => id - off);
    if (mine.length === 0) train = null;
    else {
      const idt = uploadArray(mine, [mine.length], device);
      train = runKernel('gatherRows', { table: x, indices: idt }, { argName: 'x' });
      idt.dispose();
    }
  }
  const nt = trainRows.reduce((s, r) => s + r, 0);
  const ntLocal = trainRows[me];

  // Initial centroids, identical on every rank, and the seeded stream after them.
  let centroids: Tensor;
  let rng: Tensor;
  if (init instanceof Tensor) {
    const c = comm.broadcast(me === 0 ? (init.readHost() as Float32Array) : new Float32Array(0), 0);
    centroids = uploadArray(c, [k, d], device);
    rng = uploadArray(g.getState(), [4], device);
  } else if (init === 'random') {
    // The one-process draw of k training positions; each rank sends the rows it holds, in draw order.
    const pick = sampleIdsSparse(nt, k, g);
    const starts: number[] = [];
    let acc = 0;
    for (const r of trainRows) {
      starts.push(acc);
      acc += r;
    }
    const owner = (p: number) => {
      let r = size - 1;
      while (starts[r] > p) r--;
      return r;
    };
    const mine = Int32Array.from(
      Array.from(pick).filter((p) => owner(p) === me),
      (p) => p - starts[me],
    );
    let rows: Tensor | null = null;
    if (mine.length > 0 && train !== null) {
      const idt = uploadArray(mine, [mine.length], device);
      rows = runKernel('gatherRows', { table: train, indices: idt }, { argName: 'x' });
      idt.dispose();
    }
    const parts = comm.allGather(rows === null ? new Float32Array(0) : (rows.readHost() as Float32Array));
    rows?.dispose();
    const c = new Float32Array(k * d);
    const next = new Array<number>(size).fill(0);
    pick.forEach((p, i) => {
      const r = owner(p);
      c.set(parts[r].subarray(next[r] * d, (next[r] + 1) * d), i * d);
      next[r]++;
    });
    centroids = uploadArray(c, [k, d], device);
    rng = uploadArray(g.getState(), [4], device);
  } else {
    // k-means++ on rank 0 over the whole training sample (the rows the one-process fit seeds from).
    const first = g.int(nt);
    const all = gatherRowsEverywhere(comm, train, d, device);
    let seeded: Float32Array = new Float32Array(0);
    let state: Int32Array = new Int32Array(0);
    if (me === 0) {
      const r0 = uploadArray(g.getState(), [4], device);
      const c0 = kmeansPlusPlus(all, k, first, r0);
      seeded = c0.readHost() as Float32Array;
      state = r0.readHost() as Int32Array;
      c0.dispose();
      r0.dispose();
    }
    all.dispose();
    centroids = uploadArray(comm.broadcast(seeded, 0), [k, d], device);
    rng = uploadArray(comm.broadcast(state, 0), [4], device);
  }

  // Lloyd iterations: local statistic → one host read → one allReduce → the same update everywhere.
  const history: number[] = [];
  const splits = runKernel('fill', {}, { shape: [1], value: 0, dtype: 'int32', device });
  const kd = k * d;
  for (let it = 0; it < iterations; it++) {
    // [sums (k·d doubles), objective (1 double), counts (k, as doubles)]
    const payload = new Float64Array(kd + 1 + k);
    if (train !== null) {
      const { indices, distances } = nearest(train, centroids, { k: 1 });
      const obj = f64Zeros(1, device);
      runKernel('sumF64', { x: distances, out: obj }, { slot: 0, square: false });
      const assign = indices.view([ntLocal]);
      const { counts, sums } = runKernel('clusterSums', { x: train, assignments: assign }, { K: k });
      const flatSums = sums.view([kd * 2]);
      const flatObj = obj.view([2]);
      const packed = runKernel('concat', { sums: flatSums, objective: flatObj, counts }, { axis: 0 });
      const host = packed.readHost() as Int32Array;
      payload.set(f64FromBits(host.subarray(0, 2 * (kd + 1))));
      const cs = host.subarray(2 * (kd + 1));
      for (let c = 0; c < k; c++) payload[kd + 1 + c] = cs[c];
      for (const t of [indices, distances, obj, assign, counts, sums, flatSums, flatObj, packed]) t.dispose();
    }
    const sum = comm.allReduce(payload);
    history.push(sum[kd]);
    const sumsT = uploadArray(new Int32Array(sum.buffer, sum.byteOffset, 2 * kd).slice(), [k, d, 2], device);
    const countsT = uploadArray(Int32Array.from(sum.subarray(kd + 1)), [k], device);
    runKernel('centroidsFromSums', { sums: sumsT, counts: countsT, centroids });
    runKernel('splitEmptyClusters', { centroids, counts: countsT, rng, splits }, { n: nt });
    sumsT.dispose();
    countsT.dispose();
  }

  // Every row of this rank's shard to its nearest final centroid; the inertia is summed over ranks.
  const { indices, distances } = nearest(x, centroids, { k: 1 });
  const inertiaT = f64Zeros(1, device);
  runKernel('sumF64', { x: distances, out: inertiaT }, { slot: 0, square: false });
  const assignments = indices.view([nLocal]);
  indices.dispose();
  distances.dispose();
  if (train !== null && train !== x) train.dispose();
  rng.dispose();
  const inertia = comm.allReduce(f64FromBits(inertiaT.readHost()).slice())[0];
  const splitCount = splits.readHost()[0];
  inertiaT.dispose();
  splits.dispose();
  return { centroids, assignments, inertia, history, splits: splitCount };
}
