// One rank of the data-parallel aligner tests (test/dist_align_mpi.test.js starts it under
// mpirun): trains every case of dist_align_data.js with `dist`, checks that bad or mismatched
// options throw on every rank, and writes what it got to <outDir>/rank<r>.json (arrays as base64
// bytes). Usage: node dist_align_worker.mjs <outDir>
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as q from '../../dist/index.js';
import { CASES, alignData, flatWeights, stepGradient } from './dist_align_data.js';
import { allReduceGradients, globalRows } from '../../dist/align/data_parallel.js';
import { rankSlice } from '../../dist/dist/slice.js';

const [outDir] = process.argv.slice(2);
const { dist } = q;
const rank = dist.rank;
const out = { rank, size: dist.worldSize, cases: {}, errors: {} };
const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const data = alignData(q);
const { content, train, validation } = data;

// One step's gradient, for the batch sizes of the cases (and one that leaves rank 2 of 3 empty).
out.gradients = Object.fromEntries([32, 7, 4, 2].map((b) => [b, b64(stepGradient(q, data, b, { allReduceGradients, globalRows, rankSlice }, dist))]));

for (const c of CASES) {
  dist.resetStats();
  const r = q.trainAligner(content, train, { ...c.opts, validation, dist });
  out.cases[c.name] = {
    weights: b64(flatWeights(r.models)),
    embeddings: b64(r.embeddings.toTypedArray()),
    history: r.history.map(({ loss, validation: v, mixWeight }) => ({ loss, validation: v, mixWeight })),
    bestEpoch: r.bestEpoch,
    bestValidation: r.bestValidation,
    mixWeight: r.mixWeight,
    stats: dist.stats(),
  };
}

// onEpoch asking to stop on the last rank only, after epoch 1: every rank stops there.
{
  const epochs = [];
  const r = q.trainAligner(content, train, {
    ...CASES[0].opts,
    validation,
    dist,
    onEpoch: (e) => {
      if (e > 0) epochs.push(e);
      return e === 1 && rank === dist.worldSize - 1;
    },
  });
  out.stopped = { epochs, history: r.history.length };
}

function expectError(name, fn) {
  try {
    fn();
    out.errors[name] = null;
  } catch (e) {
    out.errors[name] = { name: e.constructor.name, argument: e.argument, message: e.message };
  }
}
const tiny = { ...CASES[0].opts, epochs: 1, validation, dist };
expectError('batchSize differs', () => q.trainAligner(content, train, { ...tiny, batchSize: 32 + rank }));
expectError('pairs differ', () =>
  q.trainAligner(content, rank === 1 ? { a: train.a.slice(1), b: train.b.slice(1), score: train.score.slice(1) } : train, tiny),
);
expectError('bad option on the last rank', () => q.trainAligner(content, train, { ...tiny, temperature: rank === dist.worldSize - 1 ? -1 : 0.2 }));

writeFileSync(join(outDir, `rank${rank}.json`), JSON.stringify(out));
