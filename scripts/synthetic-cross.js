// Synthetic check that the cross-feature wiring learns: label = "target's level-1 code occurs
// in the history". Trains the ranker with and without cross features and prints test AUCs.
import * as q from '../dist/index.js';
const { rank } = q;
const n = Number(process.argv[2] ?? 24000);
const { items, samples } = rank.synthetic(n, { seed: 1 });
const nTrain = Math.floor(n * 0.7), nValid = Math.floor(n * 0.15);
const train = rank.sliceSamples(samples, 0, nTrain);
const valid = rank.sliceSamples(samples, nTrain, nTrain + nValid);
const test = rank.sliceSamples(samples, nTrain + nValid, n);
const out = {};
for (const [name, features] of [
  ['with cross features', { cross: true, historyCodes: false }],
  ['without cross features', { cross: false, historyCodes: false }],
]) {
  const t0 = Date.now();
  const ranker = new rank.Ranker({ numUsers: 2000, embeddingDim: 8, hidden: [32, 16], attentionHidden: [16], features, seed: 3 }, items);
  const r = await rank.trainRanker(ranker, train, valid, { epochs: 4, batchSize: 256, lr: 3e-3, seed: 1 });
  const m = rank.evaluate(ranker, test);
  out[name] = { testAuc: m.auc, bestEpoch: r.bestEpoch, valAuc: r.bestAuc, seconds: (Date.now() - t0) / 1000 };
  console.log(name, JSON.stringify(out[name]));
}
