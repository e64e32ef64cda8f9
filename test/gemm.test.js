// The packed SIMD GEMM on every instruction-set path against a float64 reference, with the
// float32 rounding bound (|error| <= 2·K·u·Σ|a||b|) as tolerance.
import { q, assert, assertClose, assertThrowsTyped, randArray } from './helpers.js';
import { native } from '../dist/tensor/native.js';
import * as ref from './ref.js';

const ISAS = ['generic', 'avx2', 'avx512'];
const U = 2 ** -24;

function check(ta, tb, M, N, K, alpha, beta, seed, label) {
  const A = randArray(M * K, seed);
  const B = randArray(K * N, seed + 1);
  const C0 = randArray(M * N, seed + 2);
  const C = C0.slice();
  native.sgemm(ta, tb, M, N, K, alpha, A, B, beta, C);
  const want = ref.gemm(ta, tb, M, N, K, alpha, A, B, beta, C0);
  const absA = A.map(Math.abs),
    absB = B.map(Math.abs);
  const bound = ref.gemm(ta, tb, M, N, K, Math.abs(alpha), absA, absB, 0, null);
  for (let i = 0; i < want.length; i++) {
    const tol = 2 * (K + 2) * U * (bound[i] + Math.abs(beta * C0[i])) + 1e-30;
    if (!(Math.abs(C[i] - want[i]) <= tol)) {
      assert.fail(`${label} ${ta ? 'Aᵀ' : 'A'}${tb ? 'Bᵀ' : 'B'} M=${M} N=${N} K=${K}: C[${i}] = ${C[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

const SHAPES = [
  [1, 1, 1],
  [3, 17, 5],
  [17, 3, 255],
  [255, 33, 17],
  [1000, 7, 3],
  [5, 1000, 13],
  [13, 40, 1000],
  [31, 47, 600],
  [29, 70, 257],
  [15, 64, 1],
];

describe('gemm', () => {
  const best = q.isa().best;
  after(() => q.setIsa(best));

  for (const isa of ISAS) {
    it(`${isa}: all trans combos, awkward sizes, alpha/beta, vs float64`, function () {
      if (q.setIsa(isa) !== isa) this.skip();
      let seed = 10;
      for (const [M, N, K] of SHAPES) {
        for (const ta of [false, true]) for (const tb of [false, true]) check(ta, tb, M, N, K, 1, 0, seed++, isa);
      }
      check(false, true, 37, 45, 300, -0.5, 0.75, 99, isa);
      check(true, false, 14, 33, 2, 2, 1, 98, isa);
    });

    it(`${isa}: big blocks (several column blocks and depth blocks)`, function () {
      if (q.setIsa(isa) !== isa) this.skip();
      check(false, false, 5, 1000, 3000, 1, 0, 7, isa); // column blocks of the packed B
      check(false, true, 3, 200, 20000, 1, 0.5, 8, isa); // depth blocks (KB < K)
      check(true, true, 300, 131, 520, 1, 0, 9, isa);
    });

    it(`${isa}: bit-identical on 1 and 2 threads`, function () {
      if (q.setIsa(isa) !== isa) this.skip();
      const n0 = q.numThreads();
      // The last three: one thread packs A, two threads split the columns
      // so finely that tasks read A in place; both must agree to the bit.
      for (const [M, N, K, ta, tb] of [
        [300, 257, 600, false, true],
        [64, 2000, 70, true, false],
        [2, 4000, 300, false, false],
        [14, 128, 1200, false, false],
        [3, 100, 4000, true, true],
        [17, 128, 600, true, false],
      ]) {
        const A = randArray(M * K, 1),
          B = randArray(K * N, 2);
        const outs = [1, 2].map((t) => {
          q.setNumThreads(t);
          const C = new Float32Array(M * N);
          native.sgemm(ta, tb, M, N, K, 1, A, B, 0, C);
          return C;
        });
        assert.ok(Buffer.from(outs[0].buffer).equals(Buffer.from(outs[1].buffer)), `${isa} ${M}x${N}x${K} differs between 1 and 2 threads`);
      }
      q.setNumThreads(n0);
    });
  }

  it('beta = 0 ignores NaN in C; K = 0 and alpha = 0 scale C by beta; empty M/N are no-ops', () => {
    const A = randArray(6, 1),
      B = randArray(6, 2);
    const C = new Float32Array(4).fill(NaN);
    native.sgemm(false, false, 2, 2, 3, 1, A, B, 0, C);
    assert.ok(C.every(Number.isFinite));
    const D = Float32Array.from([1, 2, 3, 4]);
    native.sgemm(false, false, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0.5, D);
    assert.deepEqual([...D], [0.5, 1, 1.5, 2]);
    native.sgemm(false, false, 2, 2, 3, 0, A, B, 0, D);
    assert.deepEqual([...D], [0, 0, 0, 0]);
    native.sgemm(false, false, 0, 5, 3, 1, new Float32Array(0), randArray(15), 0, new Float32Array(0));
    native.sgemm(false, false, 5, 0, 3, 1, randArray(15), new Float32Array(0), 0, new Float32Array(0));
  });

  it('matmul op: shapes, transposes, N-D a, empty dims', () => {
    const a = q.tensor(randArray(2 * 3 * 4, 3), [2, 3, 4]);
    const b = q.tensor(randArray(4 * 5, 4), [4, 5]);
    const y = q.matmul(a, b);
    assert.deepEqual(y.shape, [2, 3, 5]);
    assertClose(y.toTypedArray(), ref.gemm(false, false, 6, 5, 4, 1, a.toTypedArray(), b.toTypedArray(), 0, null), { rtol: 1e-5, atol: 1e-5 });
    const bt = q.tensor(randArray(5 * 4, 5), [5, 4]);
    assert.deepEqual(q.matmul(a, bt, { transB: true }).shape, [2, 3, 5]);
    const at = q.tensor(randArray(4 * 3, 6), [4, 3]);
    const z = q.matmul(at, bt, { transA: true, transB: true });
    assert.deepEqual(z.shape, [3, 5]);
    assertClose(z.toTypedArray(), ref.gemm(true, true, 3, 5, 4, 1, at.toTypedArray(), bt.toTypedArray(), 0, null), { rtol: 1e-5, atol: 1e-5 });
    const e = q.matmul(q.zeros([3, 0]), q.zeros([0, 2]));
    assert.deepEqual([...e.toTypedArray()], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(q.matmul(q.zeros([0, 4]), b).shape, [0, 5]);
  });

  it('matmul rejects wrong ranks, mismatched inner dims and int32', () => {
    const a = q.ones([3, 4]);
    assertThrowsTyped(() => q.matmul(a, q.ones([5, 2])), q.ShapeError, "'b'");
    assertThrowsTyped(() => q.matmul(a, q.ones([4])), q.ShapeError, "'b'");
    assertThrowsTyped(() => q.matmul(q.ones([4]), q.ones([4, 2])), q.ShapeError, "'a'");
    assertThrowsTyped(() => q.matmul(q.ones([2, 3, 4]), q.ones([2, 4]), { transA: true }), q.ShapeError, "'a'");
    assertThrowsTyped(() => q.matmul(q.ones([3, 4], 'int32'), q.ones([4, 2])), q.DTypeError, "'a'");
    assertThrowsTyped(() => q.matmul(a, q.ones([4, 2], 'int32')), q.DTypeError, "'b'");
  });
});
