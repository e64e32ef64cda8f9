// The fused InfoNCE kernels and clampNorms on CUDA against the CPU kernels, bit for bit (the
// same float64 operations, explicitly rounded on the device), and infoNCE's loss and
// gradients through l2Normalize on device tensors.
import { requireGpu, pair, host, same, q, assert, randArray } from './gpu.js';

const bits = (t) => [...new Uint32Array(Float32Array.from(host(t)).buffer)];

/** A mask with -1e4 on some off-diagonal entries (in-batch false negatives). */
function someMask(b) {
  const m = new Float32Array(b * b);
  for (let t = 0; t < b * b; t++) if (t % (b + 1) !== 0 && (t * 7 + 3) % 5 === 0) m[t] = -1e4;
  return m;
}

describe('CUDA fused InfoNCE kernels equal the CPU kernels bit for bit', () => {
  requireGpu();

  it('infoNceLogits (mask and none), infoNceLoss and infoNceGrad on b = 1, 3, 17, 512', () => {
    for (const b of [1, 3, 17, 512]) {
      const [cs, gs] = pair(randArray(b * b, b), [b, b]);
      const [cm, gm] = pair(someMask(b), [b, b]);
      for (const [cmask, gmask] of [
        [cm, gm],
        [undefined, undefined],
      ]) {
        const cl = q.runKernel('infoNceLogits', cmask ? { s: cs, mask: cmask } : { s: cs }, { temperature: 0.2 });
        const gl = q.runKernel('infoNceLogits', gmask ? { s: gs, mask: gmask } : { s: gs }, { temperature: 0.2 });
        assert.equal(gl.device, 'cuda');
        assert.deepEqual(bits(gl), bits(cl), `logits b=${b}`);
        // The loss from the same log-sum-exps (CPU ones, uploaded), so only infoNceLoss differs.
        const lseR = q.runKernel('logsumexpRows', { x: cl }, { rows: b, cols: b, outShape: [b, 1] });
        const lseC = q.runKernel('logsumexpRows', { x: q.runKernel('transpose2d', { x: cl }, {}) }, { rows: b, cols: b, outShape: [b, 1] });
        const closs = q.runKernel('infoNceLoss', { lseR, lseC, l: cl }, {});
        const gloss = q.runKernel('infoNceLoss', { lseR: lseR.to('cuda'), lseC: lseC.to('cuda'), l: gl }, {});
        assert.equal(gloss.device, 'cuda');
        assert.deepEqual(bits(gloss), bits(closs), `loss b=${b}`);
        const pr = q.runKernel('softmaxRows', { x: cl }, { rows: b, cols: b });
        const pc = q.runKernel('softmaxRows', { x: q.runKernel('transpose2d', { x: cl }, {}) }, { rows: b, cols: b });
        for (const dy of [1, -0.75]) {
          const cg = q.runKernel('infoNceGrad', { pr, pc, dy: q.tensor([dy], []) }, { temperature: 0.2 });
          const gg = q.runKernel('infoNceGrad', { pr: pr.to('cuda'), pc: pc.to('cuda'), dy: q.tensor([dy], []).to('cuda') }, { temperature: 0.2 });
          assert.deepEqual(bits(gg), bits(cg), `grad b=${b} dy=${dy}`);
        }
      }
    }
  });

  it('clampNorms: below eps, at float32(eps), above, NaN', () => {
    const [c, g] = pair(Float32Array.of(0, 1e-30, Math.fround(1e-12), 1.5e-12, 1, NaN, 3.25), [7, 1]);
    const [cc, cm] = q.runKernel('clampNorms', { norms: c }, { eps: 1e-12 });
    const [gc, gm] = q.runKernel('clampNorms', { norms: g }, { eps: 1e-12 });
    assert.deepEqual(bits(gc), bits(cc));
    assert.deepEqual(bits(gm), bits(cm));
  });

  it('infoNCE through l2Normalize on device tensors: loss and gradients track the CPU', () => {
    const B = 33,
      d = 7;
    const run = (device) => {
      const a = q.tensor(randArray(B * d, 1), [B, d]).to(device);
      const b = q.tensor(randArray(B * d, 2), [B, d]).to(device);
      a.requiresGrad = b.requiresGrad = true;
      const l = q.infoNCE(q.l2Normalize(a), q.l2Normalize(b), 0.2, q.tensor(someMask(B), [B, B]).to(device));
      l.backward();
      return { l, ga: a.grad, gb: b.grad };
    };
    const c = run('cpu'),
      g = run('cuda');
    same(g.l, c.l, { rtol: 1e-5, atol: 1e-6 });
    same(g.ga, c.ga, { rtol: 1e-4, atol: 1e-6 });
    same(g.gb, c.gb, { rtol: 1e-4, atol: 1e-6 });
  });
});
