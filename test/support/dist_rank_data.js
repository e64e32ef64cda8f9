// The cases of the data-parallel ranker tests, shared by the worker each rank runs
// (test/support/dist_rank_worker.mjs) and the test that trains the same ranker in one process
// and compares (test/dist_rank_mpi.test.js). Small on purpose (a few seconds per rank on a busy
// machine), with history, RQ codes, the code-match cross features and target attention on.

/**
 * The synthetic task of lib/rank/synthetic.ts with 30 % of the labels flipped (so that AUC is
 * far from 1 and a wrong step shows in it): train, valid and the item table.
 */
export function rankData(q) {
  const { items, samples } = q.rank.synthetic(641 + 301, { numItems: 2000, numUsers: 300, maxHistory: 10, seed: 5 });
  let s = 12345;
  for (let i = 0; i < samples.size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    if (s / 4294967296 < 0.3) samples.label[i] = 1 - samples.label[i];
  }
  return { items, train: q.rank.sliceSamples(samples, 0, 641), valid: q.rank.sliceSamples(samples, 641, 641 + 301) };
}

/** A small ranker: user and item ids, per-level RQ codes, code-aware history, attention and the cross features. */
export const RANKER = { numUsers: 300, embeddingDim: 8, hidden: [16, 8], attentionHidden: [8], features: {}, seed: 3 };

// 641 = 10 · 64 + 1: the last global batch has one sample, so ranks 1 (and 2) train on none of it;
// 641 = 12 · 50 + 41: uneven slices of the last batch (21/20, 14/14/13) and of every batch on 3 ranks.
export const CASES = [
  { name: 'adam', opts: { epochs: 2, batchSize: 64, lr: 3e-3, seed: 7, patience: 5 } },
  {
    name: 'adagrad, id and code dropout, clipping, weight decay',
    opts: {
      epochs: 2,
      batchSize: 50,
      lr: 3e-3,
      seed: 11,
      patience: 5,
      sparseOptimizer: 'adagrad',
      itemIdDropout: 0.2,
      historyIdDropout: 0.1,
      codeDropout: true,
      maxGradNorm: 0.5,
      weightDecay: 1e-4,
    },
  },
];

/** Every parameter of `ranker`, concatenated (float32). */
export function flatParams(ranker) {
  const ps = ranker.parameters().map((p) => p.toTypedArray());
  const out = new Float32Array(ps.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of ps) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
