// Quantisation kernels on CUDA against the CPU ops: fused nearest (fp32 and TF32 + exact
// re-rank), k-means update, residual-VQ pieces.
import { requireGpu, pair, same, host, q, assert, assertClose, randArray, randInts } from './gpu.js';

/** Float64 distance of row r of x to row j of codebook c (both [*, D]) under `metric`. */
function dist64(x, c, D, r, j, metric) {
  let dot = 0,
    xx = 0,
    cc = 0;
  for (let d = 0; d < D; d++) {
    const a = x[r * D + d],
      b = c[j * D + d];
    dot += a * b;
    xx += a * a;
    cc += b * b;
  }
  if (metric === 'l2') return xx + cc - 2 * dot;
  if (metric === 'ip') return -dot;
  return xx === 0 || cc === 0 ? 1 : 1 - dot / Math.sqrt(xx * cc);
}

/**
 * Compares a GPU top-k with the CPU's, index by index. Where the indices differ, the GPU's index
 * must be a true neighbour at that rank: its float64 distance to the row matches the CPU's
 * distance at that rank within `tol` (a near-tie legitimately ordered differently). Indices must
 * be in range and distinct per row, distances sorted. Returns how many indices differ, which
 * the caller bounds.
 */
function checkNearest(gRes, cRes, cx, cc, metric, { msg, tol = 1e-4 } = {}) {
  const [N, D] = cx.shape,
    K = cc.shape[0],
    k = cRes.indices.shape[1];
  const x = host(cx),
    c = host(cc);
  const gi = host(gRes.indices),
    ci = host(cRes.indices);
  const gd = host(gRes.distances),
    cd = host(cRes.distances);
  assert.deepEqual(gRes.indices.shape, [N, k], `${msg} indices shape`);
  assertClose(gd, cd, { rtol: tol, atol: tol, msg: `${msg} distances` });
  let differ = 0;
  for (let r = 0; r < N; r++) {
    const seen = new Set();
    for (let j = 0; j < k; j++) {
      const p = r * k + j;
      assert.ok(gi[p] >= 0 && gi[p] < K && !seen.has(gi[p]), `${msg}: row ${r} rank ${j}: index ${gi[p]} out of range or repeated`);
      seen.add(gi[p]);
      if (j > 0) assert.ok(gd[p] >= gd[p - 1], `${msg}: row ${r} not sorted`);
      if (gi[p] === ci[p]) continue;
      differ++;
      const d = dist64(x, c, D, r, gi[p], metric);
      assert.ok(
        Math.abs(d - cd[p]) <= tol * (1 + Math.abs(cd[p])),
        `${msg}: row ${r} rank ${j}: GPU index ${gi[p]} is at distance ${d}, the CPU's ${ci[p]} at ${cd[p]}`,
      );
    }
  }
  return differ;
}

