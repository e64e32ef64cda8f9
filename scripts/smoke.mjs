// Smoke test of an installed qarm package: import, nearest-codeword search, one ranker training step.
import * as q from 'qarm';

const x = q.randn([100, 16], { seed: 1 });
const c = q.randn([32, 16], { seed: 2 });
const { indices, distances } = q.nearest(x, c, { k: 3 });
if (indices.shape.join() !== '100,3' || distances.shape.join() !== '100,3') throw new Error('nearest: wrong shapes');

const { items, samples } = q.rank.synthetic(2048, { numItems: 500, numUsers: 50, seed: 3 });
const ranker = new q.rank.Ranker({ numUsers: 50, embeddingDim: 8, hidden: [16] }, items);
const result = await q.rank.trainRanker(ranker, samples, samples, { epochs: 1, batchSize: 1024 });
const loss = result.history[0]?.loss;
if (!Number.isFinite(loss)) throw new Error(`ranker step gave loss ${loss}`);
console.log(`smoke ok: isa ${q.isa().current}, ${q.numThreads()} threads, nearest ok, ranker loss ${loss.toFixed(4)}`);
