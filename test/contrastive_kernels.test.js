// The fused InfoNCE kernels (infoNceLogits, infoNceLoss, infoNceGrad) and l2Normalize's
// clampNorms against plain-JavaScript float64 references: the host loops they replaced, so the
// kernels must match them bit for bit. Gradients of the op through them: finite differences.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { assertClose, gradCheck, randArray } from './helpers.js';
import * as ref from './ref.js';

const bits = (a) => [...new Uint32Array(Float32Array.from(a).buffer)];
const run = (name, inputs, attrs = {}) => q.runKernel(name, inputs, attrs);

/** Logits as the host loop computed them: float64 s / τ + mask, rounded to float32 once. */
function refLogits(s, mask, b, tau) {
  const l = new Float32Array(b * b);
  for (let t = 0; t < b * b; t++) l[t] = s[t] / tau + (mask ? mask[t] : 0);
  return l;
}

/** The loss as the host loop summed it: float64 in k order from 0, divided by 2b, rounded once. */
function refLoss(lseR, lseC, l, b) {
  let total = 0;
  for (let k = 0; k < b; k++) total += lseR[k] + lseC[k] - 2 * l[k * b + k];
  return Math.fround(total / (2 * b));
}

/** dL as the host loop computed it: (pr[i, j] + pc[j, i] − 2δ) · dy / (2bτ), float64, rounded once. */
function refGrad(pr, pc, dy, b, tau) {
  const scale = dy / (2 * b * tau);
  const g = new Float32Array(b * b);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) g[i * b + j] = (pr[i * b + j] + pc[j * b + i] - (i === j ? 2 : 0)) * scale;
  return g;
}

/** A mask with -1e4 on some off-diagonal entries (false negatives), ties of equal logits elsewhere. */
function someMask(b, seed) {
  const m = new Float32Array(b * b);
  for (let t = 0; t < b * b; t++) if (t % (b + 1) !== 0 && (t * 7 + seed) % 5 === 0) m[t] = -1e4;
  return m;
}

const transpose = (x, b) => Float32Array.from({ length: b * b }, (_, t) => x[(t % b) * b + Math.floor(t / b)]);

