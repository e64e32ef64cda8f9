// Leak check: 10,000 ranker training steps; RSS growth after warm-up must stay under 5 %.
// Usage: node --expose-gc scripts/leak-check.mjs [steps]
import * as q from '../dist/index.js';

const steps = Number(process.argv[2] ?? 10000);
const warmup = Math.min(2000, Math.floor(steps / 5));
const batchSize = 128;
const perEpoch = 50;
const { items, samples } = q.rank.synthetic(batchSize * perEpoch, { numItems: 5000, numUsers: 500, seed: 1, maxHistory: 50 });
const valid = q.rank.synthetic(1024, { numItems: 5000, numUsers: 500, seed: 2, maxHistory: 50 }).samples;
const ranker = new q.rank.Ranker({ numUsers: 500, embeddingDim: 16 }, items);

let step = 0;
let rssWarm = 0;
let tensorsWarm = 0;
let rssEnd = 0;
let tensorsEnd = 0;
const samplesRss = [];
const t0 = Date.now();
await q.rank.trainRanker(ranker, samples, valid, {
  epochs: Math.ceil(steps / perEpoch), batchSize, patience: 1e9,
  onProgress: () => {
    step++;
    // Every sample is taken right after a full GC, inside training, so the figures compare
    // like with like (the end figure is the last training step, not post-training state).
    if (step % 1000 === 0 || step === warmup || step === steps) {
      global.gc?.();
      const rss = process.memoryUsage().rss;
      samplesRss.push([step, rss]);
      if (step === warmup) {
        rssWarm = rss;
        tensorsWarm = q.memory().numTensors;
      }
      if (step === steps) {
        rssEnd = rss;
        tensorsEnd = q.memory().numTensors;
      }
    }
  },
});
const growth = (rssEnd - rssWarm) / rssWarm;
console.log(`steps ${step}, warm-up ${warmup}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const [s, r] of samplesRss) console.log(`  step ${s}: rss ${(r / 2 ** 20).toFixed(1)} MiB`);
console.log(`rss after warm-up ${(rssWarm / 2 ** 20).toFixed(1)} MiB, at end ${(rssEnd / 2 ** 20).toFixed(1)} MiB, growth ${(100 * growth).toFixed(2)} %`);
console.log(`live tensors after warm-up ${tensorsWarm}, at the last step ${tensorsEnd}`);
if (growth >= 0.05) {
  console.log('FAIL: RSS grew by 5 % or more');
  process.exit(1);
}
console.log('ok: RSS growth under 5 %');
