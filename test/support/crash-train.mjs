// Child process of crash.test.js: trains a ranker with per-epoch checkpoints (resuming from
// one if present) and prints the final validation metrics as JSON, with the epochs this process
// actually trained (so a resume that retrained from scratch shows up).
import * as q from '../../dist/index.js';

const [checkpointPath] = process.argv.slice(2);
const { items, samples } = q.rank.synthetic(4096, { numItems: 150000, numUsers: 300, seed: 7 });
const valid = q.rank.synthetic(1024, { numItems: 150000, numUsers: 300, seed: 8 }).samples;
const ranker = new q.rank.Ranker({ numUsers: 300, embeddingDim: 16, hidden: [16], seed: 3 }, items);
const trained = [];
const result = await q.rank.trainRanker(ranker, samples, valid, {
  epochs: 4,
  batchSize: 512,
  seed: 5,
  patience: 10,
  onProgress: (p) => {
    if (!trained.includes(p.epoch)) trained.push(p.epoch);
  },
  ...(checkpointPath && checkpointPath !== '-' ? { checkpointPath } : {}),
});
const m = q.rank.evaluate(ranker, valid);
process.stdout.write(
  JSON.stringify({ auc: m.auc, gauc: m.gauc, logloss: m.logloss, history: result.history.map((h) => [h.epoch, h.loss, h.auc]), trained }) + '\n',
);
