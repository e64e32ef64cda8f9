// ResidualVQ: straight-through identity, finite-difference gradients of the two losses where
// they are defined (codes fixed), the EMA update against a hand computation, dead-code
// restarts vs collapse on clustered data.
import { q, assert, assertThrowsTyped, gradCheck, randArray } from './helpers.js';
import { trainRvq } from '../scripts/rvq_utilisation.mjs';

describe('quant: ResidualVQ', () => {
  it('straight-through: quantized equals the sum of chosen codewords and passes the gradient unchanged', () => {
    const N = 9,
      D = 5;
    const x = q.tensor(randArray(N * D, 1), [N, D]);
    x.requiresGrad = true;
    const cbs = [q.tensor(randArray(7 * D, 2), [7, D]), q.tensor(randArray(4 * D, 3), [4, D], 'float32')];
    const w = randArray(N * D, 4);
    const r = q.residualQuantize(x, cbs);
    q.sum(q.mul(r.quantized, q.tensor(w, [N, D]))).backward();
    assert.deepEqual(Array.from(x.grad.toTypedArray()), Array.from(w));
    const codes = r.codes.toTypedArray(),
      qa = r.quantized.toTypedArray();
    const c0 = cbs[0].toTypedArray(),
      c1 = cbs[1].toTypedArray();
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < D; j++) {
        const want = c0[codes[i * 2] * D + j] + c1[codes[i * 2 + 1] * D + j];
        assert.ok(Math.abs(qa[i * D + j] - want) < 1e-6);
      }
    }
  });

  it('commitment loss gradient w.r.t. x matches finite differences (3 levels)', () => {
    const N = 4,
      D = 3;
    // a spread-out codebook keeps every code fixed under the ±eps probes
    const cbs = [q.tensor(randArray(5 * D, 12, 3), [5, D]), q.tensor(randArray(4 * D, 13, 1), [4, D]), q.tensor(randArray(3 * D, 14, 0.3), [3, D])];
    gradCheck((x) => q.residualQuantize(x, cbs).commitLoss, [{ data: randArray(N * D, 11, 2), shape: [N, D] }], { eps: 1e-3 });
  });

  it('codebook loss gradient w.r.t. the codebook matches finite differences (duplicate codes)', () => {
    const N = 10,
      D = 4;
    const x = q.tensor(randArray(N * D, 21, 2), [N, D]);
    gradCheck((c) => q.residualQuantize(x, [c]).codebookLoss, [{ data: randArray(3 * D, 22, 2), shape: [3, D] }], { eps: 1e-3 });
    // total loss: codebook part w.r.t. the codebook, beta * commitment w.r.t. x
    const cb = q.tensor(randArray(3 * D, 22, 2), [3, D]);
    cb.requiresGrad = true;
    const xx = q.tensor(randArray(N * D, 21, 2), [N, D]);
    xx.requiresGrad = true;
    const r = q.residualQuantize(xx, [cb], { beta: 0.25 });
    r.loss.backward();
    const codes = r.codes.toTypedArray(),
      xa = xx.toTypedArray(),
      ca = cb.toTypedArray();
    const gx = xx.grad.toTypedArray(),
      gc = cb.grad.toTypedArray();
    const gcRef = new Float64Array(3 * D);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < D; j++) {
        const e = xa[i * D + j] - ca[codes[i] * D + j];
        assert.ok(Math.abs(gx[i * D + j] - (0.25 * 2 * e) / (N * D)) < 1e-6);
        gcRef[codes[i] * D + j] += (-2 * e) / (N * D);
      }
    }
    for (let t = 0; t < gc.length; t++) assert.ok(Math.abs(gc[t] - gcRef[t]) < 1e-6);
  });

  it('EMA update equals a hand-computed reference', () => {
    const N = 12,
      D = 3,
      K = 4,
      decay = 0.9,
      eps = 1e-3;
    const vq = new q.ResidualVQ({ dim: D, levels: 1, codebookSize: K, ema: true, decay, eps, kmeansInit: false, seed: 3 });
    assert.equal(vq.parameters().length, 0);
    const x = randArray(N * D, 31);
    const C0 = Float64Array.from(vq.codebooks[0].toTypedArray());
    const N0 = Float64Array.from(vq.emaCounts[0]),
      M0 = Float64Array.from(vq.emaSums[0]);
    const out = vq.forward(q.tensor(x, [N, D]));
    const codes = out.codes.toTypedArray();
    // codes are the nearest of the old codebook
    for (let i = 0; i < N; i++) {
      const dist = (k) => [0, 1, 2].reduce((s, j) => s + (x[i * D + j] - C0[k * D + j]) ** 2, 0);
      for (let k = 0; k < K; k++) assert.ok(dist(codes[i]) <= dist(k) + 1e-5);
    }
    const n = new Float64Array(K),
      s = new Float64Array(K * D);
    for (let i = 0; i < N; i++) {
      n[codes[i]]++;
      for (let j = 0; j < D; j++) s[codes[i] * D + j] += x[i * D + j];
    }
    const Nk = N0.map((v, k) => decay * v + (1 - decay) * n[k]);
    const total = Nk.reduce((a, b) => a + b, 0);
    const C = vq.codebooks[0].toTypedArray();
    for (let k = 0; k < K; k++) {
      const sm = ((Nk[k] + eps) / (total + K * eps)) * total;
      for (let j = 0; j < D; j++) {
        const m = decay * M0[k * D + j] + (1 - decay) * s[k * D + j];
        assert.ok(Math.abs(C[k * D + j] - m / sm) < 1e-5, `code ${k} dim ${j}: ${C[k * D + j]} vs ${m / sm}`);
      }
    }
    // eval mode leaves the codebook alone
    vq.eval();
    const before = Float32Array.from(C);
    vq.forward(q.tensor(x, [N, D]));
    assert.deepEqual(vq.codebooks[0].toTypedArray(), before);
  });

  it('k-means init from the first batch gives a low-error codebook', () => {
    const N = 500,
      D = 6;
    const x = q.tensor(randArray(N * D, 41), [N, D]);
    const vq = new q.ResidualVQ({ dim: D, levels: 2, codebookSize: 16, seed: 1 });
    const init = vq.forward(x).commitLoss.item();
    const rnd = new q.ResidualVQ({ dim: D, levels: 2, codebookSize: 16, kmeansInit: false, seed: 1 });
    rnd.eval();
    assert.ok(init < 0.7 * rnd.forward(x).commitLoss.item(), `kmeans init ${init}`);
  });

  it('dead-code restarts reach > 90% utilisation on clustered data; without them the codebook collapses', () => {
    const on = trainRvq({ restarts: true, steps: 100 });
    const off = trainRvq({ restarts: false, steps: 100 });
    assert.ok(on.utilisation[0] > 0.9, `with restarts ${on.utilisation}`);
    assert.ok(off.utilisation[0] < 0.5, `without restarts ${off.utilisation}`);
    const emaOn = trainRvq({ restarts: true, ema: true, steps: 100 });
    assert.ok(emaOn.utilisation[0] > 0.9, `EMA with restarts ${emaOn.utilisation}`);
  });

  it('rejects bad input with typed errors', () => {
    assertThrowsTyped(() => new q.ResidualVQ({ dim: 0, levels: 1, codebookSize: 4 }), q.ValueError, "'dim'");
    assertThrowsTyped(() => new q.ResidualVQ({ dim: 3, levels: 2, codebookSize: [4] }), q.ValueError, "'codebookSize'");
    const vq = new q.ResidualVQ({ dim: 3, levels: 1, codebookSize: 4, kmeansInit: false });
    assertThrowsTyped(() => vq.forward(q.zeros([2, 4])), q.ShapeError, "'x'");
    assertThrowsTyped(() => q.residualQuantize(q.zeros([2, 3]), [q.zeros([2, 4])]), q.ShapeError, "'codebooks'");
    assertThrowsTyped(
      () => q.runKernel('vqScatterAddScaled', { grad: q.zeros([2, 3]), codes: q.tensor(Int32Array.from([0, 2])), rows: q.zeros([2, 3]) }, { scale: 1 }),
      q.IndexError,
      "'codes'",
    );
  });
});
