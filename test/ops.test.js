// Foundation ops against float64 references on random inputs of awkward sizes.
import { q, assert, assertClose, assertThrowsTyped, randArray, randInts, SIZES } from './helpers.js';
import * as ref from './ref.js';

const T = (data, shape) => q.tensor(Float32Array.from(data), shape);
const arr = (t) => t.toTypedArray();

describe('elementwise ops', () => {
  const unary = {
    neg: (v) => -v,
    relu: (v) => Math.max(v, 0),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    tanh: Math.tanh,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    square: (v) => v * v,
    abs: Math.abs,
  };
  for (const [name, f] of Object.entries(unary)) {
    it(`${name} matches Math on sizes ${SIZES.join(', ')}`, () => {
      for (const n of SIZES) {
        const raw = randArray(n, n + 7, 3);
        const x = ['log', 'sqrt'].includes(name) ? raw.map((v) => Math.abs(v) + 1e-3) : raw;
        const y = q[name](T(x, [n]));
        assertClose(arr(y), Float64Array.from(x, f), { rtol: 2e-6, atol: 1e-7, msg: `${name} n=${n}` });
      }
    });
  }

  it('special values: relu(0)=0, sigmoid saturates without NaN, log(-1) is NaN, exp overflows to Inf', () => {
    assert.deepEqual(
      [...arr(q.relu(T([0, -0, -1, 2])))].map((v) => v + 0),
      [0, 0, 0, 2],
    );
    const s = arr(q.sigmoid(T([-1000, 1000, 0])));
    assert.deepEqual([...s], [0, 1, 0.5]);
    assert.ok(Number.isNaN(arr(q.log(T([-1])))[0]));
    assert.equal(arr(q.exp(T([1000])))[0], Infinity);
    assert.ok(Number.isNaN(arr(q.add(T([NaN]), 1))[0]));
  });

  const binary = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    maximum: Math.max,
    minimum: Math.min,
    pow: Math.pow,
  };
  const cases = [
    [[1000], [1000]],
    [[17], []],
    [[], [3]],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[4], [2, 3, 4]],
    [
      [255, 3],
      [255, 1],
    ],
    [
      [1, 17],
      [3, 1],
    ],
    [
      [0, 3],
      [1, 3],
    ],
    [
      [2, 1, 5],
      [1, 3, 1],
    ],
  ];
  for (const [name, f] of Object.entries(binary)) {
    it(`${name} broadcasts like NumPy`, () => {
      let seed = 1;
      for (const [sa, sb] of cases) {
        let a = randArray(ref.sizeOf(sa), seed++);
        const b = randArray(ref.sizeOf(sb), seed++);
        if (name === 'pow') a = a.map((v) => Math.abs(v) + 0.1);
        const want = ref.broadcast2(f, a, sa, b, sb);
        const y = q[name](T(a, sa), T(b, sb));
        assert.deepEqual(y.shape, want.shape, `${name} ${sa} ${sb}`);
        assertClose(arr(y), want.out, { rtol: 2e-6, atol: 1e-6, msg: `${name} [${sa}] [${sb}]` });
      }
      const x = randArray(5, 3);
      assertClose(
        arr(q[name](T(x, [5]), 2)),
        Float64Array.from(x, (v) => f(v, 2)),
        { rtol: 2e-6, atol: 1e-6 },
      );
      assertClose(
        arr(q[name](2, T(x.map(Math.abs), [5]))),
        Float64Array.from(x, (v) => f(2, Math.abs(v))),
        { rtol: 2e-6, atol: 1e-6 },
      );
    });
  }

  it('rejects shapes that do not broadcast and non-tensor operands', () => {
    assertThrowsTyped(() => q.add(q.ones([2, 3]), q.ones([4, 3])), q.ShapeError, 'broadcast');
    assertThrowsTyped(() => q.mul(q.ones([3]), q.ones([2])), q.ShapeError, "'b'");
    assertThrowsTyped(() => q.add(1, 2), q.ValueError, "'a'");
    assertThrowsTyped(() => q.add(q.ones([2], 'int32'), q.ones([2])), q.DTypeError, "'a'");
    assertThrowsTyped(() => q.relu(q.ones([2], 'int32')), q.DTypeError, "'x'");
  });
});

