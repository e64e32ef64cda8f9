// kmeans' paths against references written from its documentation: the training subsample
// (partial Fisher-Yates from the seeded stream, ids sorted), the k-means++ first centre and its
// rounds for k > 16, FAISS's empty-cluster split, the balanced assignment in every Lloyd step,
// a distributed fit reaching the communicator, and no tensor left alive by a fit or a rejected
// call. Written for the survivors of the quant-kmeans mutation run (bench/results/mutation.md).
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { sampleWithoutReplacement } from '../dist/quant/kmeans.js';
import { balancedAssign } from '../dist/quant/balanced.js';
import { throwsArg } from './support/throws_arg.js';

/** float32 [n, d] with distinct rows drawn from the seeded normal stream. */
function data(n, d, seed) {
  const g = new q.Generator(seed);
  return Float32Array.from({ length: n * d }, () => g.normal());
}

/** The documented subsample: swap position i with a uniform draw from [i, n), m times; the first m. */
function refSample(n, m, g) {
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + g.int(n - i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm.slice(0, m);
}

function row(x, d, i) {
  return Array.from(x.subarray(i * d, (i + 1) * d));
}

/** The index of the row of x equal to `r` (rows of x are distinct), or -1. */
function rowIndex(x, n, d, r) {
  for (let i = 0; i < n; i++) if (r.every((v, t) => x[i * d + t] === v)) return i;
  return -1;
}

/** Runs fn and checks that it leaves exactly `extra` more tensors alive. */
function liveAfter(fn, extra) {
  const before = q.memory().numTensors;
  const out = fn();
  assert.equal(q.memory().numTensors - before, extra, 'tensors left alive');
  return out;
}

describe('kmeans paths against references', function () {
  this.timeout(60000);

  it('sampleWithoutReplacement: the partial Fisher-Yates draw from the stream (m = 0, 1, n; n = 1 .. 1000)', () => {
    for (const [n, m, seed] of [
      [1, 1, 1],
      [3, 0, 2],
      [3, 2, 3],
      [17, 17, 4],
      [17, 5, 5],
      [1000, 37, 6],
      [1001, 1000, 7],
    ]) {
      const g = new q.Generator(seed);
      const got = sampleWithoutReplacement(n, m, g);
      const gr = new q.Generator(seed);
      assert.deepEqual(Array.from(got), refSample(n, m, gr), `n ${n} m ${m}`);
      // The stream moved by exactly the m draws.
      assert.equal(g.uniform(), gr.uniform(), `stream after n ${n} m ${m}`);
      assert.equal(new Set(got).size, m);
    }
  });

  it('k = 1, no iterations: the centroid is the k-means++ first row, drawn after the sorted subsample (n above, at and below k · maxPointsPerCentroid)', () => {
    const d = 3;
    for (const [n, mpc, seed] of [
      [1, 1, 1],
      [17, 17, 2], // n = k · mpc: no subsample
      [18, 17, 3], // one row too many: subsample of 17
      [1000, 37, 4],
      [1000, 0, 5], // 0 = all rows
      [5, 256, 6],
    ]) {
      const x = data(n, d, 100 + seed);
      const g = new q.Generator(seed);
      let train = Array.from({ length: n }, (_, i) => i);
      if (mpc > 0 && n > mpc) train = refSample(n, mpc, g).sort((a, b) => a - b);
      const first = train[g.int(train.length)];
      const xt = q.tensor(x, [n, d]);
      const r = q.kmeans(xt, { k: 1, iterations: 0, seed, maxPointsPerCentroid: mpc });
      assert.deepEqual(Array.from(r.centroids.toTypedArray()), row(x, d, first), `n ${n} mpc ${mpc}`);
      for (const t of [xt, r.centroids, r.assignments]) t.dispose();
    }
  });

  it('init: random takes k distinct rows of the sorted subsample, in the order the stream draws them', () => {
    const [n, d, k, mpc, seed] = [300, 2, 4, 10, 9];
    const x = data(n, d, 11);
    const g = new q.Generator(seed);
    const train = refSample(n, k * mpc, g).sort((a, b) => a - b);
    const want = refSample(train.length, k, g).flatMap((i) => row(x, d, train[i]));
    const xt = q.tensor(x, [n, d]);
    const r = q.kmeans(xt, { k, iterations: 0, seed, init: 'random', maxPointsPerCentroid: mpc });
    assert.deepEqual(Array.from(r.centroids.toTypedArray()), want);
  });

  it('k-means++ with k > 16 (rounds of ceil(k / 16) centres): k distinct rows of x, for k not a multiple of the round size', () => {
    const [n, d] = [120, 4];
    const x = data(n, d, 21);
    const xt = q.tensor(x, [n, d]);
    for (const k of [17, 18, 33, 50, 120]) {
      const r = q.kmeans(xt, { k, iterations: 0, seed: k });
      assert.deepEqual(r.centroids.shape, [k, d]);
      const c = r.centroids.toTypedArray();
      const ids = Array.from({ length: k }, (_, j) => rowIndex(x, n, d, row(c, d, j)));
      assert.ok(
        ids.every((i) => i >= 0),
        `k ${k}: every centre is a row of x`,
      );
      assert.equal(new Set(ids).size, k, `k ${k}: distinct rows`);
    }
  });

  it("k-means++ never draws a chosen row again, even where rounding leaves a chosen row's distance above 0", () => {
    // Rows far from the origin: the fused distance (|x|² + |c|² - 2 x·c in float32) of a row to
    // itself rounds to about ±1 there, while rows are about 16 apart, so a chosen row left
    // unflagged would keep a share of the D² mass and be drawn again.
    const [n, d] = [40, 8];
    const g = new q.Generator(31);
    const x = Float32Array.from({ length: n * d }, () => 1000 + g.normal());
    const xt = q.tensor(x, [n, d]);
    for (const k of [n, 20, 7]) {
      const c = q.kmeans(xt, { k, iterations: 0, seed: k }).centroids.toTypedArray();
      const ids = Array.from({ length: k }, (_, j) => rowIndex(x, n, d, row(c, d, j)));
      assert.equal(new Set(ids).size, k, `k ${k}: distinct rows`);
    }
  });

  it('an empty cluster is re-seeded by splitting a large one (FAISS), and both halves then keep points', () => {
    // Two blobs, at (2, 8) and (8, 2); one start centroid at their middle, one far from every
    // row: the far one is empty after the first assignment and must be re-seeded from the other.
    const [n, d] = [200, 2];
    const g = new q.Generator(41);
    const x = Float32Array.from({ length: n * d }, (_, i) => ((Math.floor(i / d) + (i % d)) % 2 ? 8 : 2) + 0.1 * g.normal());
    const init = q.tensor(Float32Array.of(5, 5, 1e4, 1e4), [2, 2]);
    const r = q.kmeans(q.tensor(x, [n, d]), { k: 2, init, iterations: 10 });
    assert.equal(r.splits, 1);
    const a = r.assignments.toTypedArray();
    for (let i = 0; i < n; i++) assert.equal(a[i], a[i % 2], `row ${i} with its blob`);
    assert.notEqual(a[0], a[1]);
    const c = r.centroids.toTypedArray();
    for (let i = 0; i < 2; i++) {
      const j = a[i];
      for (let t = 0; t < d; t++) assert.ok(Math.abs(c[j * d + t] - ((i + t) % 2 ? 8 : 2)) < 0.1, `centroid ${j} at its blob: ${row(c, d, j)}`);
    }
  });

  it('balanced: every Lloyd step uses the capped assignment (one step from a given start against balancedAssign)', () => {
    const [n, d, k] = [60, 2, 3];
    const g = new q.Generator(51);
    // Skewed: 4 in 5 rows in one tight blob, so the cap binds.
    const x = Float32Array.from({ length: n * d }, (_, i) => (Math.floor(i / d) % 5 ? 1 + 0.05 * g.normal() : 4 * g.normal()));
    const c0 = Float32Array.of(1, 1, -3, 0, 3, 0);
    const xt = q.tensor(x, [n, d]);
    // The step's assignment from the documented rule: nearest-first orders, cap ceil(n / k).
    const { indices, distances } = q.nearest(xt, q.tensor(c0, [k, d]), { k });
    const cap = Math.ceil(n / k);
    const want = balancedAssign(indices.toTypedArray(), distances.toTypedArray(), n, k, cap);
    const r = q.kmeans(xt, { k, init: q.tensor(c0, [k, d]), iterations: 1, balanced: true });
    assert.ok(Math.abs(r.history[0] - want.objective) <= 1e-9 * want.objective, `objective ${r.history[0]} vs ${want.objective}`);
    // The centroids after the step are the float64 means of the capped groups.
    const c = r.centroids.toTypedArray();
    for (let j = 0; j < k; j++) {
      const members = [...want.assign.keys()].filter((i) => want.assign[i] === j);
      assert.ok(members.length <= cap);
      for (let t = 0; t < d; t++) {
        const mean = members.reduce((s, i) => s + x[i * d + t], 0) / members.length;
        assert.ok(Math.abs(c[j * d + t] - mean) < 1e-5, `centroid ${j}[${t}] ${c[j * d + t]} vs ${mean}`);
      }
    }
  });

  it('dist with more than one rank goes to the distributed fit (it calls the collectives)', () => {
    const called = new Error('collective called');
    const fail = () => {
      throw called;
    };
    const two = { rank: 0, worldSize: 2, allReduce: fail, allGather: fail, broadcast: fail };
    assert.throws(
      () => q.kmeans(q.tensor(data(10, 2, 61), [10, 2]), { k: 2, dist: two }),
      (e) => e === called,
    );
  });

  it('options missing entirely: a typed error naming k; init of rank 3 is rejected', () => {
    const x = q.tensor(data(6, 2, 71), [6, 2]);
    throwsArg(() => q.kmeans(x), q.ValueError, 'k', /^argument 'k' must be an integer in \[1, 6\] \(rows of x\), got undefined$/);
    const init = q.tensor(new Float32Array(4), [2, 2, 1]);
    throwsArg(() => q.kmeans(x, { k: 2, init }), q.ShapeError, 'init', /^argument 'init' must be a float32 \[2, 2\] tensor, got float32 \[2, 2, 1\]$/);
  });

  it('a fit leaves only its centroids and assignments alive; a rejected call leaves nothing', () => {
    const [n, d] = [400, 3];
    const xt = q.tensor(data(n, d, 81), [n, d]);
    const cases = [
      { k: 1 },
      { k: 5 },
      { k: 18, iterations: 3 },
      { k: 4, init: 'random' },
      { k: 4, maxPointsPerCentroid: 10 },
      { k: 4, balanced: true, iterations: 2 },
      { k: 20, maxPointsPerCentroid: 2, init: 'random' },
    ];
    for (const opts of cases) {
      const r = liveAfter(() => q.kmeans(xt, opts), 2);
      r.centroids.dispose();
      r.assignments.dispose();
    }
    const init = q.tensor(data(2, 3, 82), [2, 3]);
    const r = liveAfter(() => q.kmeans(xt, { k: 2, init, iterations: 2 }), 2);
    r.centroids.dispose();
    r.assignments.dispose();
    for (const shape of [
      [0, 4],
      [3, 0],
    ]) {
      const empty = q.tensor(new Float32Array(0), shape);
      liveAfter(() => throwsArg(() => q.kmeans(empty, { k: 1 }), q.ValueError, 'x', /^argument 'x' is empty/), 0);
    }
  });
});
