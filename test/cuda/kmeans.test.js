// The host-free k-means driver's kernels on CUDA against the CPU kernels, bit for bit (same
// float64 arithmetic and order), and kmeans / RQKMeans.fit on CUDA tensors equal to the CPU run.
import { requireGpu, pair, host, q, assert, randArray, randInts } from './gpu.js';

const bits = (t) => [...new Uint32Array(host(t).slice().buffer)];
const stream = (seed) => pair(new q.Generator(seed).getState(), [4], 'int32');

describe('CUDA k-means driver kernels equal the CPU kernels bit for bit', () => {
  requireGpu();

  it('clusterSums and centroidsFromSums (empty clusters, N = 1, 17, 100003)', () => {
    for (const [N, D, K] of [
      [1, 1, 1],
      [17, 5, 6],
      [100003, 16, 1000],
    ]) {
      const [cx, gx] = pair(randArray(N * D, N, 100), [N, D]);
      const [ca, ga] = pair(randInts(N, Math.max(1, K - 2), 3), [N], 'int32');
      const c = q.runKernel('clusterSums', { x: cx, assignments: ca }, { K });
      const g = q.runKernel('clusterSums', { x: gx, assignments: ga }, { K });
      assert.equal(g.sums.device, 'cuda');
      assert.deepEqual(bits(g.counts), bits(c.counts));
      assert.deepEqual(bits(g.sums), bits(c.sums), `sums N=${N}`);
      const [cc, gc] = pair(randArray(K * D, 4), [K, D]);
      q.runKernel('centroidsFromSums', { sums: c.sums, counts: c.counts, centroids: cc });
      q.runKernel('centroidsFromSums', { sums: g.sums, counts: g.counts, centroids: gc });
      assert.deepEqual(bits(gc), bits(cc), `centroids N=${N}`);
    }
  });

  it('splitEmptyClusters, dsquaredRound and sumF64 follow the same seeded stream', () => {
    for (const [K, D] of [
      [1, 1],
      [17, 4],
      [300, 9],
    ]) {
      const counts = randInts(K, 3, K);
      const n = counts.reduce((a, b) => a + b, 0);
      const [cc, gc] = pair(randArray(K * D, K), [K, D]);
      const [cn, gn] = pair(counts, [K], 'int32');
      const [cr, gr] = stream(K);
      const [cs, gs] = pair([2], [1], 'int32');
      q.runKernel('splitEmptyClusters', { centroids: cc, counts: cn, rng: cr, splits: cs }, { n });
      q.runKernel('splitEmptyClusters', { centroids: gc, counts: gn, rng: gr, splits: gs }, { n });
      for (const [a, b] of [
        [gc, cc],
        [gn, cn],
        [gr, cr],
        [gs, cs],
      ])
        assert.deepEqual(bits(a), bits(b));
    }
    for (const [n, m, zero] of [
      [1, 1, true],
      [17, 5, false],
      [40, 6, true],
      [65536, 16, false],
    ]) {
      const dist = zero ? new Float32Array(n) : randArray(n, n).map((v) => v * v);
      const [cd, gd] = pair(dist, [n, 1]);
      const [cm, gm] = pair(new Float32Array(n).fill(Infinity), [n]);
      const [cch, gch] = pair(new Int32Array(n), [n], 'int32');
      const [cro, gro] = pair([0], [1], 'int32');
      const [cr, gr] = stream(n);
      const cp = q.runKernel('dsquaredRound', { distances: cd, minDist: cm, chosen: cch, round: cro, rng: cr }, { m: Math.min(m, n) });
      const gp = q.runKernel('dsquaredRound', { distances: gd, minDist: gm, chosen: gch, round: gro, rng: gr }, { m: Math.min(m, n) });
      for (const [a, b] of [
        [gp, cp],
        [gm, cm],
        [gch, cch],
        [gr, cr],
      ])
        assert.deepEqual(bits(a), bits(b), `n=${n}`);
    }
    for (const n of [1, 17, 100003]) {
      const [cx, gx] = pair(randArray(n, n, 1e3), [n]);
      const [co, go] = pair(new Int32Array(4), [2, 2], 'int32');
      for (const [slot, square] of [
        [0, false],
        [1, true],
      ]) {
        q.runKernel('sumF64', { x: cx, out: co }, { slot, square });
        q.runKernel('sumF64', { x: gx, out: go }, { slot, square });
      }
      assert.deepEqual(bits(go), bits(co));
    }
  });

  it('copyInto writes in place bit for bit (-0, NaN)', () => {
    for (const n of [1, 17, 100003]) {
      const x = randArray(n, n);
      x[0] = -0;
      const [, gx] = pair(x, [n]);
      const [, gout] = pair(randArray(n, n + 1), [n]);
      assert.equal(q.runKernel('copyInto', { x: gx, out: gout }), gout);
      assert.deepEqual(bits(gout), [...new Uint32Array(x.buffer)]);
    }
  });

  it('balancedAssign (a host copy on CUDA) equals the CPU kernel', () => {
    const [cx, gx] = pair(randArray(1000 * 3, 5), [1000, 3]);
    const [cc, gc] = pair(randArray(16 * 3, 6), [16, 3]);
    const c = q.nearest(cx, cc, { k: 16 }),
      g = q.nearest(gx, gc, { k: 16 });
    const [co, go] = pair(new Int32Array(6), [3, 2], 'int32');
    const ca = q.runKernel('balancedAssign', { order: c.indices, distances: c.distances, objective: co }, { cap: 63, slot: 1 });
    const ga = q.runKernel('balancedAssign', { order: g.indices, distances: g.distances, objective: go }, { cap: 63, slot: 1 });
    assert.equal(ga.device, 'cuda');
    assert.deepEqual(bits(ga), bits(ca));
    assert.deepEqual(bits(go), bits(co));
  });
});

