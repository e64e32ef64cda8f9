// One rank of the data-parallel ranker tests (test/dist_rank_mpi.test.js starts it under
// mpirun): trains every case of dist_rank_data.js with `dist`, checks resume from a checkpoint
// only rank 0 has, and writes what it got to <outDir>/rank<r>.json (arrays as base64 bytes).
// Usage: node dist_rank_worker.mjs <outDir>
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as q from '../../dist/index.js';
import { CASES, RANKER, flatParams, rankData } from './dist_rank_data.js';

const [outDir] = process.argv.slice(2);
const { dist } = q;
const rank = dist.rank;
const out = { rank, size: dist.worldSize, cases: {}, resume: null, errors: {} };
const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const { items, train, valid } = rankData(q);

for (const c of CASES) {
  const ranker = new q.rank.Ranker(RANKER, items);
  const steps = [];
  dist.resetStats();
  const r = await q.rank.trainRanker(ranker, train, valid, { ...c.opts, dist, onProgress: (p) => steps.push(p.loss) });
  out.cases[c.name] = {
    params: b64(flatParams(ranker)),
    history: r.history.map(({ auc, gauc, logloss, loss }) => ({ auc, gauc, logloss, loss })),
    bestEpoch: r.bestEpoch,
    bestProbs: b64(r.bestProbs),
    steps: steps.length,
    stats: dist.stats(),
  };
}

// Resume: a checkpoint path per rank, so only rank 0's file exists (the others must not need one).
{
  const c = CASES[0];
  const ckpt = join(outDir, `ckpt.rank${rank}`);
  await q.rank.trainRanker(new q.rank.Ranker(RANKER, items), train, valid, { ...c.opts, epochs: 1, dist, checkpointPath: ckpt });
  const written = existsSync(ckpt);
  const ranker = new q.rank.Ranker(RANKER, items);
  const epochs = [];
  const r = await q.rank.trainRanker(ranker, train, valid, { ...c.opts, dist, checkpointPath: ckpt, onProgress: (p) => epochs.push(p.epoch) });
  out.resume = { written, epochs: [...new Set(epochs)], params: b64(flatParams(ranker)), history: r.history.map((h) => h.auc) };
}

// Mismatched options or data throw on every rank (none is left waiting in a collective).
function expectError(name, fn) {
  return fn().then(
    () => (out.errors[name] = null),
    (e) => (out.errors[name] = { name: e.constructor.name, argument: e.argument, message: e.message }),
  );
}
const tiny = { epochs: 1, batchSize: 64, dist };
await expectError('batchSize differs', () => q.rank.trainRanker(new q.rank.Ranker(RANKER, items), train, valid, { ...tiny, batchSize: 64 + rank }));
await expectError('train differs', () =>
  q.rank.trainRanker(new q.rank.Ranker(RANKER, items), rank === 1 ? q.rank.sliceSamples(train, 0, 640) : train, valid, tiny),
);
await expectError('bad option on the last rank', () =>
  q.rank.trainRanker(new q.rank.Ranker(RANKER, items), train, valid, { ...tiny, lr: rank === dist.worldSize - 1 ? -1 : 1e-3 }),
);

writeFileSync(join(outDir, `rank${rank}.json`), JSON.stringify(out));
