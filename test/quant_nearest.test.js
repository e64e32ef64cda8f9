// Fused nearest-codeword search vs a float64 brute-force reference: all metrics, k = 1 and
// k > 1 (up to 1024), awkward sizes, ties, every ISA path, thread-count invariance, errors.
import { q, assert, assertThrowsTyped, randArray } from './helpers.js';

/** Float64 reference: all K distances of each row, sorted by (distance, index). */
function reference(x, c, N, K, D, metric) {
  const out = [];
  for (let i = 0; i < N; i++) {
    const ds = [];
    for (let j = 0; j < K; j++) {
      let s = 0,
        ip = 0,
        xx = 0,
        cc = 0;
      for (let t = 0; t < D; t++) {
        const a = x[i * D + t],
          b = c[j * D + t];
        s += (a - b) * (a - b);
        ip += a * b;
        xx += a * a;
        cc += b * b;
      }
      const v = metric === 'l2' ? s : metric === 'ip' ? -ip : xx === 0 || cc === 0 ? 1 : 1 - ip / Math.sqrt(xx * cc);
      ds.push([v, j, metric === 'l2' ? xx + cc : metric === 'ip' ? Math.sqrt(xx * cc) : 1]);
    }
    ds.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    out.push(ds);
  }
  return out;
}

/** Checks a result against the reference: distances close, each returned index really at that rank (up to near-ties). */
function checkResult(res, ref, N, k, msg) {
  const I = res.indices.toTypedArray(),
    Dd = res.distances.toTypedArray();
  assert.deepEqual(res.indices.shape, [N, k]);
  assert.equal(res.indices.dtype, 'int32');
  for (let i = 0; i < N; i++) {
    const byIdx = new Map(ref[i].map((e) => [e[1], e]));
    const seen = new Set();
    for (let t = 0; t < k; t++) {
      const [rv, , scale] = ref[i][t];
      const tol = 2e-6 * (scale + 1) * 8;
      const got = Dd[i * k + t];
      assert.ok(Math.abs(got - rv) <= tol, `${msg} row ${i} rank ${t}: distance ${got} vs ${rv}`);
      const e = byIdx.get(I[i * k + t]);
      assert.ok(e, `${msg} row ${i} rank ${t}: index ${I[i * k + t]} out of range`);
      assert.ok(Math.abs(e[0] - rv) <= tol, `${msg} row ${i} rank ${t}: index ${I[i * k + t]} has distance ${e[0]}, rank distance ${rv}`);
      assert.ok(!seen.has(I[i * k + t]), `${msg} row ${i}: index repeated`);
      seen.add(I[i * k + t]);
      if (t > 0) assert.ok(got >= Dd[i * k + t - 1], `${msg} row ${i}: not sorted`);
    }
  }
}

const ISAS = ['generic', 'avx2', 'avx512'];