// The driver's kernels agree bit for bit, but the CUDA nearest search may order near-ties or
// round a distance differently from the CPU's, so whole runs are compared by their objective.
describe('kmeans and RQKMeans.fit run on CUDA tensors without leaving the device', () => {
  requireGpu();
  const rel = (a, b) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

  it('kmeans: results on the device, objective as on the CPU (k-means++, random, balanced, duplicates)', () => {
    const dup = (n, d) => Float32Array.from({ length: n * d }, (_, i) => [1, -2, 3.5][Math.floor(i / d) % 3] + (i % d));
    for (const [n, d, k, opts] of [
      [1, 3, 1, {}],
      [17, 5, 17, {}],
      [5000, 16, 64, {}],
      [3000, 8, 40, { init: 'random' }],
      [1000, 8, 16, { balanced: true }],
      [300, 4, 12, { dup: true }],
    ]) {
      const [cx, gx] = pair(opts.dup ? dup(n, d) : randArray(n * d, n), [n, d]);
      const o = { k, iterations: 6, seed: 2, init: opts.init, balanced: opts.balanced };
      const c = q.kmeans(cx, o),
        g = q.kmeans(gx, o);
      assert.equal(g.centroids.device, 'cuda');
      assert.equal(g.assignments.device, 'cuda');
      assert.deepEqual(g.centroids.shape, [k, d]);
      assert.equal(g.history.length, 6);
      assert.ok(rel(g.inertia, c.inertia) < 1e-2 || Math.abs(g.inertia - c.inertia) < 1e-6, `n=${n} k=${k}: ${g.inertia} vs ${c.inertia}`);
    }
  });

  it('RQKMeans.fit: codebooks on the device, relative errors as on the CPU', () => {
    for (const balanced of [false, true]) {
      const [cx, gx] = pair(randArray(2000 * 12, 9), [2000, 12]);
      const o = { levels: 3, codebookSize: [32, 16, 8], iterations: 5, seed: 1, balanced };
      const c = new q.RQKMeans(o).fit(cx),
        g = new q.RQKMeans(o).fit(gx);
      for (const cb of g.codebooks) assert.equal(cb.device, 'cuda');
      assert.equal(g.fitCodes.length, c.fitCodes.length);
      g.relativeError.forEach((e, l) => assert.ok(rel(e, c.relativeError[l]) < 2e-2, `level ${l}: ${e} vs ${c.relativeError[l]}`));
    }
  });
});
