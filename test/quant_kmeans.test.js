// k-means, RQ-KMeans, VQ codes and code tooling, each against plain-JS float64 references.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { q, assert, assertThrowsTyped, randArray } from './helpers.js';

/** n points around `centers` well-separated Gaussian blobs in D dims. */
export function blobs(n, centers, D, seed, spread = 0.3, radius = 5) {
  const g = new q.Generator(seed);
  const mu = new Float32Array(centers * D);
  for (let i = 0; i < mu.length; i++) mu[i] = radius * g.normal();
  const x = new Float32Array(n * D);
  const label = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = g.int(centers);
    label[i] = c;
    for (let j = 0; j < D; j++) x[i * D + j] = mu[c * D + j] + spread * g.normal();
  }
  return { x, label, mu };
}

function sqDist(a, i, b, j, D) {
  let s = 0;
  for (let t = 0; t < D; t++) s += (a[i * D + t] - b[j * D + t]) ** 2;
  return s;
}

describe('quant: kmeans', () => {
  // Centroids against Lloyd's algorithm in float64: test/quant_ref.test.js.
  it('never increases the objective; assignments are the nearest centroids and inertia their float64 sum', () => {
    const N = 1500,
      D = 7,
      k = 12;
    const x = randArray(N * D, 41);
    for (const init of ['kmeans++', 'random']) {
      const r = q.kmeans(q.tensor(x, [N, D]), { k, iterations: 15, seed: 3, init });
      assert.equal(r.history.length, 15);
      for (let i = 1; i < r.history.length; i++) {
        assert.ok(r.history[i] <= r.history[i - 1] * (1 + 1e-6), `${init}: objective rose at ${i}: ${r.history[i - 1]} -> ${r.history[i]}`);
      }
      const c = r.centroids.toTypedArray(),
        a = r.assignments.toTypedArray();
      assert.deepEqual(r.centroids.shape, [k, D]);
      let inertia = 0;
      for (let i = 0; i < N; i++) {
        const d = sqDist(x, i, c, a[i], D);
        inertia += d;
        for (let j = 0; j < k; j++) assert.ok(d <= sqDist(x, i, c, j, D) + 1e-4, 'assignment is not the nearest centroid');
      }
      assert.ok(Math.abs(inertia - r.inertia) <= 1e-4 * inertia);
      assert.ok(r.inertia <= r.history[r.history.length - 1] * (1 + 1e-6));
    }
  });

  it('k-means++ (exact for k <= 16, batched rounds above) starts from distinct data rows', () => {
    const N = 500,
      D = 3;
    const x = randArray(N * D, 61);
    const rowsOf = new Map();
    for (let i = 0; i < N; i++) rowsOf.set(Array.from(x.subarray(i * D, i * D + D)).join(), i);
    for (const k of [1, 16, 40]) {
      const r = q.kmeans(q.tensor(x, [N, D]), { k, iterations: 0, seed: 2 });
      const c = r.centroids.toTypedArray();
      const ids = new Set();
      for (let j = 0; j < k; j++) {
        const id = rowsOf.get(Array.from(c.subarray(j * D, j * D + D)).join());
        assert.ok(id !== undefined, 'centroid is not a data row');
        ids.add(id);
      }
      assert.equal(ids.size, k);
      assert.deepEqual(r.history, []);
    }
    // D² sampling beats uniform sampling on clustered data (averaged over seeds)
    const { x: bx } = blobs(3000, 30, 4, 5);
    let pp = 0,
      rnd = 0;
    for (let s = 0; s < 4; s++) {
      pp += q.kmeans(q.tensor(bx, [3000, 4]), { k: 30, iterations: 0, seed: s }).inertia;
      rnd += q.kmeans(q.tensor(bx, [3000, 4]), { k: 30, iterations: 0, seed: s, init: 'random' }).inertia;
    }
    assert.ok(pp < rnd, `kmeans++ ${pp} vs random ${rnd}`);
  });

  it('native centroid update equals the float64 mean of assigned rows, empty clusters untouched', () => {
    const N = 1003,
      D = 5,
      k = 9;
    const x = randArray(N * D, 5);
    const assign = new Int32Array(N);
    const g = new q.Generator(9);
    for (let i = 0; i < N; i++) assign[i] = g.int(k - 1); // cluster k-1 stays empty
    const cent = q.full([k, D], 7);
    const counts = q.runKernel('kmeansUpdate', { x: q.tensor(x, [N, D]), assignments: q.tensor(assign), centroids: cent });
    const c = cent.toTypedArray(),
      cnt = counts.toTypedArray();
    for (let j = 0; j < k; j++) {
      const members = [...assign.keys()].filter((i) => assign[i] === j);
      assert.equal(cnt[j], members.length);
      for (let t = 0; t < D; t++) {
        const want = members.length ? members.reduce((s, i) => s + x[i * D + t], 0) / members.length : 7;
        assert.ok(Math.abs(c[j * D + t] - want) < 1e-6);
      }
    }
    const badAssign = Int32Array.from(assign);
    badAssign[3] = k;
    assertThrowsTyped(
      () => q.runKernel('kmeansUpdate', { x: q.tensor(x, [N, D]), assignments: q.tensor(badAssign), centroids: cent }),
      q.IndexError,
      'assignments',
    );
  });

  it('splits empty clusters (FAISS rule) so none stays empty', () => {
    const N = 400,
      D = 4,
      k = 6;
    const x = randArray(N * D, 8);
    const init = new Float32Array(k * D);
    init.set(x.subarray(0, (k - 2) * D));
    for (let i = (k - 2) * D; i < k * D; i++) init[i] = 1000; // two centroids far from everything
    const r = q.kmeans(q.tensor(x, [N, D]), { k, iterations: 10, init: q.tensor(init, [k, D]) });
    assert.ok(r.splits >= 2, `splits ${r.splits}`);
    const used = new Set(r.assignments.toTypedArray());
    assert.equal(used.size, k);
  });

  it('subsamples with maxPointsPerCentroid and is identical with 1 and 2 threads', () => {
    const N = 3000,
      D = 6,
      k = 10;
    const x = q.tensor(randArray(N * D, 77), [N, D]);
    const before = q.numThreads();
    try {
      q.setNumThreads(1);
      const a = q.kmeans(x, { k, iterations: 8, seed: 5, maxPointsPerCentroid: 39 });
      q.setNumThreads(2);
      const b = q.kmeans(x, { k, iterations: 8, seed: 5, maxPointsPerCentroid: 39 });
      assert.deepEqual(a.centroids.toTypedArray(), b.centroids.toTypedArray());
      assert.deepEqual(a.assignments.toTypedArray(), b.assignments.toTypedArray());
      assert.deepEqual(a.history, b.history);
      assert.equal(a.assignments.shape[0], N);
      // the training objective sums over 390 sampled rows only
      assert.ok(a.history[0] < a.inertia);
    } finally {
      q.setNumThreads(before);
    }
  });

  it('recovers well-separated clusters', () => {
    const { x } = blobs(2000, 8, 10, 4);
    const r = q.kmeans(q.tensor(x, [2000, 10]), { k: 8, iterations: 20, seed: 1 });
    assert.ok(r.inertia / 2000 < 10 * 0.3 * 0.3 * 1.5, `inertia per point ${r.inertia / 2000}`);
  });

  it('rejects bad options with typed errors', () => {
    const x = q.tensor(randArray(20, 1), [5, 4]);
    assertThrowsTyped(() => q.kmeans(x, { k: 6 }), q.ValueError, "'k'");
    assertThrowsTyped(() => q.kmeans(x, { k: 2, init: 'foo' }), q.ValueError, "'init'");
    assertThrowsTyped(() => q.kmeans(q.tensor(Int32Array.from([1, 2]), [1, 2]), { k: 1 }), q.DTypeError, "'x'");
    assertThrowsTyped(() => q.kmeans(x, { k: 2, iterations: -1 }), q.ValueError, "'iterations'");
  });
});