describe('reductions and row ops', () => {
  it('sum and mean over every axis combination, keepDims, negative axes', () => {
    const shapes = [[1000], [3, 17], [2, 3, 4], [17, 1, 5], [2, 255, 3], [1, 1, 1]];
    let seed = 1;
    for (const shape of shapes) {
      const x = randArray(ref.sizeOf(shape), seed++);
      const t = T(x, shape);
      const rank = shape.length;
      const subsets = [];
      for (let m = 1; m < 1 << rank; m++) subsets.push([...Array(rank).keys()].filter((i) => m & (1 << i)));
      for (const axes of subsets) {
        const want = ref.sumAxes(x, shape, axes);
        const count = axes.reduce((p, a) => p * shape[a], 1);
        const s = q.sum(t, axes, true);
        assert.deepEqual(s.shape, want.shape);
        assertClose(arr(s), want.out, { rtol: 1e-5, atol: 1e-5, msg: `sum [${shape}] axes ${axes}` });
        const m = q.mean(t, axes);
        assert.deepEqual(
          m.shape,
          shape.filter((_, i) => !axes.includes(i)),
        );
        assertClose(
          arr(m),
          want.out.map((v) => v / count),
          { rtol: 1e-5, atol: 1e-6, msg: `mean [${shape}] axes ${axes}` },
        );
      }
      const last = q.sum(t, -1);
      assertClose(arr(last), ref.sumAxes(x, shape, [rank - 1]).out, { rtol: 1e-5, atol: 1e-5 });
    }
    const big = randArray(200000, 9);
    assertClose(arr(q.sum(T(big, [200000]))), [big.reduce((s, v) => s + v, 0)], { rtol: 1e-6, atol: 1e-3 });
    assert.equal(q.sum(q.zeros([0, 3])).item(), 0);
    assert.deepEqual([...arr(q.sum(q.zeros([0, 3]), 0))], [0, 0, 0]);
    assertThrowsTyped(() => q.mean(q.zeros([0, 3]), 0), q.ValueError, "'x'");
    assertThrowsTyped(() => q.sum(q.ones([2, 3]), 2), q.ValueError, "'axis'");
    assertThrowsTyped(() => q.sum(q.ones([2, 3]), 1.5), q.ValueError, "'axis'");
  });

  it('softmax, logSoftmax, logsumexp over the last axis (sizes 1..1000+, large values)', () => {
    let seed = 1;
    for (const cols of SIZES) {
      for (const rows of [1, 3, 17]) {
        const x = randArray(rows * cols, seed++, 30);
        const t = T(x, [rows, cols]);
        const sm = ref.softmaxRows(x, cols);
        assertClose(arr(q.softmax(t)), sm, { rtol: 1e-5, atol: 1e-7, msg: `softmax ${rows}x${cols}` });
        const lse = ref.logsumexpRows(x, cols);
        assertClose(arr(q.logsumexp(t)), lse, { rtol: 1e-6, atol: 1e-5, msg: `logsumexp ${rows}x${cols}` });
        assert.deepEqual(q.logsumexp(t, true).shape, [rows, 1]);
        const ls = Float64Array.from(x, (v, i) => v - lse[Math.floor(i / cols)]);
        assertClose(arr(q.logSoftmax(t)), ls, { rtol: 1e-5, atol: 1e-4, msg: `logSoftmax ${rows}x${cols}` });
      }
    }
    const t3 = T(randArray(2 * 3 * 5, 4), [2, 3, 5]);
    assertClose(arr(q.softmax(t3)), ref.softmaxRows(arr(t3), 5), { rtol: 1e-5, atol: 1e-7 });
  });

  it('logsumexp and softmax with -Inf, +Inf and NaN', () => {
    const x = T([-Infinity, -Infinity, 0, -Infinity, NaN, 1, 1e30, 1, Infinity, 2], [5, 2]);
    const lse = arr(q.logsumexp(x));
    assert.equal(lse[0], -Infinity);
    assert.equal(lse[1], 0);
    assert.ok(Number.isNaN(lse[2]), `NaN row gave ${lse[2]}`);
    assert.equal(lse[3], Math.fround(1e30));
    assert.equal(lse[4], Infinity);
    const sm = arr(q.softmax(T([-Infinity, 0, 5, NaN], [2, 2])));
    assert.deepEqual([sm[0], sm[1]], [0, 1]);
    assert.ok(Number.isNaN(sm[2]) && Number.isNaN(sm[3]));
  });

  it('l2Normalize rows (zero rows stay zero)', () => {
    for (const cols of SIZES) {
      const x = randArray(3 * cols, cols);
      assertClose(arr(q.l2Normalize(T(x, [3, cols]))), ref.l2NormalizeRows(x, cols), { rtol: 1e-5, atol: 1e-7 });
    }
    assert.deepEqual([...arr(q.l2Normalize(q.zeros([2, 3])))], [0, 0, 0, 0, 0, 0]);
    assertThrowsTyped(() => q.l2Normalize(q.zeros([2, 0])), q.ShapeError, "'x'");
    // Finite rows whose norm exceeds float range still normalise (the reference works in float64).
    const big = [3e30, -4e30, 1e29, 3e38, -3e38, 1e37];
    assertClose(arr(q.l2Normalize(T(big, [2, 3]))), ref.l2NormalizeRows(Float32Array.from(big), 3), { rtol: 1e-6, atol: 1e-7 });
  });

  it('mean of a 0-d tensor is its value; embeddingBag over a 0-row table gives [B, D] zeros', () => {
    assert.equal(arr(q.mean(q.tensor(Float32Array.of(2.5), []), 0))[0], 2.5);
    assert.equal(arr(q.mean(q.tensor(Float32Array.of(-7), [])))[0], -7);
    const bag = q.embeddingBag(q.zeros([0, 3]), q.tensor(new Int32Array(0), [0]), q.tensor(Int32Array.of(0, 0, 0), [3]), { mode: 'mean' });
    assert.deepEqual(bag.shape, [2, 3]);
    assert.deepEqual([...arr(bag)], [0, 0, 0, 0, 0, 0]);
  });

  it('argmin / argmax: ties to the lower index, NaN wins, ranks 1-3', () => {
    for (const cols of SIZES) {
      const x = randInts(17 * cols, 5, cols).map((v) => v); // few distinct values: many ties
      const xf = Float32Array.from(x);
      assert.deepEqual([...arr(q.argmax(T(xf, [17, cols])))], [...ref.argRows(xf, cols, true)]);
      assert.deepEqual([...arr(q.argmin(T(xf, [17, cols])))], [...ref.argRows(xf, cols, false)]);
    }
    const y = T([1, 3, 3, NaN, 0, NaN, -Infinity, -Infinity], [2, 4]);
    assert.deepEqual([...arr(q.argmax(y))], [3, 1]);
    assert.deepEqual([...arr(q.argmin(y))], [3, 1]);
    assert.equal(q.argmax(y).dtype, 'int32');
    assert.deepEqual(q.argmax(T([1, 2, 3], [3])).shape, []);
    assert.deepEqual(q.argmin(q.zeros([2, 3, 4])).shape, [2, 3]);
    assertThrowsTyped(() => q.argmax(q.zeros([3, 0])), q.ShapeError, "'x'");
  });
});

