// Quantise your own item embeddings into QARM's semantic codes (RQ and VQ) and read the codes'
// statistics.
//
//   node quantize-embeddings.mjs [embeddings.npy] [out-dir]
//
// embeddings.npy: float32 [items, D], one row per item, e.g. the vectors of your image, video or
// text model (numpy: np.save('embeddings.npy', x.astype(np.float32))). Without arguments the
// script first writes a small clustered table of its own, so it runs as it is.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, RQKMeans, codeStats, disambiguate, readNpy, tensor, vqCodes, writeNpy } from 'qarm';

const out = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'qarm-codes-'));
const input = process.argv[2] ?? writeDemoEmbeddings(join(out, 'demo-embeddings.npy'));

const x = readNpy(input); // float32 [N, D]
const [n, dim] = x.shape;
console.log(`${input}: ${n} items x ${dim} dims`);

// RQ code: residual k-means. Level 1 clusters the embeddings, every further level clusters what
// the levels before it left over, so an item's code is a coarse-to-fine tuple such as (3, 12, 7).
const rq = new RQKMeans({ levels: 3, codebookSize: 16, iterations: 20, seed: 1 }).fit(x);
const rqCodes = rq.encode(x); // int32 [N, 3]
rq.save(join(out, 'rq.safetensors')); // RQKMeans.load(path) gives the same quantiser back
writeNpy(join(out, 'rq-codes.npy'), rqCodes);

// VQ code: the ids of each item's k nearest other items (cosine), the item pool being the codebook.
const vq = vqCodes(x, x, { k: 10, excludeSelf: true }); // int32 [N, 10], nearest first
writeNpy(join(out, 'vq-codes.npy'), vq);

// How well the codes use their codebooks. With the embeddings and codebooks it also reports how
// much of each item's vector the code tuple reconstructs, level by level.
const stats = codeStats(rqCodes, rq.codebookSizes, { embeddings: x, codebooks: rq.codebooks });
stats.levels.forEach((l, i) => {
  console.log(
    `RQ level ${i + 1}: ${l.used}/${rq.codebookSizes[i]} codes used, perplexity ${l.perplexity.toFixed(1)}, ` + `relative error ${l.relativeError.toFixed(3)}`,
  );
});
console.log(
  `RQ tuples: ${stats.uniqueTuples} distinct, ${(100 * stats.collisionRate).toFixed(1)} % of items share theirs, ` + `largest bucket ${stats.largestBucket}`,
);

// Items whose whole tuple collides can be told apart by a counter level (a unique semantic ID).
const unique = disambiguate(rqCodes); // int32 [N, 4]
const uniqueStats = codeStats(unique, [...rq.codebookSizes, n]);
console.log(`after disambiguate: ${uniqueStats.uniqueTuples} distinct tuples for ${n} items`);
console.log(`VQ code of item 0: [${Array.from(vq.toTypedArray().subarray(0, 10)).join(', ')}]`);
console.log(`wrote rq.safetensors, rq-codes.npy and vq-codes.npy to ${out}`);

// Sanity checks, so that `npm run examples` fails if the library misbehaves.
const err = stats.levels.map((l) => l.relativeError);
assert.ok(err[0] < 1 && err[1] <= err[0] && err[2] <= err[1], `relative error should fall level by level: ${err}`);
assert.equal(uniqueStats.uniqueTuples, n);
if (process.argv[2] === undefined) {
  // In the demo table item i belongs to category i % 12: its nearest items must share it.
  assert.ok(
    Array.from(vq.toTypedArray().subarray(0, 10)).every((id) => id % 12 === 0),
    'VQ neighbours of item 0 should share its category',
  );
}
for (const t of [x, rqCodes, vq, unique]) t.dispose();

/** Clustered float32 [600, 32] embeddings: 12 "categories", each a direction plus noise. */
function writeDemoEmbeddings(file) {
  const g = new Generator(42);
  const [items, d, clusters] = [600, 32, 12];
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => g.normal()));
  const data = new Float32Array(items * d);
  for (let i = 0; i < items; i++) {
    const c = centres[i % clusters];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + 0.3 * g.normal();
  }
  const t = tensor(data, [items, d]);
  writeNpy(file, t);
  t.dispose();
  return file;
}
