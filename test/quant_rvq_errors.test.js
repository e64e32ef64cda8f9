// residualQuantize / ResidualVQ: every argument check (typed class, argument name, message; the
// limit accepted, one past it rejected), and the training-state logic against plain-JS
// references: k-means / random-row initialisation, usage EMA and dead-code restarts (the
// restarts' seeded stream continued across steps and re-initialisations), the loss wiring,
// parameter names, the pinned initial codebooks and the live-tensor accounting.
import { q, assert, randArray } from './helpers.js';
import { throwsArg } from './support/throws_arg.js';

/** float32 rows of `a` [n, d] as arrays. */
function rows(a, d) {
  const out = [];
  for (let i = 0; i < a.length / d; i++) out.push(Array.from(a.subarray(i * d, i * d + d)));
  return out;
}

describe('quant: residualQuantize argument checks', () => {
  const D = 3;
  const cb = () => q.tensor(randArray(4 * D, 5), [4, D]);
  const x = () => q.tensor(randArray(2 * D, 6), [2, D]);

  it('x: a float32 2-D Tensor with N > 0 (1 row accepted)', () => {
    throwsArg(() => q.residualQuantize([[1, 2, 3]], [cb()]), q.ValueError, 'x', /^argument 'x' must be a Tensor$/);
    throwsArg(() => q.residualQuantize(q.zeros([2, D], 'int32'), [cb()]), q.DTypeError, 'x', /^argument 'x' must be float32, got int32$/);
    throwsArg(() => q.residualQuantize(q.zeros([D]), [cb()]), q.ShapeError, 'x', /^argument 'x' must be 2-D \[N, D\] with N > 0, got \[3\]$/);
    throwsArg(() => q.residualQuantize(q.zeros([2, D, 1]), [cb()]), q.ShapeError, 'x', /^argument 'x' must be 2-D \[N, D\] with N > 0, got \[2, 3, 1\]$/);
    throwsArg(() => q.residualQuantize(q.zeros([0, D]), [cb()]), q.ShapeError, 'x', /got \[0, 3\]$/);
    assert.deepEqual(q.residualQuantize(q.zeros([1, D]), [cb()]).codes.shape, [1, 1]);
  });

  it('codebooks: a non-empty array of float32 [K, D] tensors (entry index in the message)', () => {
    throwsArg(() => q.residualQuantize(x(), cb()), q.ValueError, 'codebooks', /^argument 'codebooks' must be a non-empty array$/);
    throwsArg(() => q.residualQuantize(x(), []), q.ValueError, 'codebooks', /^argument 'codebooks' must be a non-empty array$/);
    const bad = {
      'not a Tensor': { dtype: 'float32', rank: 2, shape: [4, D] },
      int32: q.zeros([4, D], 'int32'),
      '3-D': q.zeros([4, D, 1]),
      '1-D': q.zeros([D]),
      'wrong D': q.zeros([4, D + 1]),
    };
    for (const [what, b] of Object.entries(bad)) {
      assert.throws(
        () => q.residualQuantize(x(), [cb(), b]),
        (e) => e instanceof q.ShapeError && e.argument === 'codebooks' && /^argument 'codebooks' entry 1 must be float32 \[K, 3\]$/.test(e.message),
        what,
      );
    }
    // K = 1 is a valid codebook
    assert.deepEqual(Array.from(q.residualQuantize(x(), [q.zeros([1, D])]).codes.toTypedArray()), [0, 0]);
  });

  it('beta: finite and >= 0 (0 accepted)', () => {
    for (const beta of [-1e-6, -1, NaN, Infinity]) {
      throwsArg(() => q.residualQuantize(x(), [cb()], { beta }), q.ValueError, 'beta', new RegExp(`^argument 'beta' must be finite and >= 0, got ${beta}$`));
    }
    const r = q.residualQuantize(x(), [cb()], { beta: 0 });
    assert.equal(r.loss.item(), r.codebookLoss.item());
  });
});

