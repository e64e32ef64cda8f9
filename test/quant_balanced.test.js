// Balanced k-means (codes.rqBalanced): the capacity-constrained assignment against plain-JS
// references, and k-means / RQ-KMeans / the pipeline's RQ codes with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert, assertThrowsTyped, randArray } from './helpers.js';
import { balancedAssign } from '../dist/quant/balanced.js';
import { buildRQ } from '../dist/pipeline/code_tables.js';

/** Float64 squared distances [n, k] and each row's centroids nearest first (ties: lower index). */
function distances(x, c, n, k, D) {
  const full = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += (x[i * D + t] - c[j * D + t]) ** 2;
      full[i * k + j] = Math.fround(s);
    }
  const order = new Int32Array(n * k);
  const dist = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const idx = [...Array(k).keys()].sort((a, b) => full[i * k + a] - full[i * k + b] || a - b);
    idx.forEach((j, r) => {
      order[i * k + r] = j;
      dist[i * k + r] = full[i * k + j];
    });
  }
  return { full, order, dist };
}

/** The naive greedy: points in index order, each to its nearest centroid with room. */
function naiveGreedy(full, n, k, cap) {
  const size = new Array(k).fill(0);
  let obj = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < k; j++) if (size[j] < cap && (best < 0 || full[i * k + j] < full[i * k + best])) best = j;
    size[best]++;
    obj += full[i * k + best];
  }
  return obj;
}

/** Skewed data: most points in one tight blob, the rest spread out. */
function skewed(n, D, seed) {
  const g = new q.Generator(seed);
  return Float32Array.from({ length: n * D }, (_, i) => (Math.floor(i / D) % 5 === 0 ? 4 * g.normal() : 0.05 * g.normal() + 1));
}

