// One rank of the row-wise sharded table tests (test/dist_shard_mpi.test.js starts it under
// mpirun): trains every case of dist_shard_data.js with `tableSharding: 'row'` and replicated,
// records the tables' shapes while training, checks resume, and writes what it got to
// <outDir>/rank<r>.json (arrays as base64 bytes).
// Usage: node dist_shard_worker.mjs <outDir>
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as q from '../../dist/index.js';
import { CASES, flatParams, shardData } from './dist_shard_data.js';

const [outDir] = process.argv.slice(2);
const { dist } = q;
const rank = dist.rank;
const out = { rank, size: dist.worldSize, cases: {}, resume: null, errors: {} };
const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const data = shardData(q);
const { train, valid } = data;
const shapes = (ranker) => ranker.embeddingTables().map((t) => [...t.weight.shape]);

// Rows of the largest float32 [rows, embeddingDim] tensor built on the host (Tensor.fromArray:
// the tables' initialisation, shard/unshard, the working tables of a step), since the last reset.
let peakRows = 0;
const fromArray = q.Tensor.fromArray;
q.Tensor.fromArray = function (a, shape, dtype) {
  if (dtype === 'float32' && shape.length === 2 && shape[1] === 8) peakRows = Math.max(peakRows, shape[0]);
  return fromArray.call(this, a, shape, dtype);
};
const errorOf = (fn) => {
  try {
    fn();
    return null;
  } catch (e) {
    return { name: e.constructor.name, argument: e.argument, message: e.message };
  }
};
const perParam = (ranker) => ranker.parameters().map((p) => b64(p.toTypedArray()));

async function run(c, tableSharding, extra = {}, build = undefined) {
  peakRows = 0;
  const ranker = new q.rank.Ranker(c.ranker, data[c.items], build);
  const peakInit = peakRows;
  const shapesBuilt = shapes(ranker);
  const during = [];
  let steps = 0;
  dist.resetStats();
  const t0 = Date.now();
  const r = await q.rank.trainRanker(ranker, train, valid, {
    ...c.opts,
    dist,
    tableSharding,
    onProgress: () => steps++,
    onEpoch: () => during.push(shapes(ranker)),
    ...extra,
  });
  return {
    params: b64(flatParams(ranker)),
    history: r.history.map(({ auc, gauc, logloss, loss }) => ({ auc, gauc, logloss, loss })),
    bestEpoch: r.bestEpoch,
    bestProbs: b64(r.bestProbs),
    steps,
    stats: dist.stats(),
    seconds: (Date.now() - t0) / 1000,
    shapesDuring: during,
    shapesAfter: shapes(ranker),
    shapesBuilt,
    peakInit,
    peakRows,
    perParam: build ? perParam(ranker) : undefined,
    // A ranker left sharded evaluates over the ranks; alone, its lookups refuse.
    evalProbs: build ? b64(q.rank.evaluate(ranker, valid, { dist }).probs) : undefined,
    predictError: build ? errorOf(() => ranker.predict(valid)) : undefined,
  };
}

const tableShard = { rank, worldSize: dist.worldSize };
for (const c of CASES) {
  out.cases[c.name] = { row: await run(c, 'row'), replicated: await run(c, 'replicated'), built: await run(c, 'row', {}, { tableShard }) };
}

// Resume: a checkpoint path per rank, so only rank 0's file exists; a sharded run resumes a
// sharded checkpoint, and a replicated run the same file (one format for both).
{
  const c = CASES[0];
  const ckpt = join(outDir, `ckpt.rank${rank}`);
  const ranker = new q.rank.Ranker(c.ranker, data[c.items]);
  await q.rank.trainRanker(ranker, train, valid, { ...c.opts, epochs: 1, dist, tableSharding: 'row', checkpointPath: ckpt });
  const written = existsSync(ckpt);
  const again = async (tableSharding) => {
    const r2 = new q.rank.Ranker(c.ranker, data[c.items]);
    const epochs = [];
    const res = await q.rank.trainRanker(r2, train, valid, {
      ...c.opts,
      dist,
      tableSharding,
      checkpointPath: ckpt,
      resume: true,
      onProgress: (p) => epochs.push(p.epoch),
    });
    return { epochs: [...new Set(epochs)], params: b64(flatParams(r2)), history: res.history.map((h) => h.auc) };
  };
  // The second run overwrites the checkpoint with epoch 1: copy the epoch-0 file first.
  const { copyFileSync } = await import('node:fs');
  if (written) copyFileSync(ckpt, `${ckpt}.epoch0`);
  const row = await again('row');
  if (written) copyFileSync(`${ckpt}.epoch0`, ckpt);
  const replicated = await again('replicated');
  out.resume = { written, row, replicated };
}

