// Every backward rule against central finite differences (test/helpers.js gradCheck).
import { q, assert, assertClose, assertThrowsTyped, gradCheck, randArray } from './helpers.js';

const inp = (shape, seed, map = (v) => v) => ({
  data: randArray(
    shape.reduce((p, d) => p * d, 1),
    seed,
  ).map(map),
  shape,
});
// Away from the kink at 0 (relu, abs) by more than the finite-difference step.
const awayFromZero = (v) => v + Math.sign(v || 1) * 0.1;
const positive = (v) => Math.abs(v) + 0.5;

/** A fixed random projection to a scalar, so every output element gets a distinct weight. */
function proj(y, seed = 99) {
  const w = q.tensor(randArray(y.size, seed), y.shape);
  return q.sum(q.mul(y, w));
}

describe('gradients (finite differences)', () => {
  describe('broadcasting binary ops', () => {
    const shapes = [
      [
        [3, 4],
        [3, 4],
      ],
      [[3, 4], [4]],
      [
        [2, 3, 1],
        [1, 5],
      ],
      [[1], [2, 3]],
      [[], [3]],
    ];
    const ops = {
      add: [(v) => v, (v) => v],
      sub: [(v) => v, (v) => v],
      mul: [(v) => v, (v) => v],
      div: [(v) => v, (v) => Math.sign(v || 1) * (Math.abs(v) + 0.5)],
      pow: [positive, (v) => v],
      maximum: [(v) => v, (v) => v],
      minimum: [(v) => v, (v) => v],
    };
    for (const [name, [ma, mb]] of Object.entries(ops)) {
      it(name, () => {
        let seed = 1;
        for (const [sa, sb] of shapes) {
          const a = inp(sa, seed++, ma);
          const b = inp(sb, seed++, mb);
          if (name === 'maximum' || name === 'minimum') {
            // Keep the operands apart so the selection does not flip under the step.
            a.data = a.data.map((v, i) => (Math.abs(v - b.data[i % b.data.length]) < 0.1 ? v + 0.3 : v));
          }
          gradCheck((x, y) => proj(q[name](x, y)), [a, b]);
        }
        gradCheck((x) => proj(q[name](x, 1.5)), [inp([4], 7, positive)]);
        gradCheck((x) => proj(q[name](1.5, x)), [inp([4], 8, ['pow', 'div'].includes(name) ? positive : (v) => v)]);
      });
    }
    it('mul(x, x) and add(x, x) accumulate both paths', () => {
      gradCheck((x) => proj(q.mul(x, x)), [inp([5], 3)]);
      gradCheck((x) => proj(q.add(x, q.mul(x, 3))), [inp([2, 3], 4)]);
    });
  });

  describe('unary ops', () => {
    const ops = {
      neg: (v) => v,
      relu: awayFromZero,
      sigmoid: (v) => v,
      tanh: (v) => v,
      exp: (v) => v,
      log: positive,
      sqrt: positive,
      square: (v) => v,
      abs: awayFromZero,
    };
    for (const [name, map] of Object.entries(ops)) {
      it(name, () => gradCheck((x) => proj(q[name](x)), [inp([3, 5], name.length, map)]));
    }
  });

  describe('matmul', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`transA=${transA} transB=${transB}`, () => {
          const [M, K, N] = [3, 4, 5];
          gradCheck((a, b) => proj(q.matmul(a, b, { transA, transB })), [inp(transA ? [K, M] : [M, K], 1), inp(transB ? [N, K] : [K, N], 2)]);
        });
      }
    }
    it('N-D a ([2, 3, 4] @ [4, 5] and @ [5, 4]ᵀ)', () => {
      gradCheck((a, b) => proj(q.matmul(a, b)), [inp([2, 3, 4], 3), inp([4, 5], 4)]);
      gradCheck((a, b) => proj(q.matmul(a, b, { transB: true })), [inp([2, 3, 4], 5), inp([5, 4], 6)]);
    });
  });

  describe('reductions', () => {
    it('sum over axes (keepDims or not)', () => {
      for (const axis of [undefined, 0, 1, 2, -1, [0, 2]]) {
        gradCheck((x) => proj(q.sum(x, axis)), [inp([2, 3, 4], 1)]);
        gradCheck((x) => proj(q.sum(x, axis, true)), [inp([2, 3, 4], 2)]);
      }
    });
    it('mean over axes', () => {
      for (const axis of [undefined, 0, [1, 2], -2]) gradCheck((x) => proj(q.mean(x, axis)), [inp([2, 3, 4], 3)]);
    });
    it('softmax, logSoftmax, logsumexp', () => {
      gradCheck((x) => proj(q.softmax(x)), [inp([3, 5], 1)]);
      gradCheck((x) => proj(q.logSoftmax(x)), [inp([3, 5], 2)]);
      gradCheck((x) => proj(q.logsumexp(x)), [inp([3, 5], 3)]);
      gradCheck((x) => proj(q.logsumexp(x, true)), [inp([2, 2, 3], 4)]);
      gradCheck((x) => proj(q.softmax(x)), [inp([2, 2, 3], 5)]);
    });
    it('l2Normalize', () => {
      gradCheck((x) => proj(q.l2Normalize(x)), [inp([3, 5], 1)]);
      gradCheck((x) => proj(q.l2Normalize(x)), [inp([1, 1], 2, positive)]);
    });
  });

  describe('indexing and shape ops', () => {
    const idx = q.tensor(Int32Array.from([2, 0, 2, 3, 2]), [5]);
    it('gather (duplicate indices add up)', () => {
      gradCheck((t) => proj(q.gather(t, idx)), [inp([4, 3], 1)]);
      gradCheck((t) => proj(q.gather(t, q.reshape(idx, [5, 1]))), [inp([4], 2)]);
    });
    it('scatterAdd (target and source)', () => {
      gradCheck((t, s) => proj(q.scatterAdd(t, idx, s)), [inp([4, 3], 3), inp([5, 3], 4)]);
    });
    it('concat along each axis', () => {
      gradCheck((a, b) => proj(q.concat([a, b], 0)), [inp([2, 3], 1), inp([1, 3], 2)]);
      gradCheck((a, b) => proj(q.concat([a, b, a], -1)), [inp([2, 3], 3), inp([2, 2], 4)]);
    });
    it('slice, reshape, transpose', () => {
      gradCheck((x) => proj(q.slice(x, 1, 1, 2)), [inp([2, 4, 2], 1)]);
      gradCheck((x) => proj(q.slice(x, 0, 0, 1)), [inp([3, 2], 2)]);
      gradCheck((x) => proj(q.reshape(x, [3, -1])), [inp([2, 6], 3)]);
      gradCheck((x) => proj(q.transpose(x)), [inp([3, 4], 4)]);
    });
  });
});

