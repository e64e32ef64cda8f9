// Nearest-codeword search: for every query row, the k closest rows of a codebook, in one fused
// native pass (the queries x codebook distance matrix is never stored).
//
//   node nearest-search.mjs
//
// Swap in your own tensors: `readNpy('queries.npy')` and `readNpy('codebook.npy')`, float32
// [N, D] and [K, D]. Metrics: 'l2' (squared Euclidean), 'ip' (negative inner product),
// 'cosine' (1 - cosine); each row comes back sorted by distance, ties to the lower index.
import assert from 'node:assert/strict';
import { l2Normalize, nearest, nearestAsync, randn, tensor, tidy } from 'qarm';

const [K, D, N] = [2000, 64, 5000];
const codebook = randn([K, D], { seed: 1 });

// Queries: noisy copies of codebook rows q * 7 (mod K), so we know the right answer.
const cb = codebook.toTypedArray();
const noiseT = randn([N, D], { seed: 2 });
const noise = noiseT.toTypedArray();
const q = new Float32Array(N * D);
for (let i = 0; i < N; i++) {
  const src = (i * 7) % K;
  for (let j = 0; j < D; j++) q[i * D + j] = cb[src * D + j] + 0.1 * noise[i * D + j];
}
const queries = tensor(q, [N, D]);

let t = performance.now();
const { indices, distances } = nearest(queries, codebook, { k: 5, metric: 'l2' }); // int32 / float32 [N, 5]
console.log(`l2 top-5 of ${N} queries over ${K} codewords (D = ${D}): ${(performance.now() - t).toFixed(1)} ms`);
const idx = indices.toTypedArray();
const dist = distances.toTypedArray();
console.log(
  `query 0: codewords [${Array.from(idx.subarray(0, 5)).join(', ')}], ` +
    `squared distances [${Array.from(dist.subarray(0, 5), (v) => v.toFixed(2)).join(', ')}]`,
);

let hits = 0;
for (let i = 0; i < N; i++) if (idx[i * 5] === (i * 7) % K) hits++;
console.log(`top-1 is the source codeword for ${hits}/${N} queries`);

// The same search with cosine distance, off the event loop (a Promise), inside tidy(), which
// disposes every tensor made inside it except the one returned.
t = performance.now();
const top1 = await nearestAsync(queries, codebook, { k: 1, metric: 'cosine' });
console.log(`cosine top-1, async: ${(performance.now() - t).toFixed(1)} ms`);
const sameAsL2 = top1.indices.toTypedArray().every((v, i) => v === idx[i * 5]);
console.log(`cosine and l2 agree on every top-1: ${sameAsL2}`);

// For unit rows, cosine and inner-product search rank alike: 'ip' distance = cosine distance - 1.
const ipDistances = tidy(() => nearest(l2Normalize(queries), l2Normalize(codebook), { k: 1, metric: 'ip' }).distances);

// Sanity checks against a plain-JS brute force on a few queries (float64).
for (const i of [0, 1, 17, N - 1]) {
  let best = -1,
    bestD = Infinity;
  for (let c = 0; c < K; c++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += (q[i * D + j] - cb[c * D + j]) ** 2;
    if (s < bestD) [best, bestD] = [c, s];
  }
  assert.equal(idx[i * 5], best, `query ${i}`);
  assert.ok(Math.abs(dist[i * 5] - bestD) <= 1e-3 * (1 + bestD), `query ${i} distance`);
}
assert.equal(hits, N);
const ipd = ipDistances.toTypedArray(),
  cosd = top1.distances.toTypedArray();
for (let i = 0; i < N; i++) assert.ok(Math.abs(ipd[i] - (cosd[i] - 1)) < 1e-4, `ip vs cosine at ${i}`);
for (const x of [codebook, noiseT, queries, indices, distances, top1.indices, top1.distances, ipDistances]) x.dispose();