describe('indexing and shape ops', () => {
  it('gather rows at any index shape, with duplicates', () => {
    for (const [rows, dim, n] of [
      [1, 1, 1],
      [3, 17, 5],
      [17, 3, 255],
      [255, 2, 1000],
      [1000, 33, 17],
    ]) {
      const table = randArray(rows * dim, rows);
      const idx = randInts(n, rows, n);
      const y = q.gather(T(table, [rows, dim]), q.tensor(idx, [n]));
      const want = new Float64Array(n * dim);
      idx.forEach((r, i) => {
        for (let j = 0; j < dim; j++) want[i * dim + j] = table[r * dim + j];
      });
      assert.deepEqual([...arr(y)], [...want]);
    }
    const t3 = T(randArray(4 * 2 * 3, 1), [4, 2, 3]);
    const g = q.gather(t3, q.tensor(Int32Array.from([3, 0, 3, 1]), [2, 2]));
    assert.deepEqual(g.shape, [2, 2, 2, 3]);
    assert.deepEqual([...arr(g).subarray(0, 6)], [...arr(t3).subarray(18, 24)]);
    const v = q.gather(T([5, 6, 7], [3]), q.tensor(Int32Array.from([2, 2, 0]), [3]));
    assert.deepEqual([...arr(v)], [7, 7, 5]);
    assert.deepEqual(q.gather(T([5, 6, 7], [3]), q.tensor(new Int32Array(0), [0])).shape, [0]);
  });

  it('scatterAdd sums duplicate rows in order and leaves the target untouched', () => {
    for (const [rows, dim, n] of [
      [1, 1, 1],
      [3, 17, 50],
      [17, 3, 255],
      [255, 2, 1000],
      [5000, 4, 3],
    ]) {
      const target = randArray(rows * dim, rows);
      const src = randArray(n * dim, n + 1);
      const idx = randInts(n, rows, n + 2);
      const tt = T(target, [rows, dim]);
      const y = q.scatterAdd(tt, q.tensor(idx, [n]), T(src, [n, dim]));
      const want = Float64Array.from(target);
      idx.forEach((r, i) => {
        for (let j = 0; j < dim; j++) want[r * dim + j] += src[i * dim + j];
      });
      assertClose(arr(y), want, { rtol: 1e-5, atol: 1e-5, msg: `scatterAdd ${rows}x${dim} n=${n}` });
      assert.deepEqual([...arr(tt)], [...target]);
    }
    const y = q.scatterAdd(T([0, 0, 0], [3]), q.tensor(Int32Array.from([2, 2, 0]), [3]), T([1, 2, 4], [3]));
    assert.deepEqual([...arr(y)], [4, 0, 3]);
  });

  it('gather / scatterAdd reject bad indices and shapes with typed errors', () => {
    const table = q.ones([4, 2]);
    assertThrowsTyped(() => q.gather(table, q.tensor(Int32Array.from([0, 4]), [2])), q.IndexError, "'indices'");
    assertThrowsTyped(() => q.gather(table, q.tensor(Int32Array.from([-1]), [1])), q.IndexError, "'indices'");
    assertThrowsTyped(() => q.gather(table, q.tensor([0, 1], [2])), q.DTypeError, "'indices'");
    assertThrowsTyped(() => q.gather(q.ones([4, 2], 'int32'), q.tensor(Int32Array.from([0]), [1])), q.DTypeError, "'table'");
    assertThrowsTyped(() => q.gather(q.tensor(1), q.tensor(Int32Array.from([0]), [1])), q.ShapeError, "'table'");
    const idx = q.tensor(Int32Array.from([0, 9]), [2]);
    assertThrowsTyped(() => q.scatterAdd(table, idx, q.ones([2, 2])), q.IndexError, "'indices'");
    assertThrowsTyped(() => q.scatterAdd(table, q.tensor(Int32Array.from([0, 1]), [2]), q.ones([2, 3])), q.ShapeError, "'source'");
    assertThrowsTyped(() => q.scatterAdd(table, q.tensor(Int32Array.from([0, 1]), [2]), q.ones([3, 2])), q.ShapeError, "'source'");
  });

  it('concat, slice and transpose against index arithmetic', () => {
    const a = T(randArray(2 * 3 * 4, 1), [2, 3, 4]);
    const b = T(randArray(2 * 5 * 4, 2), [2, 5, 4]);
    const c = q.concat([a, b], 1);
    assert.deepEqual(c.shape, [2, 8, 4]);
    const A = arr(a),
      B = arr(b),
      C = arr(c);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 8; j++)
        for (let k = 0; k < 4; k++) {
          const want = j < 3 ? A[(i * 3 + j) * 4 + k] : B[(i * 5 + j - 3) * 4 + k];
          assert.equal(C[(i * 8 + j) * 4 + k], want);
        }
    assert.deepEqual(q.concat([a, a, a], -1).shape, [2, 3, 12]);
    assert.deepEqual(q.concat([a, q.zeros([0, 3, 4])], 0).shape, [2, 3, 4]);
    const s = q.slice(c, 1, 2, 4);
    assert.deepEqual(s.shape, [2, 4, 4]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) assert.equal(arr(s)[(i * 4 + j) * 4 + k], C[(i * 8 + j + 2) * 4 + k]);
    assert.deepEqual(q.slice(c, 0, 1, 0).shape, [0, 8, 4]);
    for (const [r, cc] of [
      [1, 1],
      [3, 17],
      [255, 33],
      [40, 1000],
    ]) {
      const x = randArray(r * cc, r);
      const y = arr(q.transpose(T(x, [r, cc])));
      for (let i = 0; i < r; i++) for (let j = 0; j < cc; j++) if (y[j * r + i] !== x[i * cc + j]) assert.fail(`transpose ${r}x${cc} at ${i},${j}`);
    }
    assertThrowsTyped(() => q.concat([a, q.ones([3, 3, 4])], 1), q.ShapeError, 'xs[1]');
    assertThrowsTyped(() => q.concat([a, q.ones([2, 3, 4], 'int32')], 1), q.DTypeError, 'xs[1]');
    assertThrowsTyped(() => q.concat([], 0), q.ValueError, "'xs'");
    assertThrowsTyped(() => q.concat([a], 3), q.ValueError, "'axis'");
    assertThrowsTyped(() => q.slice(a, 1, 2, 2), q.ValueError, 'outside');
    assertThrowsTyped(() => q.transpose(a), q.ShapeError, "'x'");
  });
});