describe('autograd engine', () => {
  it('accumulates over backward() calls, releases the old gradient, and noGrad records nothing', () => {
    const x = q.tensor(Float32Array.from([1, 2, 3]));
    x.requiresGrad = true;
    q.sum(q.mul(x, x)).backward();
    const first = x.grad;
    q.sum(q.mul(x, 3)).backward();
    assert.deepEqual([...x.grad.toTypedArray()], [5, 7, 9]);
    assert.ok(first.isDisposed, 'the replaced gradient is disposed');
    const y = q.noGrad(() => q.mul(x, 2));
    assert.equal(y.requiresGrad, false);
    assertThrowsTyped(() => y.backward(), q.ValueError, 'does not require');
    assertThrowsTyped(() => q.mul(x, 2).backward(), q.ShapeError, 'scalar');
  });

  it('leaves never share gradient memory (in-place clipping scales each once)', () => {
    const a = q.tensor(Float32Array.from([1, 1]));
    const b = q.tensor(Float32Array.from([1, 1]));
    a.requiresGrad = b.requiresGrad = true;
    const s = q.add(q.reshape(a, [2]), b);
    const seed = q.tensor(Float32Array.from([3, 4]));
    s.backward(seed);
    assert.notEqual(a.grad, b.grad);
    assert.notEqual(a.grad, seed);
    const norm = q.optim.clipGradNorm([a, b], 1);
    assertClose([norm], [Math.sqrt(50)], { rtol: 1e-6 });
    assertClose(a.grad.toTypedArray(), [3 / Math.sqrt(50), 4 / Math.sqrt(50)], { rtol: 1e-5 });
    assertClose(b.grad.toTypedArray(), [3 / Math.sqrt(50), 4 / Math.sqrt(50)], { rtol: 1e-5 });
    assert.deepEqual([...seed.toTypedArray()], [3, 4]);
    a.grad.dispose();
    assert.ok(!b.grad.isDisposed);
  });

  it('backward(grad) checks the seed shape; tidy keeps leaf gradients', () => {
    const x = q.tensor(Float32Array.from([1, 2]));
    x.requiresGrad = true;
    assertThrowsTyped(() => q.mul(x, 2).backward(q.ones([3])), q.ShapeError, "'grad'");
    const before = q.memory().numTensors;
    q.tidy(() => q.sum(q.exp(x)).backward());
    assert.ok(!x.grad.isDisposed);
    assertClose(x.grad.toTypedArray(), [Math.E, Math.E ** 2], { rtol: 1e-6 });
    assert.equal(q.memory().numTensors, before + 1);
  });
});
