// nn.Linear / nn.MLP gradients and the SGD / Adam updates against hand-written references.
import { q, assert, assertClose, assertThrowsTyped, gradCheck, randArray } from './helpers.js';

/** Central differences of loss() w.r.t. every element of parameter p (perturbed in place). */
function numericGrad(p, loss, eps = 1e-2) {
  const a = p.toTypedArray();
  const g = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) {
    const v = a[k];
    a[k] = v + eps;
    const up = q.noGrad(loss);
    a[k] = v - eps;
    const down = q.noGrad(loss);
    a[k] = v;
    g[k] = (up - down) / (2 * eps);
  }
  return g;
}

function checkModuleGrads(model, x) {
  const w = q.tensor(randArray(model.forward(x).size, 77), model.forward(x).shape);
  const loss = () => q.sum(q.mul(model.forward(x), w));
  model.zeroGrad();
  loss().backward();
  for (const [name, p] of model.namedParameters()) {
    assert.ok(p.grad, `${name} has a gradient`);
    assertClose(
      p.grad.toTypedArray(),
      numericGrad(p, () => loss().item()),
      { rtol: 2e-2, atol: 2e-3, msg: name },
    );
  }
}

describe('nn', () => {
  it('Linear: y = x Wᵀ + b, PyTorch init bounds, seeded', () => {
    const lin = new q.nn.Linear(5, 3, { seed: 4 });
    assert.deepEqual(lin.weight.shape, [3, 5]);
    assert.ok(lin.weight.toTypedArray().every((v) => Math.abs(v) <= 1 / Math.sqrt(5)));
    assert.deepEqual([...lin.weight.toTypedArray()], [...new q.nn.Linear(5, 3, { seed: 4 }).weight.toTypedArray()]);
    const x = q.tensor(randArray(2 * 5, 1), [2, 5]);
    const y = lin.forward(x).toTypedArray();
    const W = lin.weight.toTypedArray(),
      b = lin.bias.toTypedArray(),
      X = x.toTypedArray();
    const want = [];
    for (let i = 0; i < 2; i++)
      for (let o = 0; o < 3; o++) {
        let s = b[o];
        for (let k = 0; k < 5; k++) s += X[i * 5 + k] * W[o * 5 + k];
        want.push(s);
      }
    assertClose(y, want, { rtol: 1e-5, atol: 1e-6 });
    assert.equal(lin.numParameters(), 18);
    assert.equal(new q.nn.Linear(5, 3, { bias: false }).numParameters(), 15);
  });

  it('Linear gradients (2-D, 3-D and 1-D inputs) match finite differences', () => {
    checkModuleGrads(new q.nn.Linear(4, 3, { seed: 1 }), q.tensor(randArray(8, 2), [2, 4]));
    checkModuleGrads(new q.nn.Linear(4, 3, { seed: 2 }), q.tensor(randArray(24, 3), [3, 2, 4]));
    checkModuleGrads(new q.nn.Linear(4, 2, { seed: 3 }), q.tensor(randArray(4, 4), [4]));
    const lin = new q.nn.Linear(4, 2, { seed: 5 });
    gradCheck((x) => q.sum(q.square(lin.forward(x))), [{ data: randArray(4, 6), shape: [4] }]);
    gradCheck((x) => q.sum(q.square(lin.forward(x))), [{ data: randArray(12, 7), shape: [3, 4] }]);
  });

  it('MLP gradients for each activation', () => {
    for (const activation of ['relu', 'tanh', 'sigmoid', 'none']) {
      const mlp = new q.nn.MLP([4, 6, 3], { activation, seed: 3 });
      assert.equal(mlp.parameters().length, 4);
      assert.deepEqual(
        mlp.namedParameters().map(([n]) => n),
        ['0.weight', '0.bias', '1.weight', '1.bias'],
      );
      checkModuleGrads(mlp, q.tensor(randArray(20, 8), [5, 4]));
    }
    const last = new q.nn.MLP([3, 2], { activation: 'sigmoid', activateLast: true });
    assert.ok(
      last
        .forward(q.tensor(randArray(3, 1), [1, 3]))
        .toTypedArray()
        .every((v) => v > 0 && v < 1),
    );
  });

  it('nn rejects bad arguments', () => {
    assertThrowsTyped(() => new q.nn.Linear(0, 3), q.ValueError, "'inFeatures'");
    assertThrowsTyped(() => new q.nn.Linear(3, 2.5), q.ValueError, "'outFeatures'");
    assertThrowsTyped(() => new q.nn.Linear(3, 2).forward(q.ones([2, 4])), q.ShapeError, "'x'");
    assertThrowsTyped(() => new q.nn.MLP([3]), q.ValueError, "'sizes'");
    assertThrowsTyped(() => new q.nn.MLP([3, 2], { activation: 'gelu' }), q.ValueError, "'activation'");
  });
});