// Per-rank checkpoints (checkpointSharding 'rank') of a ranker built sharded, in a folder all ranks share:
// epoch 0 written, then resumed to epoch 1 (shards of epoch 0 deleted once the manifest names epoch 1's);
// a manifest of another world size refused.
{
  const c = CASES[0];
  const base = join(outDir, 'perrank');
  const N = dist.worldSize;
  const build = () => new q.rank.Ranker(c.ranker, data[c.items], { tableShard });
  const opts = { ...c.opts, dist, tableSharding: 'row', checkpointSharding: 'rank', checkpointPath: base };
  // The same epoch without a checkpoint: what the collectives are without one.
  dist.resetStats();
  await q.rank.trainRanker(build(), train, valid, { ...c.opts, epochs: 1, dist, tableSharding: 'row' });
  const baseline = dist.stats();
  dist.resetStats();
  peakRows = 0;
  await q.rank.trainRanker(build(), train, valid, { ...opts, epochs: 1 });
  const first = {
    stats: dist.stats(),
    peakRows,
    manifest: existsSync(base) ? JSON.parse(readFileSync(base, 'utf8')) : null,
    shard0: existsSync(`${base}.e0.rank${rank}of${N}`),
  };
  dist.barrier();
  const r2 = build();
  const epochs = [];
  dist.resetStats();
  peakRows = 0;
  const res = await q.rank.trainRanker(r2, train, valid, { ...opts, onProgress: (p) => epochs.push(p.epoch) });
  const second = {
    stats: dist.stats(),
    peakRows,
    epochs: [...new Set(epochs)],
    perParam: perParam(r2),
    history: res.history.map(({ auc, gauc, logloss, loss }) => ({ auc, gauc, logloss, loss })),
    manifest: JSON.parse(readFileSync(base, 'utf8')),
    shard0: existsSync(`${base}.e0.rank${rank}of${N}`),
    shard1: existsSync(`${base}.e1.rank${rank}of${N}`),
  };
  // The same manifest claiming one more rank: every rank refuses it.
  const other = join(outDir, 'perrank-other');
  if (rank === 0) writeFileSync(other, JSON.stringify({ ...second.manifest, worldSize: N + 1, files: [...second.manifest.files, 'x'] }));
  dist.barrier();
  let mismatch = null;
  await q.rank.trainRanker(build(), train, valid, { ...opts, checkpointPath: other }).then(
    () => {},
    (e) => (mismatch = { name: e.constructor.name, argument: e.argument, message: e.message }),
  );
  // A ranker built whole writes per-rank shards too (its rows after shard()); a built-sharded one resumes them.
  const mixed = join(outDir, 'perrank-mixed');
  await q.rank.trainRanker(new q.rank.Ranker(c.ranker, data[c.items]), train, valid, { ...opts, checkpointPath: mixed, epochs: 1 });
  const r3 = build();
  const mixedEpochs = [];
  await q.rank.trainRanker(r3, train, valid, { ...opts, checkpointPath: mixed, onProgress: (p) => mixedEpochs.push(p.epoch) });
  const fromWhole = { epochs: [...new Set(mixedEpochs)], perParam: perParam(r3) };
  out.perRank = { baseline, first, second, mismatch, fromWhole };
}

// Bad or mismatched tableSharding throws on every rank (none is left waiting in a collective).
function expectError(name, fn) {
  return fn().then(
    () => (out.errors[name] = null),
    (e) => (out.errors[name] = { name: e.constructor.name, argument: e.argument, message: e.message }),
  );
}
const c0 = CASES[0];
const tiny = { epochs: 1, batchSize: 64, dist };
await expectError('tableSharding differs', () =>
  q.rank.trainRanker(new q.rank.Ranker(c0.ranker, data.items), train, valid, { ...tiny, tableSharding: rank === 1 ? 'replicated' : 'row' }),
);
await expectError('built sharded, trained replicated', () =>
  q.rank.trainRanker(new q.rank.Ranker(c0.ranker, data.items, { tableShard }), train, valid, { ...tiny, tableSharding: 'replicated' }),
);
await expectError('unknown tableSharding', () =>
  q.rank.trainRanker(new q.rank.Ranker(c0.ranker, data.items), train, valid, { ...tiny, tableSharding: 'column' }),
);

writeFileSync(join(outDir, `rank${rank}.json`), JSON.stringify(out));
