// The residual VQ's training-state kernels (lib/tensor/cpu/vq_state_kernels.ts) against
// plain-JavaScript float64 references of the rules: usage moving averages, the EMA codebook
// update with Laplace smoothing, dead-code restarts from the seeded stream, float64 copies.
import { q, assert, assertThrowsTyped, randArray, randInts } from './helpers.js';

const f64 = (t) => new Float64Array(t.toTypedArray().slice().buffer);
const f64Tensor = (values) => q.tensor(new Int32Array(Float64Array.from(values).buffer), [values.length, 2], 'int32');
const bitsOf = (a) => [...new Uint32Array(Float32Array.from(a).buffer)];

describe('residual-VQ state kernels (CPU) against plain-JS references', () => {
  it('emaF64Update: u = decay·u + (1 − decay)·x in float64, every entry (K = 1 .. 1000)', () => {
    for (const [K, decay] of [
      [1, 0.99],
      [3, 0],
      [17, 0.5],
      [1000, 0.9],
    ]) {
      const u0 = Array.from(randArray(K, K), (v) => v * 7.1);
      const x = Float32Array.from(randInts(K, 50, K + 1));
      const state = f64Tensor(u0);
      assert.equal(q.runKernel('emaF64Update', { state, x: q.tensor(x) }, { decay }), state);
      assert.deepEqual(
        [...f64(state)],
        u0.map((u, k) => decay * u + (1 - decay) * x[k]),
      );
    }
    assertThrowsTyped(() => q.runKernel('emaF64Update', { state: f64Tensor([1, 2]), x: q.tensor([1]) }, { decay: 0.5 }), q.ValueError, 'x');
  });

  it('vqEmaUpdate: counts and sums folded, codewords = sums / smoothed counts (unused codes, K = 1 .. 300)', () => {
    for (const [K, D, decay, eps] of [
      [1, 1, 0.99, 1e-5],
      [3, 4, 0.5, 1e-5],
      [17, 5, 0.9, 0.1],
      [300, 16, 0.99, 1e-5],
    ]) {
      const N0 = Array.from(randArray(K, K), (v) => Math.abs(v) + 0.5);
      const M0 = Array.from(randArray(K * D, K + 1), (v) => v * 3);
      const cnt = Float32Array.from(randInts(K, 4, K + 2)); // zeros: unused codes
      const sm = randArray(K * D, K + 3);
      const cb = q.tensor(randArray(K * D, K + 4), [K, D]);
      const N = f64Tensor(N0),
        M = f64Tensor(M0);
      q.runKernel('vqEmaUpdate', { codebook: cb, emaCounts: N, emaSums: M, counts: q.tensor(cnt), sums: q.tensor(sm, [K, D]) }, { decay, eps });
      const n1 = N0.map((v, k) => decay * v + (1 - decay) * cnt[k]);
      const total = n1.reduce((a, b) => a + b, 0);
      const m1 = M0.map((v, t) => decay * v + (1 - decay) * sm[t]);
      const c1 = m1.map((v, t) => v / (((n1[Math.floor(t / D)] + eps) / (total + K * eps)) * total));
      assert.deepEqual([...f64(N)], n1);
      assert.deepEqual([...f64(M)], m1);
      assert.deepEqual(bitsOf(cb.toTypedArray()), bitsOf(c1), `K=${K}`);
    }
  });

  /** Restarts as defined: codes below the threshold in order, each a row drawn by g.int(n). */
  function restartRef(cb, u, r, n, D, g, threshold, N, M) {
    let done = 0;
    u.forEach((v, k) => {
      if (v >= threshold) return;
      const i = g.int(n);
      for (let j = 0; j < D; j++) cb[k * D + j] = r[i * D + j];
      u[k] = threshold;
      if (N) {
        N[k] = 1;
        for (let j = 0; j < D; j++) M[k * D + j] = cb[k * D + j];
      }
      done++;
    });
    return done;
  }

  it('deadCodeRestart: dead codes take drawn rows (duplicates in the batch, n = 1, with and without EMA state)', () => {
    for (const [K, D, n, withEma] of [
      [1, 2, 1, false],
      [3, 3, 2, true],
      [17, 4, 17, false],
      [40, 5, 1000, true],
    ]) {
      const u0 = Float64Array.from(randInts(K, 6, K), (v, k) => (k === 0 ? 0 : v / 2)); // 0 .. 2.5 around the threshold 1.5
      const r = randArray(n * D, n);
      if (n > 2) r.copyWithin(D, 0, D); // rows 0 and 1 coincide
      const cb0 = randArray(K * D, K + 9);
      const N0 = new Float64Array(K).fill(4),
        M0 = Float64Array.from(randArray(K * D, 3));
      const g = new q.Generator(K + n);
      const rng = q.tensor(g.getState(), [4], 'int32');
      const cb = q.tensor(cb0.slice(), [K, D]),
        usage = f64Tensor(u0),
        restarts = q.tensor([3], [1], 'int32');
      const ema = withEma ? { emaCounts: f64Tensor(N0), emaSums: f64Tensor(M0) } : {};
      q.runKernel('deadCodeRestart', { codebook: cb, usage, residual: q.tensor(r, [n, D]), rng, restarts, ...ema }, { threshold: 1.5 });
      const rc = cb0.slice(),
        ru = Float64Array.from(u0),
        rN = Float64Array.from(N0),
        rM = Float64Array.from(M0);
      const done = restartRef(rc, ru, r, n, D, g, 1.5, withEma ? rN : null, rM);
      assert.ok(done > 0, 'some codes are dead');
      assert.deepEqual(bitsOf(cb.toTypedArray()), bitsOf(rc));
      assert.deepEqual([...f64(usage)], [...ru]);
      assert.equal(restarts.toTypedArray()[0], 3 + done);
      assert.deepEqual([...rng.toTypedArray()], [...g.getState()]);
      if (withEma) {
        assert.deepEqual([...f64(ema.emaCounts)], [...rN]);
        assert.deepEqual([...f64(ema.emaSums)], [...rM]);
      }
    }
  });

  it('f32ToF64: every float32 value exactly (-0, subnormals, extremes)', () => {
    const x = Float32Array.of(-0, 1.4e-45, -3.4028234663852886e38, 0.1, 1, -7.25, ...randArray(1000, 5));
    const out = q.runKernel('f32ToF64', { x: q.tensor(x) });
    assert.deepEqual(out.shape, [x.length, 2]);
    const v = f64(out);
    x.forEach((a, i) => assert.ok(Object.is(v[i], a), `entry ${i}`));
  });
});