describe('quant: RQKMeans', () => {
  const N = 1200,
    D = 12;
  const x = randArray(N * D, 90);
  it('reconstruction error decreases with each level; encode/decode agree with a reference', () => {
    const rq = new q.RQKMeans({ levels: 3, codebookSize: [16, 8, 8], iterations: 10, seed: 2 }).fit(q.tensor(x, [N, D]));
    assert.equal(rq.relativeError.length, 3);
    for (let l = 1; l < 3; l++) assert.ok(rq.relativeError[l] < rq.relativeError[l - 1], JSON.stringify(rq.relativeError));
    const codes = rq.encode(q.tensor(x, [N, D]));
    assert.deepEqual(codes.shape, [N, 3]);
    const rec = rq.decode(codes).toTypedArray();
    // reference greedy residual encoding in float64
    const cbs = rq.codebooks.map((c) => c.toTypedArray());
    const ca = codes.toTypedArray();
    let err = 0,
      tot = 0;
    for (let i = 0; i < N; i++) {
      const r = Array.from(x.subarray(i * D, i * D + D));
      for (let l = 0; l < 3; l++) {
        const K = rq.codebookSizes[l];
        const dist = (j) => r.reduce((s, v, t) => s + (v - cbs[l][j * D + t]) ** 2, 0);
        const dc = dist(ca[i * 3 + l]);
        for (let j = 0; j < K; j++) assert.ok(dc <= dist(j) + 1e-4);
        for (let t = 0; t < D; t++) r[t] -= cbs[l][ca[i * 3 + l] * D + t];
      }
      for (let t = 0; t < D; t++) {
        assert.ok(Math.abs(x[i * D + t] - r[t] - rec[i * D + t]) < 1e-4);
        err += r[t] ** 2;
        tot += x[i * D + t] ** 2;
      }
    }
    assert.ok(Math.abs(err / tot - rq.relativeError[2]) < 1e-3);
    const st = q.codeStats(codes, rq.codebookSizes, { embeddings: q.tensor(x, [N, D]), codebooks: rq.codebooks });
    assert.ok(Math.abs(st.levels[2].relativeError - err / tot) < 1e-4);
  });

  it('save -> load -> encode gives identical codes; the file is plain safetensors', () => {
    const rq = new q.RQKMeans({ levels: 2, codebookSize: 10, iterations: 5, seed: 1 }).fit(q.tensor(x, [N, D]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qarm-rq-'));
    const f = path.join(dir, 'rq.safetensors');
    rq.save(f);
    const back = q.RQKMeans.load(f);
    assert.deepEqual(back.encode(q.tensor(x, [N, D])).toTypedArray(), rq.encode(q.tensor(x, [N, D])).toTypedArray());
    const { tensors, metadata } = q.readSafetensors(f);
    assert.deepEqual(Object.keys(tensors).sort(), ['codebook_0', 'codebook_1']);
    assert.equal(metadata.format, 'qarm.rqkmeans');
    assert.deepEqual(JSON.parse(metadata.config).codebookSize, [10, 10]);
    q.writeSafetensors(path.join(dir, 'other.safetensors'), { a: q.zeros([1]) });
    assertThrowsTyped(() => q.RQKMeans.load(path.join(dir, 'other.safetensors')), q.IOError, 'other.safetensors');
  });

  it('is identical with 1 and 2 threads, and rejects bad use', () => {
    const before = q.numThreads();
    try {
      q.setNumThreads(1);
      const a = new q.RQKMeans({ levels: 2, codebookSize: 8, iterations: 4, seed: 9 }).fit(q.tensor(x, [N, D])).encode(q.tensor(x, [N, D]));
      q.setNumThreads(2);
      const b = new q.RQKMeans({ levels: 2, codebookSize: 8, iterations: 4, seed: 9 }).fit(q.tensor(x, [N, D])).encode(q.tensor(x, [N, D]));
      assert.deepEqual(a.toTypedArray(), b.toTypedArray());
    } finally {
      q.setNumThreads(before);
    }
    assertThrowsTyped(() => new q.RQKMeans({ levels: 2, codebookSize: [4] }), q.ValueError, 'codebookSize');
    assertThrowsTyped(() => new q.RQKMeans({ levels: 1, codebookSize: 4 }).encode(q.tensor(x, [N, D])), q.ValueError, 'fit');
    const rq = new q.RQKMeans({ levels: 1, codebookSize: 4, iterations: 2 }).fit(q.tensor(x, [N, D]));
    assertThrowsTyped(() => rq.encode(q.zeros([2, D + 1])), q.ShapeError, "'x'");
    assertThrowsTyped(() => rq.decode(q.tensor(Int32Array.from([4]), [1, 1])), q.IndexError, "'codes'");
    assertThrowsTyped(() => rq.decode(q.tensor(Int32Array.from([0, -1]), [2, 1])), q.IndexError, "'codes'");
    assertThrowsTyped(() => new q.RQKMeans({ levels: 1, codebookSize: 5000 }).fit(q.tensor(x, [N, D])), q.ValueError, "'x'");
  });
});

describe('quant: VQ codes and code tooling', () => {
  it('vqCodes returns the k nearest pool items, excluding the item itself', () => {
    const P = 60,
      D = 6,
      k = 5;
    const pool = randArray(P * D, 3);
    const codes = q.vqCodes(q.tensor(pool, [P, D]), q.tensor(pool, [P, D]), { k, excludeSelf: true, metric: 'l2' });
    assert.deepEqual(codes.shape, [P, k]);
    const ca = codes.toTypedArray();
    for (let i = 0; i < P; i++) {
      const order = [...Array(P).keys()].filter((j) => j !== i).sort((a, b) => sqDist(pool, i, pool, a, D) - sqDist(pool, i, pool, b, D) || a - b);
      assert.deepEqual(Array.from(ca.subarray(i * k, i * k + k)), order.slice(0, k));
    }
    const withSelf = q.vqCodes(q.tensor(pool, [P, D]), q.tensor(pool, [P, D]), { k: 3, metric: 'l2' }).toTypedArray();
    for (let i = 0; i < P; i++) assert.equal(withSelf[i * 3], i);
    assert.equal(q.vqCodes(q.tensor(pool, [P, D]), q.tensor(pool, [P, D])).shape[1], 25);
    assertThrowsTyped(() => q.vqCodes(q.tensor(pool, [P, D]), q.tensor(pool, [P, D]), { k: P, excludeSelf: true }), q.ValueError, "'k'");
  });

  it('disambiguate makes every tuple unique with a per-tuple counter', () => {
    const codes = q.tensor(Int32Array.from([1, 2, 1, 2, 0, 0, 1, 2, 0, 0, 3, 3]), [6, 2]);
    const d = q.disambiguate(codes);
    assert.deepEqual(d.shape, [6, 3]);
    assert.deepEqual(Array.from(d.toTypedArray()), [1, 2, 0, 1, 2, 1, 0, 0, 0, 1, 2, 2, 0, 0, 1, 3, 3, 0]);
    assert.equal(q.codeStats(d, [4, 4, 6]).collisionRate, 0);
  });

  it('codeStats reports utilisation, perplexity, collisions and the largest bucket', () => {
    const codes = q.tensor(Int32Array.from([0, 0, 0, 0, 1, 1, 2, 0]), [4, 2]);
    const s = q.codeStats(codes, 4);
    assert.equal(s.levels[0].used, 3);
    assert.equal(s.levels[0].utilisation, 0.75);
    // level 0 distribution {0: 2, 1: 1, 2: 1}: H = 1.5 ln 2
    assert.ok(Math.abs(s.levels[0].perplexity - Math.exp(1.5 * Math.LN2)) < 1e-12);
    assert.ok(Math.abs(s.levels[1].perplexity - Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)))) < 1e-12);
    assert.equal(s.collisionRate, 0.5);
    assert.equal(s.largestBucket, 2);
    assert.equal(s.uniqueTuples, 3);
    assertThrowsTyped(() => q.codeStats(codes, 2), q.ValueError, "'codes'");
    assertThrowsTyped(() => q.codeStats(q.zeros([2, 2]), 4), q.DTypeError, "'codes'");
  });
});
