// Quantisation kernels on CUDA against the CPU ops: fused nearest (fp32 and TF32 + exact
// re-rank), k-means update, residual-VQ pieces.
import { requireGpu, pair, same, host, q, assert, assertClose, randArray, randInts } from './gpu.js';

// Where two distances are this close their order may legitimately differ between backends.
function checkNearest(gRes, cRes, N, k, { msg, tol = 1e-4 } = {}) {
  const gi = host(gRes.indices), ci = host(cRes.indices);
  const gd = host(gRes.distances), cd = host(cRes.distances);
  assertClose(gd, cd, { rtol: tol, atol: tol, msg: `${msg} distances` });
  let differ = 0;
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < k; j++) {
      const p = r * k + j;
      if (gi[p] === ci[p]) continue;
      differ++;
      // A swap is only allowed between (near-)equal distances.
      assert.ok(Math.abs(gd[p] - cd[p]) <= tol * (1 + Math.abs(cd[p])), `${msg}: row ${r} rank ${j}: ${gi[p]} vs ${ci[p]}`);
    }
    for (let j = 1; j < k; j++) assert.ok(gd[r * k + j] >= gd[r * k + j - 1], `${msg}: row ${r} not sorted`);
  }
  return differ;
}

describe('CUDA nearest-codeword search matches the CPU', () => {
  requireGpu();
  const cases = [[1, 1, 1, 1], [3, 17, 5, 1], [255, 1000, 17, 5], [1000, 255, 64, 25], [777, 300, 130, 40], [300, 2000, 33, 128], [100003, 64, 8, 1]];
  for (const metric of ['l2', 'ip', 'cosine']) {
    it(`fp32 ${metric}, k from 1 to 128, awkward N/K/D`, () => {
      for (const [N, K, D, k] of cases) {
        const [cx, gx] = pair(randArray(N * D, N + D), [N, D]);
        const [cc, gc] = pair(randArray(K * D, K + 1), [K, D]);
        checkNearest(q.nearest(gx, gc, { k, metric }), q.nearest(cx, cc, { k, metric }), N, k, { msg: `${metric} N=${N} K=${K} D=${D} k=${k}` });
      }
    });
  }

  it('ties go to the lower index (duplicated codewords)', () => {
    const D = 9, K = 70;
    const cb = randArray(K * D, 3);
    for (let j = 0; j < D; j++) { cb[40 * D + j] = cb[5 * D + j]; cb[66 * D + j] = cb[5 * D + j]; }
    const x = new Float32Array(cb.subarray(5 * D, 6 * D));
    const [cx, gx] = pair(x, [1, D]);
    const [cc, gc] = pair(cb, [K, D]);
    const g = q.nearest(gx, gc, { k: 3 });
    assert.deepEqual([...host(g.indices)], [5, 40, 66]);
    checkNearest(g, q.nearest(cx, cc, { k: 3 }), 1, 3, { msg: 'ties' });
  });

  it('TF32 tensor cores + exact re-rank agree with the fp32 search', () => {
    const prev = q.cuda.configure({ nearest: 'tf32' });
    try {
      for (const metric of ['l2', 'ip', 'cosine']) {
        for (const [N, K, D, k] of [[3, 17, 5, 1], [1000, 1000, 64, 1], [513, 300, 130, 10], [200, 4000, 256, 25]]) {
          const [cx, gx] = pair(randArray(N * D, N + D + 7), [N, D]);
          const [cc, gc] = pair(randArray(K * D, K + 9), [K, D]);
          const differ = checkNearest(q.nearest(gx, gc, { k, metric }), q.nearest(cx, cc, { k, metric }), N, k, { msg: `tf32 ${metric} N=${N} K=${K} D=${D} k=${k}` });
          assert.ok(differ <= N * k * 0.001, `tf32 ${metric}: ${differ} of ${N * k} neighbours differ`);
        }
      }
    } finally {
      q.cuda.configure(prev);
    }
  });

  it('nearestAsync resolves to the same result; non-finite input is a ValueError', async () => {
    const [cx, gx] = pair(randArray(50 * 8, 1), [50, 8]);
    const [cc, gc] = pair(randArray(20 * 8, 2), [20, 8]);
    checkNearest(await q.nearestAsync(gx, gc, { k: 4 }), q.nearest(cx, cc, { k: 4 }), 50, 4, { msg: 'async' });
    const bad = randArray(20 * 8, 2);
    bad[77] = NaN;
    const gb = q.tensor(bad, [20, 8]).to('cuda');
    assert.throws(() => q.nearest(gx, gb, { k: 1 }), (e) => e instanceof q.ValueError && e.argument === 'codebook');
  });
});