describe('CUDA nearest-codeword search matches the CPU', () => {
  requireGpu();
  const cases = [
    [1, 1, 1, 1],
    [3, 17, 5, 1],
    [255, 1000, 17, 5],
    [1000, 255, 64, 25],
    [777, 300, 130, 40],
    [300, 2000, 33, 128],
    [100003, 64, 8, 1],
  ];
  for (const metric of ['l2', 'ip', 'cosine']) {
    it(`fp32 ${metric}, k from 1 to 128, awkward N/K/D`, () => {
      for (const [N, K, D, k] of cases) {
        const [cx, gx] = pair(randArray(N * D, N + D), [N, D]);
        const [cc, gc] = pair(randArray(K * D, K + 1), [K, D]);
        const differ = checkNearest(q.nearest(gx, gc, { k, metric }), q.nearest(cx, cc, { k, metric }), cx, cc, metric, {
          msg: `${metric} N=${N} K=${K} D=${D} k=${k}`,
        });
        // Both backends search in fp32, so only rare near-ties may be ordered differently.
        assert.ok(differ <= Math.max(1, N * k * 0.001), `fp32 ${metric} N=${N} K=${K} D=${D} k=${k}: ${differ} of ${N * k} neighbours differ`);
      }
    });
  }

  it('ties go to the lower index (duplicated codewords)', () => {
    const D = 9,
      K = 70;
    const cb = randArray(K * D, 3);
    for (let j = 0; j < D; j++) {
      cb[40 * D + j] = cb[5 * D + j];
      cb[66 * D + j] = cb[5 * D + j];
    }
    const x = new Float32Array(cb.subarray(5 * D, 6 * D));
    const [cx, gx] = pair(x, [1, D]);
    const [cc, gc] = pair(cb, [K, D]);
    const g = q.nearest(gx, gc, { k: 3 });
    assert.deepEqual([...host(g.indices)], [5, 40, 66]);
    assert.equal(checkNearest(g, q.nearest(cx, cc, { k: 3 }), cx, cc, 'l2', { msg: 'ties' }), 0);
  });

  it('TF32 tensor cores + exact re-rank agree with the fp32 search', () => {
    const prev = q.cuda.configure({ nearest: 'tf32' });
    try {
      for (const metric of ['l2', 'ip', 'cosine']) {
        for (const [N, K, D, k] of [
          [3, 17, 5, 1],
          [1000, 1000, 64, 1],
          [513, 300, 130, 10],
          [200, 4000, 256, 25],
        ]) {
          const [cx, gx] = pair(randArray(N * D, N + D + 7), [N, D]);
          const [cc, gc] = pair(randArray(K * D, K + 9), [K, D]);
          const differ = checkNearest(q.nearest(gx, gc, { k, metric }), q.nearest(cx, cc, { k, metric }), cx, cc, metric, {
            msg: `tf32 ${metric} N=${N} K=${K} D=${D} k=${k}`,
          });
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
    assert.ok(checkNearest(await q.nearestAsync(gx, gc, { k: 4 }), q.nearest(cx, cc, { k: 4 }), cx, cc, 'l2', { msg: 'async' }) <= 1);
    const bad = randArray(20 * 8, 2);
    bad[77] = NaN;
    const gb = q.tensor(bad, [20, 8]).to('cuda');
    assert.throws(
      () => q.nearest(gx, gb, { k: 1 }),
      (e) => e instanceof q.ValueError && e.argument === 'codebook',
    );
  });
});

describe('CUDA k-means and residual-VQ kernels match the CPU', () => {
  requireGpu();
  it('kmeansUpdate: means in double, empty clusters untouched, counts exact', () => {
    for (const [N, D, K] of [
      [1, 1, 1],
      [255, 3, 17],
      [100003, 16, 1000],
    ]) {
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

  it('dropSelf equals the CPU kernel exactly (self first, later, twice, absent; k = 1, 3, 25)', () => {
    for (const [n, k] of [
      [1, 1],
      [17, 3],
      [1000, 25],
    ]) {
      const idx = randInts(n * (k + 1), n, n + k);
      for (let i = 0; i < n; i++) if (i % 3 === 0) idx[i * (k + 1) + (i % (k + 1))] = i; // self at varying places
      if (n > 2) idx[2 * (k + 1)] = idx[2 * (k + 1) + k] = 2; // self twice
      const [c, g] = pair(idx, [n, k + 1], 'int32');
      const gOut = q.runKernel('dropSelf', { indices: g });
      assert.equal(gOut.device, 'cuda');
      assert.deepEqual([...host(gOut)], [...host(q.runKernel('dropSelf', { indices: c }))]);
    }
  });

  it('rvqLevelForward, vqScatterAddScaled (bit-exact), rvqSteBackward, vqCodeSums', () => {
    const N = 1003,
      D = 24,
      K = 77;
    const [cr, gr] = pair(randArray(N * D, 1), [N, D]);
    const [cb, gb] = pair(randArray(K * D, 2), [K, D]);
    const [cco, gco] = pair(randInts(N, K, 3), [N], 'int32');
    const [cq, gq] = pair(randArray(N * D, 4), [N, D]);
    const cn = q.zeros([N, D]),
      gn = q.zeros([N, D]).to('cuda');
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
      same(
        q.runKernel('rvqSteBackward', { ...(withOut ? { gradOut: ggo } : {}), rows: grows }, attrs),
        q.runKernel('rvqSteBackward', { ...(withOut ? { gradOut: cgo } : {}), rows: crows }, attrs),
        { rtol: 0, atol: 0 },
      );
    }
    const c = q.runKernel('vqCodeSums', { x: cr, codes: cco }, { K });
    const g = q.runKernel('vqCodeSums', { x: gr, codes: gco }, { K });
    same(g.counts, c.counts, { rtol: 0, atol: 0 });
    same(g.sums, c.sums, { rtol: 1e-6, atol: 1e-6 });
    const [, bad] = pair(new Int32Array([0, K]), [2], 'int32');
    assert.throws(
      () => q.runKernel('vqCodeSums', { x: q.slice(gr, 0, 0, 2), codes: bad }, { K }),
      (e) => e instanceof q.IndexError && e.argument === 'codes',
    );
  });
});
