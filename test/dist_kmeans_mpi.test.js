// Distributed k-means and RQKMeans.fit over real MPI processes: mpirun starts
// test/support/dist_kmeans_worker.mjs on 2 and 3 ranks, each fitting its shard of the cases of
// test/support/dist_kmeans_data.js with `dist`; this file fits the same rows in one process and
// compares. Needs Open MPI's mpirun (Debian: apt-get install openmpi-bin); without it the
// suite skips and says why. The one-rank checks below run everywhere.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { mpirunMissing, runJob as runJobOf } from './support/mpirun.js';
import { KMEANS_CASES, RQ_CASES, rowsOf } from './support/dist_kmeans_data.js';

const worker = new URL('./support/dist_kmeans_worker.mjs', import.meta.url).pathname;

const runJob = (np) => runJobOf(worker, np, { prefix: 'qarm-dkm-' });

const f32 = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const i32 = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Int32Array(b.buffer, b.byteOffset, b.length / 4);
};
const concat = (parts) => Int32Array.from(parts.flatMap((p) => Array.from(p)));

/** max |a - b| / max |b|: the centroids' difference relative to their scale. */
function relDiff(a, b) {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function agreement(a, b) {
  assert.equal(a.length, b.length);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

const CENTROID_TOL = 1e-5;
const CODE_AGREEMENT = 0.999;

describe('distributed k-means and RQKMeans.fit over MPI (mpirun)', function () {
  this.timeout(180000);
  const skip = mpirunMissing();
  const jobs = {};
  const ref = { kmeans: {}, rq: {} };

  before(function () {
    if (skip) {
      console.warn(`    distributed k-means skipped: ${skip}`);
      this.skip();
    }
    jobs[2] = runJob(2);
    jobs[3] = runJob(3);
    for (const c of KMEANS_CASES) {
      const r = q.kmeans(q.tensor(rowsOf(c), [c.n, c.d]), c.opts);
      ref.kmeans[c.name] = {
        centroids: r.centroids.toTypedArray(),
        assignments: r.assignments.toTypedArray(),
        inertia: r.inertia,
        history: r.history,
        splits: r.splits,
      };
    }
    for (const c of RQ_CASES) {
      const rq = new q.RQKMeans(c.opts).fit(q.tensor(rowsOf(c), [c.n, c.d]));
      ref.rq[c.name] = { codebooks: rq.codebooks.map((t) => t.toTypedArray()), fitCodes: rq.fitCodes, relativeError: rq.relativeError };
    }
  });

  for (const np of [2, 3]) {
    it(`${np} ranks: kmeans on shards = one process on all rows (centroids within ${CENTROID_TOL} relative, codes ≥ ${CODE_AGREEMENT * 100} %), same centroids on every rank`, () => {
      const figures = [];
      for (const c of KMEANS_CASES) {
        const ranks = jobs[np].map((o) => o.kmeans[c.name]);
        const want = ref.kmeans[c.name];
        ranks.forEach((o, r) => assert.equal(o.centroids, ranks[0].centroids, `${c.name}: rank ${r} ended with other centroids than rank 0`));
        const rd = relDiff(f32(ranks[0].centroids), want.centroids);
        const agree = agreement(concat(ranks.map((o) => i32(o.assignments))), want.assignments);
        const identical = Buffer.from(ranks[0].centroids, 'base64').equals(
          Buffer.from(want.centroids.buffer, want.centroids.byteOffset, want.centroids.byteLength),
        );
        figures.push(`${c.name}: ${rd.toExponential(1)} / ${(agree * 100).toFixed(2)} %${identical ? ' (bit-identical)' : ''}`);
        assert.ok(rd <= CENTROID_TOL, `${c.name}: centroids differ by ${rd} relative`);
        assert.ok(agree >= CODE_AGREEMENT, `${c.name}: codes agree on ${agree}`);
        for (const o of ranks) {
          assert.ok(Math.abs(o.inertia - want.inertia) <= 1e-6 * want.inertia, `${c.name}: inertia ${o.inertia} vs ${want.inertia}`);
          assert.equal(o.history.length, want.history.length);
          o.history.forEach((h, i) =>
            assert.ok(Math.abs(h - want.history[i]) <= 1e-6 * want.history[i], `${c.name}: objective ${i}: ${h} vs ${want.history[i]}`),
          );
          assert.equal(o.splits, want.splits, `${c.name}: splits`);
        }
      }
      console.log(`      max relative centroid diff / code agreement: ${figures.join('; ')}`);
    });

    it(`${np} ranks: RQKMeans.fit on shards = one process on all rows, same codebooks on every rank`, () => {
      for (const c of RQ_CASES) {
        const ranks = jobs[np].map((o) => o.rq[c.name]);
        const want = ref.rq[c.name];
        const figures = [];
        for (let l = 0; l < c.opts.levels; l++) {
          ranks.forEach((o, r) => assert.equal(o.codebooks[l], ranks[0].codebooks[l], `${c.name}: level ${l} differs between rank ${r} and rank 0`));
          const rd = relDiff(f32(ranks[0].codebooks[l]), want.codebooks[l]);
          figures.push(rd.toExponential(1));
          assert.ok(rd <= CENTROID_TOL, `${c.name}: level ${l} codebook differs by ${rd} relative`);
        }
        const agree = agreement(concat(ranks.map((o) => i32(o.fitCodes))), want.fitCodes);
        assert.ok(agree >= CODE_AGREEMENT, `${c.name}: codes agree on ${agree}`);
        for (const o of ranks) {
          assert.equal(o.relativeError.length, want.relativeError.length, `${c.name}: one relative error per level`);
          o.relativeError.forEach((e, l) => assert.ok(Math.abs(e - want.relativeError[l]) <= 1e-6 * want.relativeError[l], `level ${l} error`));
        }
        console.log(`      ${c.name}: codebook diffs ${figures.join(', ')}; codes agree ${(agree * 100).toFixed(2)} %`);
      }
    });

    it(`${np} ranks: one allReduce of (k·D + k + 1) float64 and one host read per iteration`, () => {
      for (const c of KMEANS_CASES) {
        const { k, iterations } = c.opts;
        const header = 48;
        const perIteration = (k * c.d + k + 1) * 8 + header;
        for (const o of jobs[np]) {
          const s = o.kmeans[c.name].allReduce;
          assert.equal(s.calls, iterations + 1, `${c.name}: allReduce calls (iterations + the inertia)`);
          assert.equal(s.bytesSent, iterations * perIteration + 8 + header, `${c.name}: bytes sent`);
          assert.equal(s.bytesReceived, (np - 1) * s.bytesSent, `${c.name}: bytes received`);
        }
      }
      // Under the host-read-forbidding backend: the training rows once for the seeding, one read
      // per iteration, two at the end; rank 0 also reads the k-means++ centroids and stream.
      const its = KMEANS_CASES[0].opts.iterations;
      assert.deepEqual(
        jobs[np].map((o) => o.reads),
        jobs[np].map((o) => its + 3 + (o.rank === 0 ? 2 : 0)),
      );
    });

    it(`${np} ranks: bad or mismatched arguments throw typed errors on every rank, and the ranks stay in step`, () => {
      const errs = jobs[np].map((o) => o.errors);
      for (const e of errs) {
        assert.deepEqual([e['k differs'].name, e['k differs'].argument], ['ValueError', 'k']);
        assert.match(e['k differs'].message, /must be the same on every rank/);
        assert.deepEqual([e['k above all rows'].name, e['k above all rows'].argument], ['ValueError', 'k']);
        assert.deepEqual([e.balanced.name, e.balanced.argument], ['ValueError', 'balanced']);
        assert.deepEqual([e['columns differ'].name, e['columns differ'].argument], ['ShapeError', 'x']);
        assert.deepEqual([e['rq levels differ'].name, e['rq levels differ'].argument], ['ValueError', 'levels']);
        assert.match(e['rq levels differ'].message, /must be the same on every rank/);
        assert.deepEqual([e['rq codebook sizes differ'].name, e['rq codebook sizes differ'].argument], ['ValueError', 'kmax']);
        const few = e['rq fewer rows than the largest codebook'];
        assert.deepEqual([few.name, few.argument], ['ValueError', 'x']);
        assert.equal(few.message, `argument 'x' has ${2 * np} rows, fewer than the largest codebook (${2 * np + 1})`);
        assert.equal(e['after the errors, a fit still works'], null);
      }
      errs.forEach((e, r) => {
        const bad = e['bad x on the last rank'];
        if (r === np - 1) assert.deepEqual([bad.name, bad.argument], ['ShapeError', 'x']);
        else assert.match(bad.message, new RegExp(`rank ${np - 1} passed an invalid 'x'`));
      });
    });
  }
});

describe('distributed k-means with one rank', () => {
  it('kmeans and RQKMeans.fit with dist (world size 1) are the one-process fit, bit for bit', () => {
    const c = KMEANS_CASES[0];
    const x = q.tensor(rowsOf(c), [c.n, c.d]);
    const a = q.kmeans(x, c.opts);
    const b = q.kmeans(x, { ...c.opts, dist: q.dist });
    assert.deepEqual(b.centroids.toTypedArray(), a.centroids.toTypedArray());
    assert.deepEqual(b.assignments.toTypedArray(), a.assignments.toTypedArray());
    assert.deepEqual([b.inertia, b.history, b.splits], [a.inertia, a.history, a.splits]);
    const r = RQ_CASES[0];
    const y = q.tensor(rowsOf(r), [r.n, r.d]);
    const p = new q.RQKMeans(r.opts).fit(y);
    const s = new q.RQKMeans(r.opts).fit(y, { dist: q.dist });
    assert.deepEqual(s.fitCodes, p.fitCodes);
    s.codebooks.forEach((t, l) => assert.deepEqual(t.toTypedArray(), p.codebooks[l].toTypedArray()));
  });

  it('the sparse sampler of the global row ids draws what sampleWithoutReplacement draws', async () => {
    const { sampleWithoutReplacement } = await import('../dist/quant/kmeans.js');
    const { sampleIdsSparse } = await import('../dist/quant/kmeans_dist.js');
    for (const [n, m, seed] of [
      [1, 1, 0],
      [10, 0, 1],
      [10, 10, 2],
      [1000, 37, 3],
      [5000, 4999, 4],
    ]) {
      assert.deepEqual(sampleIdsSparse(n, m, new q.Generator(seed)), sampleWithoutReplacement(n, m, new q.Generator(seed)), `n=${n} m=${m}`);
    }
  });

  it('rejects a dist that is not a communicator', () => {
    const x = q.tensor(rowsOf(KMEANS_CASES[0]), [1200, 8]);
    assert.throws(
      () => q.kmeans(x, { k: 2, dist: {} }),
      (e) => e instanceof q.ValueError && e.argument === 'dist',
    );
    assert.throws(
      () => new q.RQKMeans({ levels: 1, codebookSize: 2 }).fit(x, { dist: 3 }),
      (e) => e instanceof q.ValueError && e.argument === 'dist',
    );
  });
});