describe('optimizers', () => {
  const P0 = Float64Array.from(randArray(7, 11));
  const grads = [1, 2, 3, 4].map((s) => Float64Array.from(randArray(7, 20 + s)));

  function run(makeOpt) {
    const p = q.tensor(Float32Array.from(P0), [7]);
    p.requiresGrad = true;
    const opt = makeOpt([p]);
    for (const g of grads) {
      opt.zeroGrad();
      // loss = Σ g ⊙ p has gradient g exactly
      q.sum(q.mul(p, q.tensor(Float32Array.from(g), [7]))).backward();
      opt.step();
    }
    return p.toTypedArray();
  }

  it('SGD (plain, momentum, Nesterov, weight decay) matches the reference update', () => {
    for (const o of [{ lr: 0.1 }, { lr: 0.05, momentum: 0.9 }, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }, { lr: 0.2, weightDecay: 0.1 }]) {
      const { lr, momentum = 0, weightDecay = 0, nesterov = false } = o;
      const p = Float64Array.from(P0);
      const v = new Float64Array(7);
      for (const g of grads) {
        for (let i = 0; i < 7; i++) {
          let d = g[i] + weightDecay * p[i];
          if (momentum) {
            v[i] = momentum * v[i] + d;
            d = nesterov ? d + momentum * v[i] : v[i];
          }
          p[i] -= lr * d;
        }
      }
      assertClose(
        run((ps) => new q.optim.SGD(ps, o)),
        p,
        { rtol: 1e-5, atol: 1e-6, msg: JSON.stringify(o) },
      );
    }
  });

  it('Adam and AdamW match the reference update with bias correction', () => {
    for (const o of [
      { lr: 0.01 },
      { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6 },
      { lr: 0.01, weightDecay: 0.1 },
      { lr: 0.01, weightDecay: 0.1, decoupled: true },
    ]) {
      const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = o;
      const p = Float64Array.from(P0);
      const m = new Float64Array(7),
        v = new Float64Array(7);
      grads.forEach((g, t) => {
        for (let i = 0; i < 7; i++) {
          let gi = g[i];
          if (decoupled) p[i] *= 1 - lr * weightDecay;
          else gi += weightDecay * p[i];
          m[i] = beta1 * m[i] + (1 - beta1) * gi;
          v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
          const mh = m[i] / (1 - beta1 ** (t + 1)),
            vh = v[i] / (1 - beta2 ** (t + 1));
          p[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
        }
      });
      assertClose(
        run((ps) => new q.optim.Adam(ps, o)),
        p,
        { rtol: 1e-4, atol: 1e-6, msg: JSON.stringify(o) },
      );
    }
  });

  it('optimizers skip parameters without gradients and validate hyperparameters', () => {
    const p = q.tensor(Float32Array.from([1, 2]));
    p.requiresGrad = true;
    new q.optim.SGD([p], { lr: 1 }).step();
    new q.optim.Adam([p]).step();
    assert.deepEqual([...p.toTypedArray()], [1, 2]);
    assertThrowsTyped(() => new q.optim.SGD([p], { lr: -1 }), q.ValueError, "'lr'");
    assertThrowsTyped(() => new q.optim.SGD([p], { lr: NaN }), q.ValueError, "'lr'");
    assertThrowsTyped(() => new q.optim.Adam([p], { beta1: 1 }), q.ValueError, "'beta1'");
    assertThrowsTyped(() => new q.optim.Adam([], {}), q.ValueError, "'params'");
    assertThrowsTyped(() => new q.optim.SGD([q.ones([2])], { lr: 1 }), q.ValueError, "'params'");
    assertThrowsTyped(() => q.optim.clipGradNorm([p], 0), q.ValueError, "'maxNorm'");
  });

  it('a small MLP regression trains (loss falls by 10x) and is reproducible', () => {
    const train = () => {
      const x = q.randn([64, 3], { seed: 1 });
      const yt = q.sum(q.mul(x, q.tensor(Float32Array.from([1, -2, 0.5]), [3])), 1, true);
      const mlp = new q.nn.MLP([3, 16, 1], { seed: 2, activation: 'tanh' });
      const opt = new q.optim.Adam(mlp.parameters(), { lr: 0.02 });
      const losses = [];
      for (let i = 0; i < 150; i++) {
        q.tidy(() => {
          const loss = q.mean(q.square(q.sub(mlp.forward(x), yt)));
          opt.zeroGrad();
          loss.backward();
          opt.step();
          losses.push(loss.item());
        });
      }
      return losses;
    };
    const a = train();
    assert.ok(a[a.length - 1] < a[0] / 10, `loss ${a[0]} -> ${a[a.length - 1]}`);
    assert.deepEqual(train(), a);
  });
});
