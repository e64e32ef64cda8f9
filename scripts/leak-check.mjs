// Leak check: 10,000 ranker training steps after a warm-up of 5,000; RSS growth over those
// 10,000 steps must stay under 5 %. (A 30,000-step probe showed RSS rising for the first few
// thousand steps as V8 and the allocator settle, then flat: that rise is warm-up, not a leak.)
// RSS is sampled right after a full GC every 250 steps inside training. Single samples swing
// by ±10 % with V8 heap resizing and the allocator keeping freed pages, so growth is judged on
// the least-squares trend of all post-warm-up samples (the growth that trend predicts over the
// run, relative to RSS at warm-up); the raw last-minus-first figure is printed as well.
// Usage: node --expose-gc scripts/leak-check.mjs [measuredSteps] [warmupSteps]
import * as os from 'node:os';
import * as q from '../dist/index.js';

const measured = Number(process.argv[2] ?? 10000);
const warmup = Number(process.argv[3] ?? 5000);
const steps = warmup + measured;
const every = 250;
const batchSize = 128;
const perEpoch = 50;
const { items, samples } = q.rank.synthetic(batchSize * perEpoch, { numItems: 5000, numUsers: 500, seed: 1, maxHistory: 50 });
const valid = q.rank.synthetic(1024, { numItems: 5000, numUsers: 500, seed: 2, maxHistory: 50 }).samples;
const ranker = new q.rank.Ranker({ numUsers: 500, embeddingDim: 16 }, items);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`,
);
console.log(`load average at start: ${load()}`);

let step = 0;
const points = [];
let tensorsWarm = 0;
let memWarm;
const t0 = Date.now();
await q.rank.trainRanker(ranker, samples, valid, {
  epochs: Math.ceil(steps / perEpoch),
  batchSize,
  patience: 1e9,
  onProgress: () => {
    step++;
    if (step >= warmup && (step % every === 0 || step === steps)) {
      global.gc?.();
      points.push([step, process.memoryUsage().rss]);
      if (step === warmup) {
        tensorsWarm = q.memory().numTensors;
        memWarm = process.memoryUsage();
      }
    }
  },
});
const tensorsEnd = q.memory().numTensors;
global.gc?.();
const memEnd = process.memoryUsage();
const n = points.length;
const mx = points.reduce((s, [x]) => s + x, 0) / n;
const my = points.reduce((s, [, y]) => s + y, 0) / n;
const slope = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
const atWarm = my + slope * (warmup - mx);
const trendGrowth = (slope * (steps - warmup)) / atWarm;
const raw = (points[n - 1][1] - points[0][1]) / points[0][1];
const mib = (b) => (b / 2 ** 20).toFixed(1);
console.log(`steps ${step} (warm-up ${warmup}), ${((Date.now() - t0) / 1000).toFixed(1)} s, ${n} RSS samples`);
console.log(`RSS samples (MiB): ${points.map(([, y]) => mib(y)).join(' ')}`);
console.log(`RSS min ${mib(Math.min(...points.map((p) => p[1])))} MiB, max ${mib(Math.max(...points.map((p) => p[1])))} MiB`);
console.log(`raw: ${mib(points[0][1])} MiB at step ${warmup} -> ${mib(points[n - 1][1])} MiB at step ${points[n - 1][0]} (${(100 * raw).toFixed(2)} %)`);
console.log(`trend: ${((slope * 1000) / 1024).toFixed(2)} KiB per 1,000 steps -> ${(100 * trendGrowth).toFixed(2)} % over ${steps - warmup} steps`);
console.log(`live tensors at warm-up ${tensorsWarm}, after training ${tensorsEnd}`);
// Where the memory is: V8 heap, ArrayBuffers (CPU tensor storage) and the rest (native heap).
for (const k of ['heapUsed', 'heapTotal', 'external', 'arrayBuffers'])
  console.log(`${k}: ${mib(memWarm[k])} MiB at warm-up, ${mib(memEnd[k])} MiB after training`);
console.log(`load average at end: ${load()}`);
if (trendGrowth >= 0.05) {
  console.log('FAIL: RSS trend grows by 5 % or more');
  process.exit(1);
}
console.log('ok: RSS growth under 5 %');