describe('quant: balanced k-means', function () {
  this.timeout(60000);

  it('balancedAssign respects the capacity and is never worse than the naive greedy (awkward sizes, ties)', () => {
    const D = 3;
    let strictlyBetter = 0;
    for (const [n, k, seed] of [
      [1, 1, 1],
      [3, 2, 2],
      [17, 5, 3],
      [17, 17, 4],
      [1000, 64, 5],
      [1000, 3, 6],
      [255, 16, 7],
    ]) {
      const x = randArray(n * D, seed);
      if (n >= 17) for (let i = 0; i < 5; i++) x.set(x.subarray(0, D), (i + 1) * D); // duplicate points: tied distances
      const c = randArray(k * D, seed + 100);
      if (k >= 5) c.set(c.subarray(0, D), D); // two identical centroids
      const cap = Math.ceil(n / k);
      const { full, order, dist } = distances(x, c, n, k, D);
      const r = balancedAssign(order, dist, n, k, cap);
      const size = new Array(k).fill(0);
      let obj = 0;
      for (let i = 0; i < n; i++) {
        assert.ok(r.assign[i] >= 0 && r.assign[i] < k);
        size[r.assign[i]]++;
        obj += full[i * k + r.assign[i]];
      }
      assert.ok(Math.max(...size) <= cap, `n ${n} k ${k}: sizes ${Math.max(...size)} > ${cap}`);
      assert.ok(Math.abs(obj - r.objective) <= 1e-9 * Math.max(1, obj), "objective is the assignment's sum");
      const naive = naiveGreedy(full, n, k, cap);
      assert.ok(r.objective <= naive + 1e-9 * naive, `n ${n} k ${k}: ${r.objective} > naive ${naive}`);
      if (r.objective < naive * (1 - 1e-6)) strictlyBetter++;
      assert.deepEqual(balancedAssign(order, dist, n, k, cap).assign, r.assign, 'deterministic');
    }
    assert.ok(strictlyBetter >= 3, `better than the naive greedy on ${strictlyBetter} instances`);
    // A looser capacity lets points reach nearer centroids; a capacity too small is a typed error.
    const { order, dist } = distances(randArray(30, 9), randArray(9, 10), 10, 3, 3);
    assert.ok(balancedAssign(order, dist, 10, 3, 10).objective <= balancedAssign(order, dist, 10, 3, 4).objective);
    assertThrowsTyped(() => balancedAssign(order, dist, 10, 3, 3), q.ValueError, 'cap');
  });

  it('kmeans({ balanced }) caps every cluster at ceil(n / k), reports the constrained objective, and is the same at any thread count', () => {
    const N = 1003,
      D = 4,
      k = 16;
    const xa = skewed(N, D, 3);
    const x = q.tensor(xa, [N, D]);
    const plain = q.kmeans(x, { k, iterations: 6, seed: 2 });
    const sizes = (a) => a.reduce((s, v) => (s[v]++, s), new Array(k).fill(0));
    const cap = Math.ceil(N / k);
    assert.ok(Math.max(...sizes(plain.assignments.toTypedArray())) > cap, 'the data is skewed');
    const before = q.numThreads();
    try {
      q.setNumThreads(1);
      const a = q.kmeans(x, { k, iterations: 6, seed: 2, balanced: true });
      q.setNumThreads(2);
      const b = q.kmeans(x, { k, iterations: 6, seed: 2, balanced: true });
      assert.deepEqual(b.assignments.toTypedArray(), a.assignments.toTypedArray());
      assert.deepEqual(b.centroids.toTypedArray(), a.centroids.toTypedArray());
      assert.deepEqual(b.history, a.history);
      const asg = a.assignments.toTypedArray();
      assert.ok(Math.max(...sizes(asg)) <= cap, `largest ${Math.max(...sizes(asg))}`);
      const cen = a.centroids.toTypedArray();
      let inertia = 0;
      for (let i = 0; i < N; i++) {
        let s = 0;
        for (let t = 0; t < D; t++) s += (xa[i * D + t] - cen[asg[i] * D + t]) ** 2;
        inertia += s;
      }
      assert.ok(Math.abs(a.inertia - inertia) < 1e-4 * inertia, `${a.inertia} vs ${inertia}`);
      assert.ok(a.inertia >= plain.inertia * 0.999, 'the constraint costs objective');
    } finally {
      q.setNumThreads(before);
    }
    assertThrowsTyped(() => q.kmeans(x, { k, balanced: 'yes' }), q.ValueError, 'balanced');
  });

  it('RQKMeans({ balanced }) keeps the capped fit codes (the flag is saved and loaded); unbalanced fit codes are the encoding', () => {
    const N = 600,
      D = 5;
    const x = q.tensor(skewed(N, D, 4), [N, D]);
    const rq = new q.RQKMeans({ levels: 3, codebookSize: [8, 7, 16], iterations: 5, seed: 1, balanced: true }).fit(x);
    [8, 7, 16].forEach((K, l) => {
      const cnt = new Array(K).fill(0);
      for (let i = 0; i < N; i++) cnt[rq.fitCodes[i * 3 + l]]++;
      assert.ok(Math.max(...cnt) <= Math.ceil(N / K), `level ${l}: ${Math.max(...cnt)}`);
    });
    const plain = new q.RQKMeans({ levels: 3, codebookSize: [8, 7, 16], iterations: 5, seed: 1 }).fit(x);
    assert.deepEqual(plain.fitCodes, plain.encode(x).toTypedArray());
    assert.notDeepEqual(rq.fitCodes, rq.encode(x).toTypedArray(), 'nearest codewords would break the cap');
    const dir = mkdtempSync(join(tmpdir(), 'qarm-bal-'));
    try {
      rq.save(join(dir, 'rq.safetensors'));
      const back = q.RQKMeans.load(join(dir, 'rq.safetensors'));
      assert.equal(back.balanced, true);
      assert.equal(q.RQKMeans.load((plain.save(join(dir, 'p.safetensors')), join(dir, 'p.safetensors'))).balanced, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assertThrowsTyped(() => new q.RQKMeans({ levels: 1, codebookSize: 4, balanced: 1 }), q.ValueError, 'balanced');
  });

  it("the pipeline's balanced RQ codes cap each level's warm buckets and raise utilisation/perplexity on skewed data", () => {
    const n = 700,
      D = 6;
    const x = skewed(n, D, 5);
    const warm = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 6 ? 0 : 1));
    const W = warm.reduce((a, b) => a + b, 0);
    const opts = { levels: 2, codebookSize: [16, 16], iterations: 5, seed: 3 };
    const plain = buildRQ('plain', x, D, warm, opts);
    const bal = buildRQ('balanced', x, D, warm, { ...opts, balanced: true });
    assert.equal(bal.summary.balanced, true);
    for (let l = 0; l < 2; l++) {
      const cnt = new Array(16).fill(0);
      for (let i = 0; i < n; i++) if (warm[i]) cnt[bal.codes[i * 2 + l]]++;
      assert.ok(Math.max(...cnt) <= Math.ceil(W / 16), `level ${l}: ${Math.max(...cnt)}`);
    }
    assert.ok(bal.summary.perplexity[0] > plain.summary.perplexity[0], `${bal.summary.perplexity} vs ${plain.summary.perplexity}`);
    assert.ok(bal.summary.largestBucket <= plain.summary.largestBucket);
  });
});