describe('CUDA k-means and residual-VQ kernels match the CPU', () => {
  requireGpu();
  it('kmeansUpdate: means in double, empty clusters untouched, counts exact', () => {
    for (const [N, D, K] of [[1, 1, 1], [255, 3, 17], [100003, 16, 1000]]) {
      const x = randArray(N * D, N);
      const assign = randInts(N, Math.max(1, K - 2), 3); // the last clusters stay empty
      const cent = randArray(K * D, 4);
      const [cx, gx] = pair(x, [N, D]);
      const [ca, ga] = pair(assign, [N], 'int32');
      const [cc, gc] = pair(cent, [K, D]);
      const cCounts = q.runKernel('kmeansUpdate', { x: cx, assignments: ca, centroids: cc });
      const gCounts = q.runKernel('kmeansUpdate', { x: gx, assignments: ga, centroids: gc });
      same(gCounts, cCounts, { rtol: 0, atol: 0 });
      same(gc, cc, { rtol: 1e-6, atol: 1e-7, msg: `centroids N=${N}` });
    }
  });

  it('rvqLevelForward, vqScatterAddScaled (bit-exact), rvqSteBackward, vqCodeSums', () => {
    const N = 1003, D = 24, K = 77;
    const [cr, gr] = pair(randArray(N * D, 1), [N, D]);
    const [cb, gb] = pair(randArray(K * D, 2), [K, D]);
    const [cco, gco] = pair(randInts(N, K, 3), [N], 'int32');
    const [cq, gq] = pair(randArray(N * D, 4), [N, D]);
    const cn = q.zeros([N, D]), gn = q.zeros([N, D]).to('cuda');
    const cs = q.runKernel('rvqLevelForward', { residual: cr, codebook: cb, codes: cco, quantized: cq, next: cn });
    const gs = q.runKernel('rvqLevelForward', { residual: gr, codebook: gb, codes: gco, quantized: gq, next: gn });
    assert.ok(Math.abs(gs - cs) <= 1e-9 * Math.abs(cs), `${gs} vs ${cs}`);
    same(gq, cq, { rtol: 0, atol: 0 });
    same(gn, cn, { rtol: 0, atol: 0 });
    const [cg, gg] = pair(randArray(K * D, 5), [K, D]);
    q.runKernel('vqScatterAddScaled', { grad: cg, codes: cco, rows: cn }, { scale: 0.37 });
    q.runKernel('vqScatterAddScaled', { grad: gg, codes: gco, rows: gn }, { scale: 0.37 });
    same(gg, cg, { rtol: 0, atol: 0 });
    const [crows, grows] = pair(randArray(3 * N * D, 6), [3, N, D]);
    const [cgo, ggo] = pair(randArray(N * D, 7), [N, D]);
    for (const withOut of [true, false]) {
      const attrs = { levels: 3, shape: [N, D], scale: 0.25 };
      same(q.runKernel('rvqSteBackward', { ...(withOut ? { gradOut: ggo } : {}), rows: grows }, attrs),
        q.runKernel('rvqSteBackward', { ...(withOut ? { gradOut: cgo } : {}), rows: crows }, attrs), { rtol: 0, atol: 0 });
    }
    const c = q.runKernel('vqCodeSums', { x: cr, codes: cco }, { K });
    const g = q.runKernel('vqCodeSums', { x: gr, codes: gco }, { K });
    same(g.counts, c.counts, { rtol: 0, atol: 0 });
    same(g.sums, c.sums, { rtol: 1e-6, atol: 1e-6 });
    const [, bad] = pair(new Int32Array([0, K]), [2], 'int32');
    assert.throws(() => q.runKernel('vqCodeSums', { x: q.slice(gr, 0, 0, 2), codes: bad }, { K }), (e) => e instanceof q.IndexError && e.argument === 'codes');
  });
});
