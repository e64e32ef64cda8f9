// The residual VQ's training-state kernels on CUDA against the CPU kernels, bit for bit (same
// float64 arithmetic, explicit roundings on the device), and ResidualVQ state kernels on
// device tensors.
import { requireGpu, pair, host, q, assert, randArray, randInts } from './gpu.js';

const bits = (t) => [...new Uint32Array(host(t).slice().buffer)];
const f64Pair = (values) => pair(new Int32Array(Float64Array.from(values).buffer), [values.length, 2], 'int32');

describe('CUDA residual-VQ state kernels equal the CPU kernels bit for bit', () => {
  requireGpu();

  it('emaF64Update and vqEmaUpdate (K = 1, 17, 1000; unused codes)', () => {
    for (const [K, D] of [
      [1, 1],
      [17, 5],
      [1000, 64],
    ]) {
      const [cu, gu] = f64Pair(Array.from(randArray(K, K), (v) => v * 3));
      const [cc, gc] = pair(Float32Array.from(randInts(K, 4, K + 1)), [K]);
      q.runKernel('emaF64Update', { state: cu, x: cc }, { decay: 0.9 });
      q.runKernel('emaF64Update', { state: gu, x: gc }, { decay: 0.9 });
      assert.deepEqual(bits(gu), bits(cu));
      const [cn, gn] = f64Pair(Array.from(randArray(K, K + 2), (v) => Math.abs(v) + 0.1));
      const [cm, gm] = f64Pair(Array.from(randArray(K * D, K + 3)));
      const [cs, gs] = pair(randArray(K * D, K + 4), [K, D]);
      const [cb, gb] = pair(randArray(K * D, K + 5), [K, D]);
      q.runKernel('vqEmaUpdate', { codebook: cb, emaCounts: cn, emaSums: cm, counts: cc, sums: cs }, { decay: 0.99, eps: 1e-5 });
      q.runKernel('vqEmaUpdate', { codebook: gb, emaCounts: gn, emaSums: gm, counts: gc, sums: gs }, { decay: 0.99, eps: 1e-5 });
      for (const [g, c] of [
        [gn, cn],
        [gm, cm],
        [gb, cb],
      ])
        assert.deepEqual(bits(g), bits(c), `K=${K}`);
    }
  });

  it('deadCodeRestart (with and without EMA state) and f32ToF64', () => {
    for (const [K, D, n, withEma] of [
      [1, 2, 1, true],
      [40, 5, 1000, false],
      [300, 16, 257, true],
    ]) {
      const [cb, gb] = pair(randArray(K * D, K), [K, D]);
      const [cu, gu] = f64Pair(Array.from(randInts(K, 6, K), (v) => v / 2));
      const [cr, gr] = pair(randArray(n * D, n), [n, D]);
      const [crng, grng] = pair(new q.Generator(K).getState(), [4], 'int32');
      const [cres, gres] = pair([0], [1], 'int32');
      const [cn, gn] = f64Pair(new Array(K).fill(2));
      const [cm, gm] = f64Pair(Array.from(randArray(K * D, 2)));
      const cEma = withEma ? { emaCounts: cn, emaSums: cm } : {},
        gEma = withEma ? { emaCounts: gn, emaSums: gm } : {};
      q.runKernel('deadCodeRestart', { codebook: cb, usage: cu, residual: cr, rng: crng, restarts: cres, ...cEma }, { threshold: 1.5 });
      q.runKernel('deadCodeRestart', { codebook: gb, usage: gu, residual: gr, rng: grng, restarts: gres, ...gEma }, { threshold: 1.5 });
      for (const [g, c] of [
        [gb, cb],
        [gu, cu],
        [grng, crng],
        [gres, cres],
        [gn, cn],
        [gm, cm],
      ])
        assert.deepEqual(bits(g), bits(c), `K=${K}`);
    }
    const [cx, gx] = pair(Float32Array.of(-0, 1.4e-45, 3.5, ...randArray(100003, 1)), [100006]);
    assert.deepEqual(bits(q.runKernel('f32ToF64', { x: gx })), bits(q.runKernel('f32ToF64', { x: cx })));
  });
});