describe('quant: residualQuantize outputs', () => {
  it('levelInputs are the L residuals r_1..r_L (float32 reference), the loss scales with dy, beta 0 keeps x out of the loss', () => {
    for (const [N, D] of [
      [1, 1],
      [3, 5],
      [17, 3],
    ]) {
      const xa = randArray(N * D, 70 + N);
      const books = [q.tensor(randArray(5 * D, 71), [5, D]), q.tensor(randArray(3 * D, 72, 0.5), [3, D]), q.tensor(randArray(2 * D, 73, 0.2), [2, D])];
      const r = q.residualQuantize(q.tensor(xa, [N, D]), books);
      assert.equal(r.levelInputs.length, 3);
      const codes = r.codes.toTypedArray();
      let res = Float32Array.from(xa);
      books.forEach((b, l) => {
        assert.deepEqual(Array.from(r.levelInputs[l].toTypedArray()), Array.from(res), `level ${l} input, N ${N}`);
        const c = b.toTypedArray();
        const next = new Float32Array(N * D);
        for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) next[i * D + j] = Math.fround(res[i * D + j] - c[codes[i * 3 + l] * D + j]);
        res = next;
      });
    }
    // d(3 * codebookLoss)/dC_0 = 3 * (-2/(N D)) * sum per code of the rows r_2 = x - C_0[code]
    const N = 17,
      D = 3;
    const xa = randArray(N * D, 80);
    const cbt = q.tensor(randArray(4 * D, 81), [4, D]);
    cbt.requiresGrad = true;
    const frozen = q.tensor(randArray(2 * D, 82, 0.3), [2, D]);
    const r = q.residualQuantize(q.tensor(xa, [N, D]), [cbt, frozen]);
    q.mul(r.codebookLoss, 3).backward();
    const codes = r.codes.toTypedArray();
    const c0 = cbt.toTypedArray(),
      c1 = frozen.toTypedArray();
    const want = new Float64Array(4 * D);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < D; j++) {
        const r1 = Math.fround(xa[i * D + j] - c0[codes[i * 2] * D + j]);
        want[codes[i * 2] * D + j] += (3 * -2 * r1) / (N * D);
      }
    }
    const got = cbt.grad.toTypedArray();
    for (let t = 0; t < want.length; t++) assert.ok(Math.abs(got[t] - want[t]) < 1e-5, `grad ${t}: ${got[t]} vs ${want[t]}`);
    assert.equal(frozen.grad ?? null, null, 'a codebook without requiresGrad gets no gradient');
    // beta 0: the loss is the codebook loss alone and does not reach x
    const xt = q.tensor(xa, [N, D]);
    xt.requiresGrad = true;
    const cb0 = q.tensor(c0, [4, D]);
    cb0.requiresGrad = true;
    const r0 = q.residualQuantize(xt, [cb0], { beta: 0 });
    r0.loss.backward();
    assert.equal(xt.grad ?? null, null);
    assert.ok(cb0.grad);
  });

  it('in no-grad mode only the returned tensors stay alive (rows, level codes, the weighted commitment are released)', () => {
    const x = q.tensor(randArray(5 * 3, 95), [5, 3]);
    const books = [q.tensor(randArray(4 * 3, 96), [4, 3]), q.tensor(randArray(2 * 3, 97), [2, 3])];
    for (const beta of [0, 0.25]) {
      const before = q.memory().numTensors;
      const r = q.noGrad(() => q.residualQuantize(x, books, { beta }));
      const returned = [r.quantized, r.codes, r.loss, r.codebookLoss, r.commitLoss, ...r.levelInputs];
      assert.equal(q.memory().numTensors, before + returned.length, `beta ${beta}`);
      for (const t of returned) t.dispose();
    }
  });

  it('backward makes no gradient for frozen codebooks (the live-tensor count does not grow with them)', () => {
    const N = 7,
      D = 3;
    const x = q.tensor(randArray(N * D, 110), [N, D]);
    const added = (frozen) => {
      const a = q.tensor(randArray(4 * D, 111), [4, D]);
      a.requiresGrad = true;
      const books = [a, ...Array.from({ length: frozen }, (_, i) => q.tensor(randArray(2 * D, 112 + i, 0.3), [2, D]))];
      const r = q.residualQuantize(x, books);
      const before = q.memory().numTensors;
      r.codebookLoss.backward();
      return q.memory().numTensors - before;
    };
    const one = added(0);
    assert.deepEqual([added(1), added(3)], [one, one]);
  });

  it('the autograd nodes are named rvqSte, rvqCommitment, rvqCodebookLoss', () => {
    const x = q.tensor(randArray(6, 90), [2, 3]);
    x.requiresGrad = true;
    const cb = q.tensor(randArray(6, 91), [2, 3]);
    cb.requiresGrad = true;
    const r = q.residualQuantize(x, [cb]);
    assert.equal(r.quantized.gradFn.name, 'rvqSte');
    assert.equal(r.commitLoss.gradFn.name, 'rvqCommitment');
    assert.equal(r.codebookLoss.gradFn.name, 'rvqCodebookLoss');
  });
});

