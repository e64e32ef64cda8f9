// Every foundation op on CUDA against the same op on the CPU, on awkward sizes.
import { requireGpu, pair, same, host, q, assert, randArray, randInts } from './gpu.js';

const SIZES = [1, 3, 17, 255, 1000, 100003];

describe('CUDA elementwise ops match the CPU', () => {
  requireGpu();
  for (const op of ['neg', 'relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'abs', 'square']) {
    it(op, () => {
      for (const n of SIZES) {
        let data = randArray(n, n, 3);
        if (op === 'log' || op === 'sqrt') data = data.map(Math.abs);
        const [c, g] = pair(data, [n]);
        same(q[op](g), q[op](c), { rtol: 2e-6, atol: 1e-6, msg: `${op} n=${n}` });
      }
    });
  }

  const shapes = [
    [[7], [7]],
    [
      [3, 1, 5],
      [1, 4, 5],
    ],
    [[17, 255], [255]],
    [
      [1000, 3],
      [1000, 1],
    ],
    [
      [2, 3, 4, 5, 6],
      [1, 3, 1, 5, 1],
    ],
    [[0, 4], [4]],
  ];
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow']) {
    it(`${op} with broadcasting`, () => {
      for (const [sa, sb] of shapes) {
        const na = sa.reduce((p, d) => p * d, 1),
          nb = sb.reduce((p, d) => p * d, 1);
        let a = randArray(na, 1),
          b = randArray(nb, 2);
        if (op === 'pow') a = a.map((v) => Math.abs(v) + 0.1);
        const [ca, ga] = pair(a, sa);
        const [cb, gb] = pair(b, sb);
        same(q[op](ga, gb), q[op](ca, cb), { rtol: 2e-6, msg: `${op} [${sa}] [${sb}]` });
      }
    });
  }
});

describe('CUDA matmul matches the CPU (cuBLAS and the built-in kernel)', () => {
  requireGpu();
  const dims = [
    [1, 1, 1],
    [3, 17, 5],
    [17, 255, 3],
    [129, 65, 257],
    [64, 64, 64],
    [1000, 7, 300],
  ];
  for (const gemm of ['auto', 'builtin']) {
    it(`${gemm}: all transpositions`, () => {
      const prev = q.cuda.configure({ gemm });
      try {
        for (const [M, K, N] of dims) {
          for (const [ta, tb] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ]) {
            const [ca, ga] = pair(randArray(M * K, M), ta ? [K, M] : [M, K]);
            const [cb, gb] = pair(randArray(K * N, N), tb ? [N, K] : [K, N]);
            const A = ta ? q.transpose(ca) : ca,
              B = tb ? q.transpose(cb) : cb;
            const GA = ta ? q.transpose(ga) : ga,
              GB = tb ? q.transpose(gb) : gb;
            same(q.matmul(GA, GB), q.matmul(A, B), { rtol: 1e-4, atol: 1e-4, msg: `${gemm} ${M}x${K}x${N} ${ta}${tb}` });
          }
        }
      } finally {
        q.cuda.configure({ gemm: prev.gemm });
      }
    });
  }
});

describe('CUDA reductions and row ops match the CPU', () => {
  requireGpu();
  it('sum over every axis, long rows and short-wide columns', () => {
    for (const shape of [[3, 17, 255], [1, 200000], [200000, 3], [5, 100000, 2], [1]]) {
      const n = shape.reduce((p, d) => p * d, 1);
      const [c, g] = pair(randArray(n, 7), shape);
      for (let axis = 0; axis < shape.length; axis++) same(q.sum(g, axis), q.sum(c, axis), { rtol: 1e-5, atol: 1e-4, msg: `[${shape}] axis ${axis}` });
      same(q.sum(g), q.sum(c), { rtol: 1e-5, atol: 1e-3 });
    }
  });
  it('softmax, logsumexp, l2Normalize, argmax/argmin (ties and NaN)', () => {
    for (const [rows, cols] of [
      [1, 1],
      [3, 17],
      [255, 3],
      [17, 1000],
      [2, 70000],
    ]) {
      const [c, g] = pair(randArray(rows * cols, rows + cols, 4), [rows, cols]);
      same(q.softmax(g), q.softmax(c), { rtol: 1e-5, atol: 1e-7 });
      same(q.logsumexp(g), q.logsumexp(c), { rtol: 1e-6, atol: 1e-5 });
      same(q.l2Normalize(g), q.l2Normalize(c), { rtol: 1e-6, atol: 1e-7 });
      same(q.argmax(g), q.argmax(c), { rtol: 0, atol: 0 });
      same(q.argmin(g), q.argmin(c), { rtol: 0, atol: 0 });
    }
    const ties = new Float32Array([1, 3, 3, 0, 0, 2, NaN, 5, NaN, 7, 7, 7]);
    const [c, g] = pair(ties, [3, 4]);
    same(q.argmax(g), q.argmax(c), { rtol: 0, atol: 0 });
    same(q.argmin(g), q.argmin(c), { rtol: 0, atol: 0 });
  });
});

