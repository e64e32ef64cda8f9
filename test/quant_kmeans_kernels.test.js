// The kernels of the host-free k-means driver (lib/tensor/cpu/kmeans_kernels.ts) against
// plain-JavaScript references written from the algorithms' definitions: the cluster statistic
// and centroid update in float64 row order, FAISS's empty-cluster splits and k-means++ D²
// rounds driven by the same seeded stream, ordered float64 sums, the balanced assignment.
import { q, assert, assertThrowsTyped, randArray, randInts } from './helpers.js';

const f64 = (t) => new Float64Array(t.toTypedArray().slice().buffer);
const f64Tensor = (values) => q.tensor(new Int32Array(Float64Array.from(values).buffer), [values.length, 2], 'int32');
const bitsOf = (a) => new Uint32Array(Float32Array.from(a).buffer);

/** Streams of Generator(seed) after `skip` draws, and its state words as an int32 [4] tensor. */
function stream(seed, skip = 0) {
  const g = new q.Generator(seed);
  for (let i = 0; i < skip; i++) g.nextUint32();
  return { g, rng: q.tensor(g.getState(), [4], 'int32') };
}

describe('k-means kernels (CPU) against plain-JS references', () => {
  it('Generator state words continue the same stream', () => {
    const a = new q.Generator(42);
    for (let i = 0; i < 7; i++) a.uniform();
    const b = new q.Generator(0);
    b.setState(a.getState());
    for (let i = 0; i < 50; i++) assert.equal(b.nextUint32(), a.nextUint32());
  });

  it('clusterSums: counts and float64 row sums in row order (empty clusters, duplicates, N = 1 .. 1000+)', () => {
    for (const [N, D, K] of [
      [1, 1, 1],
      [3, 2, 5],
      [17, 7, 4],
      [1000, 9, 40],
      [1031, 3, 1],
    ]) {
      const x = randArray(N * D, N + D, 1000); // large magnitudes: float32 sums would round
      for (let j = 0; j < D && N > 2; j++) x[2 * D + j] = x[j]; // rows 0 and 2 coincide
      const assign = randInts(N, Math.max(1, K - 2), K); // the last clusters stay empty
      const { counts, sums } = q.runKernel('clusterSums', { x: q.tensor(x, [N, D]), assignments: q.tensor(assign, [N], 'int32') }, { K });
      assert.deepEqual(counts.shape, [K]);
      assert.deepEqual(sums.shape, [K, D, 2]);
      const cnt = new Int32Array(K),
        ref = new Float64Array(K * D);
      for (let i = 0; i < N; i++) {
        cnt[assign[i]]++;
        for (let j = 0; j < D; j++) ref[assign[i] * D + j] += x[i * D + j];
      }
      assert.deepEqual([...counts.toTypedArray()], [...cnt]);
      assert.deepEqual([...f64(sums)], [...ref], `N=${N} K=${K}`);
    }
    const x = q.tensor(randArray(6, 1), [3, 2]);
    assertThrowsTyped(() => q.runKernel('clusterSums', { x, assignments: q.tensor([0, 3, 1], [3], 'int32') }, { K: 3 }), q.IndexError, 'assignments');
    assertThrowsTyped(() => q.runKernel('clusterSums', { x, assignments: q.tensor([0, -1, 1], [3], 'int32') }, { K: 3 }), q.IndexError, 'assignments');
  });

  it('centroidsFromSums: float32(sum · (1 / count)) for non-empty clusters, empty ones untouched', () => {
    for (const [K, D] of [
      [1, 1],
      [3, 5],
      [17, 3],
      [300, 16],
    ]) {
      const sums = Array.from(randArray(K * D, K, 100), (v, i) => v / 3 + i * 1e-9);
      const counts = randInts(K, 7, K + 1); // 0 (empty) .. 6
      const cent = randArray(K * D, K + 2);
      const c = q.tensor(cent.slice(), [K, D]);
      const out = q.runKernel('centroidsFromSums', { sums: f64Tensor(sums), counts: q.tensor(counts, [K], 'int32'), centroids: c });
      assert.equal(out, c);
      const ref = cent.slice();
      for (let k = 0; k < K; k++) {
        if (counts[k] === 0) continue;
        for (let j = 0; j < D; j++) ref[k * D + j] = sums[k * D + j] * (1 / counts[k]);
      }
      assert.deepEqual([...bitsOf(c.toTypedArray())], [...bitsOf(ref)], `K=${K}`);
    }
  });

  /** FAISS's rule as written in its paper-style description: see lib/quant/kmeans.ts. */
  function splitRef(c, counts, K, D, n, g) {
    let splits = 0;
    for (let ci = 0; ci < K; ci++) {
      if (counts[ci] !== 0) continue;
      let cj = 0;
      for (let guard = 0; ; cj = (cj + 1) % K, guard++) {
        if (g.uniform() < (counts[cj] - 1) / Math.max(1, n - K) || guard > 100 * K) break;
      }
      if (counts[cj] < 2) continue;
      for (let j = 0; j < D; j++) {
        const v = c[cj * D + j],
          e = 1 / 1024;
        c[ci * D + j] = j % 2 === 0 ? v * (1 + e) : v * (1 - e);
        c[cj * D + j] = j % 2 === 0 ? v * (1 - e) : v * (1 + e);
      }
      counts[ci] = counts[cj] >> 1;
      counts[cj] -= counts[ci];
      splits++;
    }
    return splits;
  }

  it('splitEmptyClusters: FAISS splits from the seeded stream, counts updated, stream advanced, splits added', () => {
    const cases = [
      [1, 1, [1]],
      [3, 2, [3, 0, 0]],
      [3, 2, [1, 1, 1]],
      [5, 3, [0, 1, 1, 0, 1]], // nothing to split (sizes < 2)
      [17, 4, [0, 40, 0, 0, 3, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 9, 0]],
      [40, 7, null],
    ];
    for (const [K, D, given] of cases) {
      const counts = given ? Int32Array.from(given) : randInts(K, 4, K); // many empty
      const n = counts.reduce((a, b) => a + b, 0);
      const cent = randArray(K * D, K + D);
      for (let j = 0; j < D && K > 2; j++) cent[2 * D + j] = cent[j]; // duplicate centroids
      const { g, rng } = stream(K, 3);
      const c = q.tensor(cent.slice(), [K, D]);
      const ct = q.tensor(counts.slice(), [K], 'int32');
      const splits = q.tensor([5], [1], 'int32');
      q.runKernel('splitEmptyClusters', { centroids: c, counts: ct, rng, splits }, { n });
      const refC = cent.slice(),
        refCounts = counts.slice();
      const s = splitRef(refC, refCounts, K, D, n, g);
      assert.deepEqual([...bitsOf(c.toTypedArray())], [...bitsOf(refC)], `K=${K}`);
      assert.deepEqual([...ct.toTypedArray()], [...refCounts]);
      assert.deepEqual([...rng.toTypedArray()], [...g.getState()], 'stream advanced as the reference');
      assert.equal(splits.toTypedArray()[0], 5 + s);
      if (K === 17) assert.ok(s > 0, 'the case splits');
    }
  });

  /** k-means++ D² round as defined: minD, prefix sums, draws until m distinct new rows. */
  function roundRef(dist, minD, chosen, round, m, g) {
    const n = minD.length;
    for (const p of round) chosen[p] = 1;
    const prefix = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      minD[i] = Math.min(minD[i], chosen[i] ? 0 : Math.max(0, dist[i]));
      total += minD[i];
      prefix.push(total);
    }
    const out = [];
    for (let guard = 0; out.length < m; guard++) {
      const sampling = total > 0 && guard < 100 * m;
      let p;
      if (sampling) {
        const r = g.uniform() * total;
        p = prefix.findIndex((v) => v > r);
      } else {
        p = g.int(n);
      }
      if (out.includes(p) || (sampling && chosen[p])) continue;
      out.push(p);
    }
    return out;
  }

  it('dsquaredRound: D² draws of distinct unchosen rows (ties, zero distances, the all-equal fallback)', () => {
    for (const [n, m, kind] of [
      [1, 1, 'zero'],
      [3, 2, 'normal'],
      [17, 5, 'ties'],
      [17, 16, 'ties'],
      [40, 6, 'zero'],
      [1000, 16, 'normal'],
    ]) {
      const dist = kind === 'zero' ? new Float32Array(n) : kind === 'ties' ? Float32Array.from(randInts(n, 3, n), (v) => v) : randArray(n, n).map((v) => v * v);
      const minD = Float32Array.from(randArray(n, n + 1), (v, i) => (i % 4 === 0 ? Infinity : v * v));
      const chosen = Int32Array.from({ length: n }, (_, i) => (i % 5 === 1 ? 1 : 0));
      const round = n > 2 ? [0, 2] : [0];
      const { g, rng } = stream(n + m);
      if (n === 17 && m === 5) {
        // s1 = 0 makes the first draw exactly 0: r = 0 equals the prefix of the chosen row 0,
        // which "first prefix > r" must step over.
        g.setState([1, 0, 16, 4]);
        rng.toTypedArray().set(g.getState());
      }
      const md = q.tensor(minD.slice(), [n]);
      const ch = q.tensor(chosen.slice(), [n], 'int32');
      const picked = q.runKernel(
        'dsquaredRound',
        { distances: q.tensor(dist, [n, 1]), minDist: md, chosen: ch, round: q.tensor(round, [round.length], 'int32'), rng },
        { m: Math.min(m, n) },
      );
      const refMin = Float64Array.from(minD),
        refChosen = chosen.slice();
      const ref = roundRef(dist, refMin, refChosen, round, Math.min(m, n), g);
      assert.deepEqual([...picked.toTypedArray()], ref, `n=${n} m=${m} ${kind}`);
      assert.deepEqual([...md.toTypedArray()], [...Float32Array.from(refMin)]);
      assert.deepEqual([...ch.toTypedArray()], [...refChosen]);
      assert.deepEqual([...rng.toTypedArray()], [...g.getState()]);
      assert.equal(new Set(ref).size, ref.length);
    }
  });

  it('sumF64: float64 sum (and sum of squares) in element order, into its slot only', () => {
    for (const n of [1, 3, 17, 1000, 4099]) {
      const x = randArray(n, n, 1e4);
      const out = f64Tensor([7, 7, 7]);
      q.runKernel('sumF64', { x: q.tensor(x), out }, { slot: 1, square: false });
      q.runKernel('sumF64', { x: q.tensor(x), out }, { slot: 2, square: true });
      let s = 0,
        s2 = 0;
      for (const v of x) ((s += v), (s2 += v * v));
      assert.deepEqual([...f64(out)], [7, s, s2]);
    }
    const out = f64Tensor([0, 0]);
    for (const slot of [-1, 2, 0.5]) {
      assertThrowsTyped(() => q.runKernel('sumF64', { x: q.tensor([1]), out }, { slot, square: false }), q.ValueError, 'slot');
    }
  });

  it('balancedAssign kernel: the capacity-constrained assignment and its objective in its slot', async () => {
    const { balancedAssign } = await import('../dist/quant/balanced.js');
    for (const [n, k] of [
      [1, 1],
      [3, 3],
      [17, 4],
      [1000, 16],
    ]) {
      const x = q.tensor(randArray(n * 3, n), [n, 3]);
      for (const row of [1, 2]) if (n > row) x.toTypedArray().copyWithin(row * 3, 0, 3); // duplicate rows
      const c = q.tensor(randArray(k * 3, k + 9), [k, 3]);
      const { indices, distances } = q.nearest(x, c, { k });
      const objective = f64Tensor([0, 0, 0]);
      const cap = Math.ceil(n / k);
      const a = q.runKernel('balancedAssign', { order: indices, distances, objective }, { cap, slot: 2 });
      const ref = balancedAssign(indices.toTypedArray(), distances.toTypedArray(), n, k, cap);
      assert.deepEqual([...a.toTypedArray()], [...ref.assign]);
      assert.deepEqual([...f64(objective)], [0, 0, ref.objective]);
    }
  });
});