describe('determinism across thread counts', () => {
  it('resizing the pool between parallel jobs is safe (new workers do not rerun the last job)', () => {
    const n0 = q.numThreads();
    const x = q.tensor(randArray(1 << 18, 3), [1 << 18]);
    const want = q.sum(x).item();
    for (let i = 0; i < 300; i++) {
      q.setNumThreads(1 + (i % 3));
      assert.equal(q.sum(x).item(), want);
    }
    q.setNumThreads(n0);
  });

  it('reductions, softmax, normalisation and scatter-add are bit-identical on 1 and 2 threads', () => {
    const n0 = q.numThreads();
    const x = T(randArray(300 * 1111, 5), [300, 1111]);
    const long = T(randArray(1 << 20, 6), [1 << 20]);
    const idx = q.tensor(randInts(50000, 97, 7), [50000]);
    const src = T(randArray(50000 * 8, 8), [50000, 8]);
    const run = () =>
      [
        q.sum(x, 0),
        q.sum(x, 1),
        q.sum(long),
        q.softmax(x),
        q.logsumexp(x),
        q.l2Normalize(x),
        q.scatterAdd(q.zeros([97, 8]), idx, src),
        q.exp(x),
        q.add(x, q.sum(x, 0, true)),
      ].map((t) => Buffer.from(arr(t).buffer).toString('base64'));
    q.setNumThreads(1);
    const one = run();
    q.setNumThreads(2);
    const two = run();
    q.setNumThreads(n0);
    one.forEach((s, i) => assert.ok(s === two[i], `output ${i} differs between 1 and 2 threads`));
  });
});
