// The cases of the data-parallel aligner tests, shared by the worker each rank runs
// (test/support/dist_align_worker.mjs) and the test that trains the same aligners in one
// process and compares (test/dist_align_mpi.test.js). Small on purpose: a few seconds per rank.

/** A seeded uniform stream in [0, 1) (an LCG: the worker and the test need the same numbers). */
function stream(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

/**
 * 150 items in 10 clusters of content (24 dims, noisy), and behaviour pairs that mostly join
 * items of the same cluster but are shifted by one cluster a third of the time (so that the
 * aligner has something to learn that content alone does not say): 257 training pairs (a prime,
 * so no batch size divides it) and 120 validation pairs.
 */
export function alignData(q) {
  const n = 150;
  const d = 24;
  const rnd = stream(77);
  const centres = Array.from({ length: 10 }, () => Array.from({ length: d }, () => rnd() * 2 - 1));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) x[i * d + c] = centres[i % 10][c] + 0.8 * (rnd() * 2 - 1);
  const pairs = (count) => {
    const a = new Int32Array(count);
    const b = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      a[k] = Math.floor(rnd() * n);
      const cluster = (a[k] % 10) + (rnd() < 1 / 3 ? 1 : 0);
      b[k] = (cluster % 10) + 10 * Math.floor(rnd() * (n / 10));
      if (b[k] === a[k]) b[k] = (b[k] + 10) % n;
    }
    return { a, b, score: Float32Array.from({ length: count }, () => 1) };
  };
  const train = pairs(257);
  const validation = pairs(120);
  return { content: q.tensor(x, [n, d]), train, validation };
}

/** Every projector's parameters (ensemble members in order) as one float32 array. */
export function flatWeights(models) {
  const parts = models.flatMap((m) => m.parameters().map((p) => Float32Array.from(p.toTypedArray())));
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const BASE = { dims: 8, hidden: [16], temperature: 0.2, lr: 5e-3, validationK: 10, patience: 2, seed: 3 };

// Batch 32 splits 16/16 and 11/11/10; 257 = 8 · 32 + 1 leaves one pair out of every epoch.
// Batch 7 splits 4/3 and 3/2/2; batch 4 on 3 ranks gives ranks 1 and 2 one row each; batch 2 on
// 3 ranks leaves rank 2 without rows in every step.
export const CASES = [
  { name: 'batch 32, mixed retrieval space', opts: { ...BASE, batchSize: 32, epochs: 6, contentMix: [1, 0.8], ensemble: 1 } },
  {
    name: 'batch 7, ensemble of 2, neighbourhood term, weight decay',
    opts: { ...BASE, batchSize: 7, epochs: 3, ensemble: 2, neighbourhoodWeight: 0.5, weightDecay: 1e-3, contentMix: [1] },
  },
  { name: 'batch 4 (a rank with one row)', opts: { ...BASE, batchSize: 4, epochs: 2, ensemble: 1, contentMix: [1] } },
  { name: 'batch 2 (a rank with none)', opts: { ...BASE, batchSize: 2, epochs: 1, ensemble: 1, contentMix: [1], patience: 1 } },
];

/**
 * One step's gradient of the projector on the first `batch` training pairs, as data-parallel
 * training computes it on this rank (its slice projected, the global rows exchanged, the global
 * loss differentiated, the gradients all-reduced) when `dp` (dist/align/data_parallel.js and
 * `rankSlice`) and `comm` are given, or as one process does without them. Adam hides a wrong
 * scale of the gradient (its step is invariant to it), so the tests compare the gradient itself.
 */
export function stepGradient(q, { content, train }, batch, dp, comm) {
  const m = new q.nn.MLP([content.shape[1], 16, 8], { seed: 5 });
  const project = (ids) => q.l2Normalize(m.forward(q.gather(content, q.Tensor.fromArray(ids, [ids.length], 'int32'))));
  const ia = train.a.slice(0, batch);
  const ib = train.b.slice(0, batch);
  let za;
  let zb;
  if (dp) {
    const [lo, hi] = dp.rankSlice(batch, comm.worldSize, comm.rank);
    [za, zb] = dp.globalRows(comm, hi > lo ? [project(ia.slice(lo, hi)), project(ib.slice(lo, hi))] : null, 2, 8, 'cpu');
    const l = q.infoNCE(za, zb, 0.2);
    if (hi > lo) l.backward();
    dp.allReduceGradients(comm, m.parameters());
  } else {
    q.infoNCE(project(ia), project(ib), 0.2).backward();
  }
  return flatWeights(m.parameters().map((p) => ({ parameters: () => [p.grad] })));
}
