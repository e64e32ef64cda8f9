// Inputs of the MPI collective tests, shared by the worker each rank runs
// (test/support/dist_worker.mjs) and the test that checks its output (test/dist_mpi.test.js), plus
// the plain-JS references. Seeded by (case, rank), so the test rebuilds every rank's input.

/** mulberry32: a tiny seeded generator, independent of the library under test. */
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

function seedOf(name, rank) {
  let h = 2166136261;
  for (const c of `${name}#${rank}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/**
 * Values whose sum depends on the order of addition: signs mixed, magnitudes from 1e-9 to 1e9
 * (float64) or 1e-12 to 1e12 (float32), and some (big, -big, 1) triples whose float64 sum loses
 * the 1 in any order but rank order.
 */
export function data(dtype, name, rank, n) {
  const g = rng(seedOf(name, rank));
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => Math.floor((g() - 0.5) * 2 ** 28));
  if (dtype === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(g() * 256));
  const span = dtype === 'float32' ? 12 : 9;
  const Ctor = dtype === 'float32' ? Float32Array : Float64Array;
  return Ctor.from({ length: n }, (_, i) => {
    if (i % 11 === 5) return rank % 2 === 0 ? 1e8 : -1e8;
    // big, -big, 1: 1 survives in rank order ((big - big) + 1) and is lost in most others.
    if (i % 13 === 7) return [1e30, -1e30, 1][rank % 3];
    const sign = g() < 0.5 ? -1 : 1;
    return sign * (1 + g()) * 10 ** Math.round((2 * g() - 1) * span);
  });
}

/** Sizes of the allReduce cases: awkward ones, one past a few chunk boundaries, and a large one. */
export const REDUCE_SIZES = [0, 1, 3, 17, 1000, 4099];

/** allGather lengths per rank: some empty, some equal, some different by rank. */
export const GATHER_LENGTHS = [(r) => r + 1, (r) => (r === 0 ? 0 : 17), (r) => 1000 + 13 * r, (r) => (r === 1 ? 5 : 0)];

export const BROADCAST_LENGTH = 1003;

/** The reference sum: rank 0's value, then ranks 1, 2, … added in order, in float64. */
export function referenceSum(dtype, parts) {
  const n = parts[0].length;
  const Ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array }[dtype];
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) {
    let s = parts[0][i];
    for (let r = 1; r < parts.length; r++) s += parts[r][i];
    out[i] = s;
  }
  return out;
}
