// One rank of the distributed k-means tests (test/dist_kmeans_mpi.test.js starts it under
// mpirun): fits every case of dist_kmeans_data.js on this rank's shard with `dist`, and writes
// what it got to <outDir>/rank<r>.json (tensors as base64 bytes). Usage: node dist_kmeans_worker.mjs <outDir>
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as q from '../../dist/index.js';
import { KMEANS_CASES, RQ_CASES, rowsOf, shardOf } from './dist_kmeans_data.js';
import { withoutHostReads } from './host_guard.js';

const [outDir] = process.argv.slice(2);
const { dist } = q;
const rank = dist.rank;
const size = dist.worldSize;
const out = { rank, size, kmeans: {}, rq: {}, errors: {}, reads: null };
const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

function shard(c) {
  const [s, e] = shardOf(c, size, rank);
  return q.tensor(rowsOf(c).slice(s * c.d, e * c.d), [e - s, c.d]);
}

for (const c of KMEANS_CASES) {
  const x = shard(c);
  dist.resetStats();
  const r = q.kmeans(x, { ...c.opts, dist });
  const s = dist.stats();
  out.kmeans[c.name] = {
    centroids: b64(r.centroids.toTypedArray()),
    assignments: b64(r.assignments.toTypedArray()),
    inertia: r.inertia,
    history: r.history,
    splits: r.splits,
    allReduce: s.allReduce,
  };
}

for (const c of RQ_CASES) {
  const rq = new q.RQKMeans(c.opts).fit(shard(c), { dist });
  out.rq[c.name] = { codebooks: rq.codebooks.map((t) => b64(t.toTypedArray())), fitCodes: b64(rq.fitCodes), relativeError: rq.relativeError };
}

// Host reads of a fit under the host-read-forbidding backend: one per iteration, plus the seeding and the end.
{
  const c = KMEANS_CASES[0];
  const x = shard(c);
  const { explicitReads } = withoutHostReads(() => q.kmeans(x, { ...c.opts, dist }));
  out.reads = explicitReads;
}

// Bad or mismatched arguments throw on every rank (none is left waiting in a collective).
function expectError(name, fn) {
  try {
    fn();
    out.errors[name] = null;
  } catch (e) {
    out.errors[name] = { name: e.constructor.name, argument: e.argument, message: e.message };
  }
}
const x = shard(KMEANS_CASES[0]);
expectError('k differs', () => q.kmeans(x, { k: 4 + rank, iterations: 2, dist }));
expectError('k above all rows', () => q.kmeans(x, { k: 5000, iterations: 2, dist }));
expectError('balanced', () => q.kmeans(x, { k: 4, iterations: 2, balanced: true, dist }));
expectError('bad x on the last rank', () => q.kmeans(rank === size - 1 ? q.tensor([1, 2, 3]) : x, { k: 4, iterations: 2, dist }));
expectError('columns differ', () => q.kmeans(rank === 0 ? x : q.zeros([3, 5]), { k: 2, iterations: 2, dist }));
// RQKMeans.fit agrees on its levels and largest codebook before the first level's k-means.
expectError('rq levels differ', () => new q.RQKMeans({ levels: 1 + rank, codebookSize: 4, iterations: 2 }).fit(x, { dist }));
expectError('rq codebook sizes differ', () => new q.RQKMeans({ levels: 2, codebookSize: [4, 4 + rank], iterations: 2 }).fit(x, { dist }));
expectError('rq fewer rows than the largest codebook', () =>
  new q.RQKMeans({ levels: 1, codebookSize: 2 * size + 1, iterations: 2 }).fit(
    q.tensor(
      Float32Array.from({ length: 2 * x.shape[1] }, (_, i) => rank + i),
      [2, x.shape[1]],
    ),
    { dist },
  ),
);
expectError('after the errors, a fit still works', () => {
  const r = q.kmeans(x, { k: 4, iterations: 2, dist });
  if (r.centroids.shape[0] !== 4) throw new Error('bad result');
});

writeFileSync(join(outDir, `rank${rank}.json`), JSON.stringify(out));
