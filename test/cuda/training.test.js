// A small training loop (Linear/MLP, softmax cross-entropy by hand, Adam) gives the same
// parameters on CUDA as on the CPU after several steps.
import { requireGpu, host, q, assertClose, randArray, randInts } from './gpu.js';

describe('CUDA training step', () => {
  requireGpu();
  it('MLP + embedding gather + Adam: CUDA parameters track the CPU ones', () => {
    const B = 64,
      V = 50,
      E = 8,
      H = 16,
      C = 3;
    function build(device) {
      const emb = q.tensor(randArray(V * E, 1, 0.1), [V, E]).to(device);
      const w1 = q.tensor(randArray(E * H, 2, 0.3), [E, H]).to(device);
      const b1 = q.zeros([H]).to(device);
      const w2 = q.tensor(randArray(H * C, 3, 0.3), [H, C]).to(device);
      for (const p of [emb, w1, b1, w2]) p.requiresGrad = true;
      return [emb, w1, b1, w2];
    }
    const ids = randInts(B, V, 4);
    const onehot = new Float32Array(B * C);
    randInts(B, C, 5).forEach((c, i) => {
      onehot[i * C + c] = 1;
    });
    function run(device) {
      const params = build(device);
      const [emb, w1, b1, w2] = params;
      const opt = new q.optim.Adam(params, { lr: 0.01 });
      const x = q.tensor(ids, [B], 'int32').to(device);
      const y = q.tensor(onehot, [B, C]).to(device);
      for (let step = 0; step < 5; step++) {
        q.tidy(() => {
          const h = q.relu(q.add(q.matmul(q.gather(emb, x), w1), b1));
          const logits = q.matmul(h, w2);
          const loss = q.mean(q.sub(q.logsumexp(logits), q.sum(q.mul(logits, y), -1)));
          opt.zeroGrad();
          loss.backward();
          opt.step();
        });
      }
      return params.map((p) => host(p));
    }
    const cpu = run('cpu');
    const gpu = run('cuda');
    cpu.forEach((c, i) => assertClose(gpu[i], c, { rtol: 1e-3, atol: 1e-5, msg: `param ${i}` }));
  });

  it('nn.bceWithLogits on CUDA: same loss and gradient as the CPU (x = 0 and large |x| included)', () => {
    const x = randArray(1000, 21, 8);
    x[0] = 0;
    x[1] = 80;
    x[2] = -80;
    const y = Float32Array.from(randInts(1000, 2, 22));
    for (const reduction of ['mean', 'sum', 'none']) {
      const xc = q.tensor(x, [10, 100]);
      xc.requiresGrad = true;
      const xg = xc.to('cuda');
      xg.requiresGrad = true;
      const lc = q.nn.bceWithLogits(xc, y, { reduction });
      const lg = q.nn.bceWithLogits(xg, q.tensor(y, [10, 100]).to('cuda'), { reduction });
      assertClose(host(lg), host(lc), { rtol: 1e-5, atol: 1e-5, msg: reduction });
      q.sum(lc).backward();
      q.sum(lg).backward();
      assertClose(host(xg.grad), host(xc.grad), { rtol: 1e-5, atol: 1e-7, msg: `${reduction} grad` });
    }
  });
});