describe('fused InfoNCE kernels equal their float64 host loops bit for bit', () => {
  const sizes = [1, 3, 17, 64];

  it('infoNceLogits with and without a mask (τ 0.1, 0.2, 0.37)', () => {
    for (const b of sizes) {
      const s = randArray(b * b, b);
      if (b > 2) s[1] = s[2] = s[b] = -0; // ties and a negative zero
      for (const tau of [0.1, 0.2, 0.37]) {
        const mask = someMask(b, 3);
        const got = run('infoNceLogits', { s: q.tensor(s, [b, b]), mask: q.tensor(mask, [b, b]) }, { temperature: tau });
        assert.deepEqual(got.shape, [b, b]);
        assert.deepEqual(bits(got.toTypedArray()), bits(refLogits(s, mask, b, tau)), `b=${b} τ=${tau}`);
        const plain = run('infoNceLogits', { s: q.tensor(s, [b, b]) }, { temperature: tau });
        assert.deepEqual(bits(plain.toTypedArray()), bits(refLogits(s, null, b, tau)), `b=${b} τ=${tau} no mask`);
      }
    }
  });

  it('infoNceLoss sums in float64 in row order (and is 0 for one pair)', () => {
    for (const b of sizes) {
      const l = refLogits(randArray(b * b, 10 + b), someMask(b, 1), b, 0.2);
      const lseR = q.runKernel('logsumexpRows', { x: q.tensor(l, [b, b]) }, { rows: b, cols: b, outShape: [b, 1] });
      const lseC = q.runKernel('logsumexpRows', { x: q.tensor(transpose(l, b), [b, b]) }, { rows: b, cols: b, outShape: [b, 1] });
      const got = run('infoNceLoss', { lseR, lseC, l: q.tensor(l, [b, b]) });
      assert.deepEqual(got.shape, []);
      const expected = refLoss(lseR.toTypedArray(), lseC.toTypedArray(), l, b);
      assert.deepEqual(bits(got.toTypedArray()), bits([expected]), `b=${b}`);
      // And the loss itself, from a float64 log-sum-exp, to float32 rounding.
      const r = ref.logsumexpRows(Float64Array.from(l), b),
        c = ref.logsumexpRows(Float64Array.from(transpose(l, b)), b);
      let tot = 0;
      for (let k = 0; k < b; k++) tot += r[k] + c[k] - 2 * l[k * b + k];
      assertClose(got.toTypedArray(), [tot / (2 * b)], { rtol: 1e-5, atol: 1e-6 });
      if (b === 1) assert.equal(got.toTypedArray()[0], 0);
    }
  });

  it('infoNceGrad: (softmax rows + softmax columns − 2I) · dy / 2bτ (dy 1, 0.5, −3)', () => {
    for (const b of sizes) {
      const l = refLogits(randArray(b * b, 20 + b), someMask(b, 2), b, 0.2);
      const pr = q.runKernel('softmaxRows', { x: q.tensor(l, [b, b]) }, { rows: b, cols: b });
      const pc = q.runKernel('softmaxRows', { x: q.tensor(transpose(l, b), [b, b]) }, { rows: b, cols: b });
      for (const dy of [1, 0.5, -3]) {
        const got = run('infoNceGrad', { pr, pc, dy: q.tensor([dy], []) }, { temperature: 0.2 });
        assert.deepEqual(bits(got.toTypedArray()), bits(refGrad(pr.toTypedArray(), pc.toTypedArray(), dy, b, 0.2)), `b=${b} dy=${dy}`);
      }
      // Against float64 softmaxes: rows of the gradient sum to 0 (each softmax row sums to 1).
      const g = run('infoNceGrad', { pr, pc, dy: q.tensor([1], []) }, { temperature: 0.2 }).toTypedArray();
      const sr = ref.softmaxRows(Float64Array.from(l), b),
        sc = ref.softmaxRows(Float64Array.from(transpose(l, b)), b);
      const expected = Float64Array.from({ length: b * b }, (_, t) => {
        const i = Math.floor(t / b),
          j = t % b;
        return (sr[t] + sc[j * b + i] - (i === j ? 2 : 0)) / (2 * b * 0.2);
      });
      assertClose(g, expected, { rtol: 1e-5, atol: 1e-6, msg: `b=${b}` });
    }
  });

  it('clampNorms: below eps (0, tiny), at float32(eps), above, NaN', () => {
    const eps = 1e-12;
    const norms = Float32Array.of(0, 1e-30, Math.fround(eps), 1e-12 * 1.5, 1, NaN, 3.25);
    const [clamped, mask] = run('clampNorms', { norms: q.tensor(norms, [7, 1]) }, { eps });
    assert.deepEqual(clamped.shape, [7, 1]);
    const c = Float32Array.from(norms),
      m = new Float32Array(7).fill(1);
    for (let i = 0; i < 7; i++) if (norms[i] < eps) ((c[i] = eps), (m[i] = 0));
    assert.deepEqual(bits(clamped.toTypedArray()), bits(c));
    assert.deepEqual([...mask.toTypedArray()], [...m]);
    assert.deepEqual([...m], [0, 0, Math.fround(eps) < eps ? 0 : 1, 1, 1, 1, 1]);
  });

  it('bad arguments: non-square, short mask, dy of two values, temperature ≤ 0', () => {
    assert.throws(() => run('infoNceLogits', { s: q.zeros([2, 3]) }, { temperature: 0.1 }), q.ShapeError);
    assert.throws(() => run('infoNceLogits', { s: q.zeros([2, 2]), mask: q.zeros([3]) }, { temperature: 0.1 }), q.ShapeError);
    assert.throws(() => run('infoNceLogits', { s: q.zeros([2, 2]) }, { temperature: 0 }), /temperature/);
    assert.throws(() => run('infoNceLoss', { lseR: q.zeros([3]), lseC: q.zeros([2]), l: q.zeros([2, 2]) }), q.ShapeError);
    assert.throws(() => run('infoNceGrad', { pr: q.zeros([2, 2]), pc: q.zeros([2, 2]), dy: q.zeros([2]) }, { temperature: 0.1 }), q.ShapeError);
    assert.throws(() => run('infoNceGrad', { pr: q.zeros([2, 2]), pc: q.zeros([2, 2]), dy: q.zeros([]) }, { temperature: -1 }), /temperature/);
  });

  it('infoNCE through the kernels: gradients match finite differences (b = 1, 3, 17; odd d; masked ties)', () => {
    for (const [B, d] of [
      [1, 3],
      [3, 5],
      [17, 3],
    ]) {
      const za = randArray(B * d, 30 + B),
        zb = randArray(B * d, 40 + B);
      if (B > 2) for (let c = 0; c < d; c++) zb[d + c] = zb[c]; // two equal rows: tied logits
      const mask = someMask(B, 4);
      gradCheck(
        (a, b) => q.infoNCE(q.l2Normalize(a), q.l2Normalize(b), 0.3, q.tensor(mask, [B, B])),
        [
          { data: za, shape: [B, d] },
          { data: zb, shape: [B, d] },
        ],
        { eps: 1e-3, rtol: 3e-2, atol: 2e-3 },
      );
    }
  });

  it('l2Normalize backward through clampNorms: a zero row gets dy / eps, others the projection', () => {
    const x = q.tensor(Float32Array.of(0, 0, 0, 3, 4, 0), [2, 3]);
    x.requiresGrad = true;
    const w = q.tensor(Float32Array.of(1e-13, 2e-13, -1e-13, 1, -1, 2), [2, 3]);
    q.sum(q.mul(q.l2Normalize(x), w)).backward();
    const g = x.grad.toTypedArray();
    // Row 0: norm 0 < eps, so dx = dy / float32(eps). Row 1: (dy − y⟨dy, y⟩) / 5.
    const e = Math.fround(1e-12);
    const y = [0.6, 0.8, 0],
      dy = [1, -1, 2];
    const dot = y.reduce((s, v, i) => s + v * dy[i], 0);
    assertClose(g, [1e-13 / e, 2e-13 / e, -1e-13 / e, ...dy.map((v, i) => (v - y[i] * dot) / 5)], { rtol: 1e-5, atol: 1e-6 });
  });
});
