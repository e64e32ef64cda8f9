// The cases of the row-wise sharded table tests, shared by the worker each rank runs
// (test/support/dist_shard_worker.mjs) and the test that trains the same rankers in one process
// (test/dist_shard_mpi.test.js). The data and the first two cases are those of the replicated
// tests (test/support/dist_rank_data.js); the third adds a VQ bag table of 7 rows and a user
// table of 4 rows (3 users + OOV), so on 3 ranks one rank owns 2 rows and the others 1, and
// nearly every sample reads the OOV user row (duplicates within every batch).
import { CASES as REPLICATED_CASES, RANKER, rankData } from './dist_rank_data.js';

export { flatParams } from './dist_rank_data.js';

/** `rankData` plus VQ codes (4 per item from a pool of 7, some slots empty) on the item table. */
export function shardData(q) {
  const d = rankData(q);
  const { numItems } = d.items;
  const k = 4;
  const codes = new Int32Array(numItems * k);
  let s = 99;
  for (let i = 0; i < codes.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    codes[i] = (s >>> 8) % 9 === 8 ? -1 : (s >>> 8) % 7;
  }
  return { ...d, vqItems: { ...d.items, vq: { codes, k, poolSize: 7 } } };
}

const VQ_RANKER = { ...RANKER, numUsers: 3, features: { vq: true, vqHistory: true, vqCross: true } };

export const CASES = [
  ...REPLICATED_CASES.map((c) => ({ ...c, ranker: RANKER, items: 'items' })),
  {
    name: 'VQ bags, a 4-row user table, clipping',
    ranker: VQ_RANKER,
    items: 'vqItems',
    opts: { epochs: 2, batchSize: 64, lr: 3e-3, seed: 3, patience: 5, maxGradNorm: 0.3, itemIdDropout: 0.1 },
  },
];
