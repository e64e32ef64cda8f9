// The cases of the distributed k-means tests, shared by the worker each rank runs
// (test/support/dist_kmeans_worker.mjs) and the test that fits the same rows in one process and
// compares (test/dist_kmeans_mpi.test.js). Each case's rows are one seeded data set; `shards`
// gives each rank's share, in rank order, per world size (awkward on purpose: uneven, a rank
// with one row, k close to the number of rows).

/** mulberry32, independent of the library under test. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** float32 [n, d]: a mixture of `centres` Gaussian blobs (spread 4, noise 0.5 by Box-Muller). */
export function mixture(n, d, centres, seed) {
  const g = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - g())) * Math.cos(2 * Math.PI * g());
  const mu = Float32Array.from({ length: centres * d }, () => 4 * normal());
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(g() * centres);
    for (let j = 0; j < d; j++) x[i * d + j] = mu[c * d + j] + 0.5 * normal();
  }
  return x;
}

/** kmeans cases: options are those of kmeans() apart from `dist`. */
export const KMEANS_CASES = [
  { name: 'uneven shards', n: 1200, d: 8, centres: 10, opts: { k: 12, iterations: 12, seed: 3 }, shards: { 2: [900, 300], 3: [1, 700, 499] } },
  {
    name: 'subsampled, a rank with one row',
    n: 4000,
    d: 6,
    centres: 6,
    opts: { k: 6, iterations: 10, seed: 5, maxPointsPerCentroid: 40 },
    shards: { 2: [1, 3999], 3: [2000, 1, 1999] },
  },
  { name: 'k close to n', n: 30, d: 4, centres: 5, opts: { k: 27, iterations: 8, seed: 7 }, shards: { 2: [19, 11], 3: [1, 17, 12] } },
  {
    name: 'k-means++ in rounds (k > 16)',
    n: 2000,
    d: 8,
    centres: 40,
    opts: { k: 40, iterations: 10, seed: 9 },
    shards: { 2: [1000, 1000], 3: [333, 1, 1666] },
  },
  {
    // Rows scaled by 1 down to 1e-9, so float64 sums round and adding rank by rank (not row by
    // row) changes their last bits (the objectives show it); the float32 rounding of the
    // centroids absorbs it here.
    name: 'rows scaled 1 to 1e-9',
    n: 3000,
    d: 6,
    centres: 8,
    scaled: true,
    opts: { k: 10, iterations: 10, seed: 13 },
    shards: { 2: [1777, 1223], 3: [1000, 1, 1999] },
  },
  {
    // Six distinct rows, repeated: random init picks copies of the same row, so clusters come out
    // empty and are split (FAISS's rule, drawing from the seeded stream) in several iterations.
    name: 'empty clusters split',
    n: 90,
    d: 4,
    centres: 3,
    distinct: 6,
    opts: { k: 10, iterations: 6, seed: 1, init: 'random' },
    shards: { 2: [50, 40], 3: [1, 60, 29] },
  },
  { name: 'random init', n: 800, d: 5, centres: 9, opts: { k: 9, iterations: 10, seed: 11, init: 'random' }, shards: { 2: [5, 795], 3: [400, 399, 1] } },
];

/** RQKMeans cases: options of the constructor. */
export const RQ_CASES = [
  {
    name: 'three levels',
    n: 1500,
    d: 8,
    centres: 12,
    opts: { levels: 3, codebookSize: [16, 8, 4], iterations: 8, seed: 2 },
    shards: { 2: [1000, 500], 3: [1, 1000, 499] },
  },
];

/** Row range [start, end) of rank `rank` in a case for world size `np`. */
export function shardOf(c, np, rank) {
  const sizes = c.shards[np];
  const start = sizes.slice(0, rank).reduce((s, v) => s + v, 0);
  return [start, start + sizes[rank]];
}

/** The case's rows. */
export function rowsOf(c) {
  const x = mixture(c.n, c.d, c.centres, c.n * 31 + c.d);
  if (c.distinct) for (let i = c.distinct; i < c.n; i++) x.copyWithin(i * c.d, (i % c.distinct) * c.d, (i % c.distinct) * c.d + c.d);
  if (c.scaled) for (let i = 0; i < c.n; i++) for (let j = 0; j < c.d; j++) x[i * c.d + j] *= 10 ** -(1.5 * (i % 7));
  return x;
}