describe('quant: ResidualVQ options', () => {
  const ok = { dim: 3, levels: 2, codebookSize: 4, kmeansInit: false };
  const make = (o) => new q.ResidualVQ({ ...ok, ...o });

  it('dim, levels: positive integers (1 accepted)', () => {
    for (const dim of [0, -1, 1.5, undefined])
      throwsArg(() => make({ dim }), q.ValueError, 'dim', new RegExp(`^argument 'dim' must be a positive integer, got ${dim}$`));
    for (const levels of [0, -2, 1.5])
      throwsArg(() => make({ levels }), q.ValueError, 'levels', new RegExp(`^argument 'levels' must be a positive integer, got ${levels}$`));
    const one = make({ dim: 1, levels: 1 });
    assert.deepEqual(
      one.codebooks.map((c) => c.shape),
      [[4, 1]],
    );
  });

  it('codebookSize: a positive integer or one per level (1 accepted); the array is copied', () => {
    const re = /^argument 'codebookSize' must be a positive integer or 2 of them$/;
    for (const codebookSize of [0, -1, 2.5, [4], [4, 4, 4], [4, 0], [0, 4], [4, 2.5], undefined]) {
      throwsArg(() => make({ codebookSize }), q.ValueError, 'codebookSize', re);
    }
    const sizes = [1, 3];
    const vq = make({ codebookSize: sizes });
    sizes[0] = 9;
    assert.deepEqual(vq.codebookSizes, [1, 3]);
    assert.deepEqual(
      vq.codebooks.map((c) => c.shape[0]),
      [1, 3],
    );
    assert.deepEqual(make({ codebookSize: 1 }).codebookSizes, [1, 1]);
  });

  it('decay in [0, 1) (0 accepted, 1 rejected); beta >= 0 (0 accepted)', () => {
    for (const decay of [1, 1.5, -0.01, NaN])
      throwsArg(() => make({ decay }), q.ValueError, 'decay', new RegExp(`^argument 'decay' must be in \\[0, 1\\), got ${decay}$`));
    assert.equal(make({ decay: 0 }).decay, 0);
    assert.equal(make({ decay: 0.999 }).decay, 0.999);
    for (const beta of [-1, -1e-9, NaN]) throwsArg(() => make({ beta }), q.ValueError, 'beta', new RegExp(`^argument 'beta' must be >= 0, got ${beta}$`));
    assert.equal(make({ beta: 0 }).beta, 0);
    // accepted here, it would make every forward() and encode() throw
    throwsArg(() => make({ beta: Infinity }), q.ValueError, 'beta', /^argument 'beta' must be finite, got Infinity$/);
  });

  it('forward: x of the wrong dim, rank or type is rejected by name', () => {
    const vq = make({});
    throwsArg(() => vq.forward(q.zeros([2, 4])), q.ShapeError, 'x', /^argument 'x' has dim 4, the quantiser has 3$/);
    throwsArg(() => vq.forward(q.zeros([3])), q.ShapeError, 'x', /^argument 'x' must be 2-D \[N, D\] with N > 0, got \[3\]$/);
    throwsArg(() => vq.forward([[1, 2, 3]]), q.ValueError, 'x', /^argument 'x' must be a Tensor$/);
  });

  it('initial codebooks are the pinned randn streams seed*7919 + l + 1; parameters are codebook_<l>', () => {
    const vq = new q.ResidualVQ({ dim: 5, levels: 3, codebookSize: [4, 2, 3], kmeansInit: false, seed: 3 });
    vq.codebooks.forEach((c, l) =>
      assert.deepEqual(Array.from(c.toTypedArray()), Array.from(q.randn([c.shape[0], 5], { seed: 3 * 7919 + l + 1 }).toTypedArray()), `level ${l}`),
    );
    assert.deepEqual(
      vq.namedParameters().map(([n]) => n),
      ['codebook_0', 'codebook_1', 'codebook_2'],
    );
    assert.deepEqual(new q.ResidualVQ({ dim: 5, levels: 1, codebookSize: 2, ema: true }).namedParameters(), []);
  });

  it('loss: codebook + beta * commitment; in EMA mode beta * commitment only', () => {
    const x = q.tensor(randArray(7 * 3, 100), [7, 3]);
    for (const ema of [false, true]) {
      const vq = new q.ResidualVQ({ dim: 3, levels: 2, codebookSize: 3, beta: 0.6, ema, kmeansInit: false, seed: 2 });
      vq.eval();
      const r = vq.forward(x);
      const want = (ema ? 0 : r.codebookLoss.item()) + 0.6 * r.commitLoss.item();
      assert.ok(Math.abs(r.loss.item() - want) < 1e-6 * Math.max(1, want), `ema ${ema}: ${r.loss.item()} vs ${want}`);
    }
  });
});