describe('quant: nearest', () => {
  after(() => q.setIsa(q.isa().best));

  // One test per ISA, so a CPU without one reports a skip instead of a silent pass.
  for (const isa of ISAS)
    it(`matches float64 brute force for all metrics, k = 1 and k > 1, awkward sizes (${isa})`, function () {
      const cases = [
        [1, 1, 1],
        [3, 17, 5],
        [17, 3, 33],
        [40, 255, 17],
        [255, 67, 64],
        [7, 130, 100],
      ];
      if (q.setIsa(isa) !== isa) this.skip(); // this CPU lacks the ISA
      for (const [N, K, D] of cases) {
        const x = randArray(N * D, N + K + D),
          c = randArray(K * D, 7 * K + D);
        for (const metric of ['l2', 'ip', 'cosine']) {
          const ref = reference(x, c, N, K, D, metric);
          for (const k of new Set([1, Math.min(K, 5), K])) {
            const res = q.nearest(q.tensor(x, [N, D]), q.tensor(c, [K, D]), { k, metric });
            checkResult(res, ref, N, k, `${isa} N=${N} K=${K} D=${D} k=${k} ${metric}`);
          }
        }
      }
    });

  it('handles k up to 1024 and many rows (codebook split and row blocks)', () => {
    const D = 9;
    // the last case has k so large that work items shrink below 96 rows
    for (const [N, K, k, D2] of [
      [3, 2000, 1024, D],
      [300, 1500, 40, D],
      [7, 23000, 22000, 2],
    ]) {
      const D = D2;
      const x = randArray(N * D, 11),
        c = randArray(K * D, 12);
      const ref = reference(x, c, N, K, D, 'l2');
      checkResult(q.nearest(q.tensor(x, [N, D]), q.tensor(c, [K, D]), { k }), ref, N, k, `N=${N} K=${K} k=${k}`);
    }
  });

  for (const isa of ISAS)
    it(`breaks ties (duplicated codebook rows) towards the lower index (${isa})`, function () {
      if (q.setIsa(isa) !== isa) this.skip(); // this CPU lacks the ISA
      const D = 19;
      const a = randArray(D, 1),
        b = randArray(D, 2);
      const rows = [b, a, b, a, a, b, a];
      const c = new Float32Array(rows.length * D);
      rows.forEach((r, i) => c.set(r, i * D));
      for (const metric of ['l2', 'ip', 'cosine']) {
        const res = q.nearest(q.tensor(Float32Array.from(a), [1, D]), q.tensor(c, [7, D]), { k: 7, metric });
        const I = Array.from(res.indices.toTypedArray());
        if (metric !== 'ip') assert.deepEqual(I, [1, 3, 4, 6, 0, 2, 5], `${isa} ${metric}`);
        else {
          // ip ranks by -<a, c>: the a-copies and b-copies each stay in index order
          const ia = I.filter((v) => [1, 3, 4, 6].includes(v)),
            ib = I.filter((v) => [0, 2, 5].includes(v));
          assert.deepEqual(ia, [1, 3, 4, 6]);
          assert.deepEqual(ib, [0, 2, 5]);
        }
        const one = q.nearest(q.tensor(Float32Array.from(b), [1, D]), q.tensor(c, [7, D]), { k: 1, metric });
        if (metric !== 'ip') assert.equal(one.indices.item(), 0);
      }
      // many exact ties with k > 1 (candidate buffers fill and are cut back repeatedly)
      const base = [randArray(D, 5), randArray(D, 6), randArray(D, 7)];
      const K = 300;
      const cb = new Float32Array(K * D);
      const g = new q.Generator(3);
      const which = Array.from({ length: K }, () => g.int(3));
      which.forEach((w, i) => cb.set(base[w], i * D));
      for (const [n, k] of [
        [4, 150],
        [400, 7],
      ]) {
        const xs = new Float32Array(n * D);
        for (let i = 0; i < n; i++) xs.set(randArray(D, 100 + i), i * D);
        const ref = reference(xs, cb, n, K, D, 'l2');
        const res = q.nearest(q.tensor(xs, [n, D]), q.tensor(cb, [K, D]), { k });
        const I = res.indices.toTypedArray();
        for (let i = 0; i < n; i++) {
          assert.deepEqual(
            Array.from(I.subarray(i * k, i * k + k)),
            ref[i].slice(0, k).map((e) => e[1]),
            `${isa} ties row ${i}`,
          );
        }
      }
    });

  it('cosine with zero vectors: distance exactly 1, ties in index order', () => {
    q.setIsa(q.isa().best);
    // cosine with a zero codebook row: distance exactly 1
    const zc = randArray(4 * 3, 9);
    zc.fill(0, 3, 6);
    const zr = q.nearest(q.tensor(randArray(2 * 3, 10), [2, 3]), q.tensor(zc, [4, 3]), { k: 4, metric: 'cosine' });
    for (let i = 0; i < 2; i++) {
      const pos = Array.from(zr.indices.toTypedArray().subarray(i * 4, i * 4 + 4)).indexOf(1);
      assert.equal(zr.distances.toTypedArray()[i * 4 + pos], 1);
    }
    // all-identical codebook, cosine with a zero query: every distance ties
    const z = q.nearest(q.zeros([2, 4]), q.tensor(randArray(12, 3), [3, 4]), { k: 3, metric: 'cosine' });
    assert.deepEqual(Array.from(z.indices.toTypedArray()), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(Array.from(z.distances.toTypedArray()), [1, 1, 1, 1, 1, 1]);
  });

  it('is bit-identical with 1 and 2 threads', () => {
    const before = q.numThreads();
    try {
      for (const [N, K, D, k] of [
        [5, 3000, 33, 7],
        [1000, 700, 20, 1],
        [600, 256, 64, 25],
      ]) {
        const x = q.tensor(randArray(N * D, 21), [N, D]),
          c = q.tensor(randArray(K * D, 22), [K, D]);
        q.setNumThreads(1);
        const r1 = q.nearest(x, c, { k });
        q.setNumThreads(2);
        const r2 = q.nearest(x, c, { k });
        assert.deepEqual(r1.indices.toTypedArray(), r2.indices.toTypedArray());
        assert.deepEqual(r1.distances.toTypedArray(), r2.distances.toTypedArray());
      }
    } finally {
      q.setNumThreads(before);
    }
  });

  it('async form resolves to the sync result and rejects with typed errors', async () => {
    const x = q.tensor(randArray(300 * 24, 31), [300, 24]),
      c = q.tensor(randArray(500 * 24, 32), [500, 24]);
    const s = q.nearest(x, c, { k: 10, metric: 'cosine' });
    const a = await q.nearestAsync(x, c, { k: 10, metric: 'cosine' });
    assert.deepEqual(a.indices.toTypedArray(), s.indices.toTypedArray());
    assert.deepEqual(a.distances.toTypedArray(), s.distances.toTypedArray());
    const bad = Float32Array.from(c.toTypedArray());
    bad[77] = NaN;
    await assert.rejects(q.nearestAsync(x, q.tensor(bad, [500, 24])), (e) => e instanceof q.ValueError && /codebook/.test(e.message));
    await assert.rejects(q.nearestAsync(x, c, { k: 501 }), (e) => e instanceof q.IndexError && e.argument === 'k');
  });

  it('rejects bad input with typed errors naming the argument', () => {
    const x = q.tensor(randArray(12, 1), [3, 4]),
      c = q.tensor(randArray(8, 2), [2, 4]);
    assertThrowsTyped(() => q.nearest(x, c, { k: 3 }), q.IndexError, "'k'");
    assertThrowsTyped(() => q.nearest(x, c, { k: 0 }), q.IndexError, "'k'");
    assertThrowsTyped(() => q.nearest(x, q.tensor(randArray(10, 2), [2, 5])), q.ShapeError, "'codebook'");
    const nan = randArray(12, 1);
    nan[5] = NaN;
    assertThrowsTyped(() => q.nearest(q.tensor(nan, [3, 4]), c), q.ValueError, "'x'");
    const inf = randArray(8, 2);
    inf[7] = -Infinity;
    assertThrowsTyped(() => q.nearest(x, q.tensor(inf, [2, 4])), q.ValueError, "'codebook'");
    assertThrowsTyped(() => q.nearest(q.zeros([0, 4]), c), q.ValueError, "'x'");
    assertThrowsTyped(() => q.nearest(x, q.zeros([0, 4])), q.ValueError, "'codebook'");
    assertThrowsTyped(() => q.nearest(q.tensor(Int32Array.from([1, 2, 3, 4]), [1, 4]), c), q.DTypeError, "'x'");
    assertThrowsTyped(() => q.nearest(x, q.tensor(Int32Array.from([1, 2, 3, 4]), [1, 4])), q.DTypeError, "'codebook'");
    assertThrowsTyped(() => q.nearest(x, c, { metric: 'l1' }), q.ValueError, "'metric'");
    assertThrowsTyped(() => q.nearest(q.tensor(randArray(4, 1), [4]), c), q.ShapeError, "'x'");
  });
});