describe('CUDA gather and scatter-add match the CPU', () => {
  requireGpu();
  it('gather with duplicates, awkward row widths', () => {
    for (const [rows, dim, n] of [
      [1, 1, 5],
      [17, 3, 255],
      [1000, 64, 100003],
      [5, 0, 3],
    ]) {
      const [ct, gt] = pair(randArray(rows * dim, rows), [rows, dim]);
      const [ci, gi] = pair(randInts(n, rows, n), [n], 'int32');
      same(q.gather(gt, gi), q.gather(ct, ci), { rtol: 0, atol: 0 });
    }
  });
  it('sorted scatter-add is bit-identical to the CPU; atomic is close', () => {
    for (const [rows, dim, n] of [
      [1, 1, 5],
      [17, 3, 255],
      [1000, 64, 100003],
      [100000, 8, 1000],
    ]) {
      const base = randArray(rows * dim, 9);
      const src = randArray(n * dim, 10);
      const idx = randInts(n, rows, 11);
      const [cT, gT] = pair(base, [rows, dim]);
      const [cI, gI] = pair(idx, [n], 'int32');
      const [cS, gS] = pair(src, [n, dim]);
      const want = q.scatterAdd(cT, cI, cS);
      const prev = q.cuda.configure({ scatter: 'sorted' });
      same(q.scatterAdd(gT, gI, gS), want, { rtol: 0, atol: 0, msg: `sorted ${rows}x${dim} n=${n}` });
      q.cuda.configure({ scatter: 'atomic' });
      same(q.scatterAdd(gT, gI, gS), want, { rtol: 1e-5, atol: 1e-5, msg: `atomic ${rows}x${dim} n=${n}` });
      q.cuda.configure(prev);
    }
  });
  it('a bad index is an IndexError naming the argument, and the target is unchanged', () => {
    const [, gT] = pair(randArray(12, 1), [4, 3]);
    const before = host(gT).slice();
    const [, gI] = pair(new Int32Array([0, 3, 4, 1]), [4], 'int32');
    const [, gS] = pair(randArray(12, 2), [4, 3]);
    for (const scatter of ['sorted', 'atomic']) {
      const prev = q.cuda.configure({ scatter });
      assert.throws(
        () => q.runKernel('scatterAddRows', { target: gT, indices: gI, source: gS }),
        (e) => e instanceof q.IndexError && /position 2/.test(e.message),
      );
      q.cuda.configure(prev);
    }
    assert.deepEqual(host(gT), before);
    assert.throws(
      () => q.gather(gT, gI),
      (e) => e instanceof q.IndexError && e.argument === 'indices',
    );
  });
});

describe('CUDA shape ops, copies and fills match the CPU', () => {
  requireGpu();
  it('transpose, concat, slice, pad (through autograd), copy, fill', () => {
    const [c, g] = pair(randArray(17 * 33, 5), [17, 33]);
    same(q.transpose(g), q.transpose(c), { rtol: 0, atol: 0 });
    const [c2, g2] = pair(randArray(17 * 5, 6), [17, 5]);
    same(q.concat([g, g2, g], 1), q.concat([c, c2, c], 1), { rtol: 0, atol: 0 });
    same(q.concat([g, g], 0), q.concat([c, c], 0), { rtol: 0, atol: 0 });
    same(q.slice(g, 1, 3, 20), q.slice(c, 1, 3, 20), { rtol: 0, atol: 0 });
    same(q.slice(g, 0, 16, 1), q.slice(c, 0, 16, 1), { rtol: 0, atol: 0 });
    const leafC = q.tensor(randArray(6 * 7, 8), [6, 7]);
    leafC.requiresGrad = true;
    const leafG = leafC.to('cuda');
    leafG.requiresGrad = true;
    q.sum(q.mul(q.slice(leafC, 1, 2, 3), q.slice(leafC, 1, 2, 3))).backward();
    q.sum(q.mul(q.slice(leafG, 1, 2, 3), q.slice(leafG, 1, 2, 3))).backward();
    same(leafG.grad, leafC.grad, { rtol: 1e-6 });
    const i = q.tensor(new Int32Array([5, -3, 7]), [3]).to('cuda');
    assert.deepEqual([...host(i)], [5, -3, 7]);
    assert.deepEqual([...host(q.runKernel('fill', {}, { shape: [4], value: 2.5, device: 'cuda' }))], [2.5, 2.5, 2.5, 2.5]);
    assert.deepEqual([...host(q.runKernel('fill', {}, { shape: [3], value: -7, dtype: 'int32', device: 'cuda' }))], [-7, -7, -7]);
  });

  it('concatColumns / sliceColumns (through autograd)', () => {
    const parts = [
      [5, 3],
      [5, 1],
      [5, 7],
    ].map(([r, c], i) => pair(randArray(r * c, 30 + i), [r, c]));
    for (const [c, g] of parts) {
      c.requiresGrad = true;
      g.requiresGrad = true;
    }
    const yc = q.concatLast(parts.map((p) => p[0]));
    const yg = q.concatLast(parts.map((p) => p[1]));
    same(yg, yc, { rtol: 0, atol: 0 });
    same(q.sliceLast(yg, 2, 5), q.sliceLast(yc, 2, 5), { rtol: 0, atol: 0 });
    const [cw, gw] = pair(randArray(5 * 11, 40), [5, 11]);
    q.sum(q.mul(yc, cw)).backward();
    q.sum(q.mul(yg, gw)).backward();
    parts.forEach(([c, g]) => same(g.grad, c.grad, { rtol: 0, atol: 0 }));
  });
});