// Plain-JS models of the training state: usage EMA, restarts and their seeded stream, initialisation.
describe('quant: ResidualVQ training state vs plain-JS references', () => {
  it('usage EMA and dead-code restarts (rows drawn from the continued seeded stream) over 4 steps; re-initialisation continues it', () => {
    for (const ema of [false, true]) {
      const D = 3,
        K = 5,
        decay = 0.5,
        t = 1.2,
        seed = 11;
      const vq = new q.ResidualVQ({ dim: D, levels: 1, codebookSize: K, kmeansInit: false, deadCodeThreshold: t, decay, ema, seed });
      vq.train();
      const g = new q.Generator(seed);
      let u = new Float64Array(K).fill(t);
      let cb = Float32Array.from(vq.codebooks[0].toTypedArray());
      let restarts = 0;
      for (const [s, n] of [
        [0, 17],
        [1, 3],
        [2, 1],
        [3, 17],
      ]) {
        const xa = randArray(n * D, 200 + s, 2);
        const out = vq.forward(q.tensor(xa, [n, D]));
        const codes = out.codes.toTypedArray();
        const counts = new Float64Array(K);
        for (const c of codes) counts[c]++;
        u = u.map((v, k) => decay * v + (1 - decay) * counts[k]);
        const next = ema ? null : cb;
        const after = vq.codebooks[0].toTypedArray();
        for (let k = 0; k < K; k++) {
          if (u[k] >= t) {
            if (!ema) assert.deepEqual(Array.from(after.subarray(k * D, k * D + D)), Array.from(next.subarray(k * D, k * D + D)), `step ${s} code ${k} kept`);
            continue;
          }
          const i = g.int(n);
          assert.deepEqual(
            Array.from(after.subarray(k * D, k * D + D)),
            Array.from(xa.subarray(i * D, i * D + D)),
            `step ${s} code ${k} restarted from row ${i}`,
          );
          u[k] = t;
          restarts++;
          if (ema) {
            assert.equal(vq.emaCounts[0][k], 1);
            assert.deepEqual(Array.from(vq.emaSums[0].subarray(k * D, k * D + D)), Array.from(Float64Array.from(xa.subarray(i * D, i * D + D))));
          }
        }
        assert.deepEqual(Array.from(vq.usage[0]), Array.from(u), `step ${s} usage`);
        assert.equal(vq.restarts[0], restarts);
        cb = Float32Array.from(after);
      }
      assert.ok(restarts >= 4, `restarts ${restarts}`);
      // a re-initialisation with fewer rows than codes draws its rows from where the restarts left the stream
      vq.initialized = false;
      const m = 4;
      const xa = randArray(m * D, 300, 2);
      const codes = vq.forward(q.tensor(xa, [m, D])).codes.toTypedArray();
      const ids = Array.from({ length: K }, () => g.int(m));
      const counts = new Float64Array(K);
      for (const c of codes) counts[c]++;
      u = new Float64Array(K).map((_, k) => decay * (m / K) + (1 - decay) * counts[k]);
      // then the step's restarts continue the same stream
      for (let k = 0; k < K; k++) if (u[k] < t) ids[k] = g.int(m);
      assert.deepEqual(
        rows(vq.codebooks[0].toTypedArray(), D),
        ids.map((i) => Array.from(xa.subarray(i * D, i * D + D))),
        `ema ${ema}: re-init`,
      );
      vq.dispose();
    }
  });

  it('k-means init: n >= K runs k-means (n = K: the rows themselves); n < K takes seeded random rows per level', () => {
    const D = 2;
    const xa = Float32Array.from([0, 0, 10, 0, 0, 10, 10, 10]);
    const vq = new q.ResidualVQ({ dim: D, levels: 1, codebookSize: 4, seed: 5 });
    vq.train();
    const out = vq.forward(q.tensor(xa, [4, D]));
    const sort = (r) => r.map((v) => v.join(',')).sort();
    assert.deepEqual(sort(rows(vq.codebooks[0].toTypedArray(), D)), sort(rows(xa, D)));
    assert.equal(new Set(out.codes.toTypedArray()).size, 4);
    assert.deepEqual(Array.from(vq.usage[0]), [1, 1, 1, 1], 'usage n/K, then the EMA of one assignment each');
    vq.dispose();

    for (const n of [1, 3]) {
      const K = [8, 5],
        seed = 9;
      const x = randArray(n * 3, 400 + n);
      const v = new q.ResidualVQ({ dim: 3, levels: 2, codebookSize: K, seed, decay: 0.5 });
      v.train();
      v.forward(q.tensor(x, [n, 3]));
      const g = new q.Generator(seed);
      const ids0 = Array.from({ length: K[0] }, () => g.int(n));
      assert.deepEqual(
        rows(v.codebooks[0].toTypedArray(), 3),
        ids0.map((i) => Array.from(x.subarray(i * 3, i * 3 + 3))),
        `n ${n}: level 0 rows`,
      );
      // level 0 reproduces every row, so level 1 is drawn from all-zero residuals
      assert.deepEqual(Array.from(v.codebooks[1].toTypedArray()), new Array(K[1] * 3).fill(0));
      assert.deepEqual(Array.from(v.emaCounts[0]), new Array(K[0]).fill(1));
      v.dispose();
    }
  });

  it('live tensors: a step adds only the restart stream (none without restarts), dispose() returns to the baseline', () => {
    const x = q.tensor(randArray(9 * 4, 500), [9, 4]);
    {
      // a first (initialising) step outside any tidy, n < K on level 0 (random rows): in EMA mode
      // nothing is recorded, so the outputs are all that stays alive
      const base = q.memory().numTensors;
      const vq = new q.ResidualVQ({ dim: 4, levels: 2, codebookSize: [12, 3], ema: true, seed: 1 });
      vq.train();
      const made = q.memory().numTensors;
      const r = vq.forward(x);
      for (const t of [r.quantized, r.codes, r.loss, r.codebookLoss, r.commitLoss, ...r.levelInputs]) t.dispose();
      assert.equal(q.memory().numTensors, made, 'EMA step outside tidy');
      vq.dispose();
      assert.equal(q.memory().numTensors, base);
    }
    for (const deadCodeThreshold of [0, 2]) {
      const base = q.memory().numTensors;
      const vq = new q.ResidualVQ({ dim: 4, levels: 2, codebookSize: [12, 3], deadCodeThreshold, seed: 1 });
      vq.train();
      const made = q.memory().numTensors;
      const step = () => q.tidy(() => void vq.forward(x));
      step();
      assert.equal(q.memory().numTensors, made + (deadCodeThreshold > 0 ? 1 : 0), `threshold ${deadCodeThreshold}: first step`);
      step();
      step();
      assert.equal(q.memory().numTensors, made + (deadCodeThreshold > 0 ? 1 : 0), `threshold ${deadCodeThreshold}: later steps`);
      vq.eval();
      q.tidy(() => void vq.forward(x));
      const codes = vq.encode(x);
      assert.equal(q.memory().numTensors, made + (deadCodeThreshold > 0 ? 2 : 1), 'encode returns only the codes');
      codes.dispose();
      vq.dispose();
      assert.equal(q.memory().numTensors, base, `threshold ${deadCodeThreshold}: dispose`);
    }
  });
});
