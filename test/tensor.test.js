import { q, assert, assertThrowsTyped, randArray } from './helpers.js';

describe('tensor facade', () => {
  it('wraps typed arrays without copying and copies nested arrays', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = q.tensor(data, [2, 3]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.equal(t.device, 'cpu');
    assert.equal(t.toTypedArray(), data);
    const n = q.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      undefined,
      'int32',
    );
    assert.ok(n.toTypedArray() instanceof Int32Array);
    assert.deepEqual(n.toArray(), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('creates zeros, ones, full, arange', () => {
    assert.deepEqual([...q.zeros([2, 2]).toTypedArray()], [0, 0, 0, 0]);
    assert.deepEqual([...q.ones([3], 'int32').toTypedArray()], [1, 1, 1]);
    assert.deepEqual([...q.full([2], 7).toTypedArray()], [7, 7]);
    assert.deepEqual([...q.arange(5).toTypedArray()], [0, 1, 2, 3, 4]);
    assert.deepEqual([...q.arange(1, 2, 0.25).toTypedArray()], [1, 1.25, 1.5, 1.75]);
  });

  it('seeded rand/randn are reproducible and roughly distributed as documented', () => {
    const a = q.randn([10000], { seed: 42 }).toTypedArray();
    const b = q.randn([10000], { seed: 42 }).toTypedArray();
    assert.deepEqual(a, b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `${mean} ${sd}`);
    const u = q.rand([10000], { seed: 1, low: 2, high: 3 }).toTypedArray();
    assert.ok(u.every((v) => v >= 2 && v < 3));
    assert.notDeepEqual(q.rand([8], { seed: 1 }).toTypedArray(), q.rand([8], { seed: 2 }).toTypedArray());
  });

  it('reshape is a view; -1 is inferred', () => {
    const t = q.tensor(randArray(12), [3, 4]);
    const r = q.reshape(t, [2, -1]);
    assert.deepEqual(r.shape, [2, 6]);
    assert.equal(r.toTypedArray(), t.toTypedArray());
    assertThrowsTyped(() => q.reshape(t, [5, -1]), q.ShapeError, 'cannot reshape');
  });

  it('rejects bad creation input with typed errors', () => {
    assertThrowsTyped(() => q.tensor([[1, 2], [3]]), q.ShapeError, 'ragged');
    assertThrowsTyped(() => q.tensor(new Float64Array(3)), q.DTypeError, 'data');
    assertThrowsTyped(() => q.zeros([2, -1]), q.ShapeError, 'shape');
    assertThrowsTyped(() => q.zeros([2], 'float64'), q.DTypeError, 'dtype');
    assertThrowsTyped(() => q.tensor([1.5], undefined, 'int32'), q.ValueError, 'non-integer');
  });

  it('disposed tensors throw DisposedError naming the argument', () => {
    const a = q.ones([2, 2]);
    const b = q.ones([2, 2]);
    b.dispose();
    assert.ok(b.isDisposed);
    assertThrowsTyped(() => q.add(a, b), q.DisposedError, "'b'");
    assertThrowsTyped(() => q.matmul(b, a), q.DisposedError, "'a'");
    b.dispose();
  });

  it('tidy disposes intermediates, keeps results, and memory() tracks it', () => {
    const before = q.memory().numTensors;
    const kept = q.tidy(() => {
      const x = q.ones([4, 4]);
      const y = q.add(x, x);
      return q.mul(y, 2);
    });
    assert.equal(q.memory().numTensors, before + 1);
    assert.deepEqual([...kept.toTypedArray()].slice(0, 2), [4, 4]);
    kept.dispose();
    assert.equal(q.memory().numTensors, before);
    assert.throws(() => q.tidy(async () => 1), TypeError);
  });

  it('100,000 small ops inside tidy do not grow memory', () => {
    const x = q.ones([8, 8]);
    const before = q.memory();
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 100000; i++) {
      q.tidy(() => {
        q.sum(q.relu(q.add(x, 1)));
      });
    }
    const after = q.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numBytes, before.numBytes);
    const growth = process.memoryUsage().rss - rss0;
    // Under AddressSanitizer freed memory sits in quarantine, so RSS says nothing there.
    if (!process.env.QARM_SANITIZED) assert.ok(growth < 200 * 1024 * 1024, `rss grew by ${growth} bytes`);
  });

  it('threads and instruction sets can be set and read', () => {
    const n = q.numThreads();
    assert.equal(q.setNumThreads(1), 1);
    assert.equal(q.setNumThreads(2), 2);
    q.setNumThreads(n);
    const info = q.isa();
    assert.ok(['generic', 'avx2', 'avx512'].includes(info.best));
    assert.equal(q.setIsa('generic'), 'generic');
    assert.equal(q.isa().vectorWidth, 4);
    q.setIsa(info.best);
    assertThrowsTyped(() => q.setIsa('sse9'), q.ValueError, 'isa');
    assertThrowsTyped(() => q.setNumThreads(1.5), q.ValueError, "'n'");
  });
});

describe('copyInto kernel', () => {
  it('writes x into out in place, bit for bit (-0, NaN payloads, int32), and checks size and dtype', () => {
    for (const n of [1, 3, 17, 1000]) {
      const x = randArray(n, n);
      x[0] = -0;
      if (n > 2) x[2] = NaN;
      const out = q.tensor(randArray(n, n + 1), [n]);
      const keepRef = out;
      assert.equal(q.runKernel('copyInto', { x: q.tensor(x, [n]), out }), keepRef);
      assert.deepEqual([...new Uint32Array(out.toTypedArray().slice().buffer)], [...new Uint32Array(x.slice().buffer)]);
    }
    const ints = q.tensor(new Int32Array([5, -7, 2147483647]), [3], 'int32');
    const intOut = q.tensor(new Int32Array(3), [1, 3], 'int32');
    q.runKernel('copyInto', { x: ints, out: intOut });
    assert.deepEqual([...intOut.toTypedArray()], [5, -7, 2147483647]);
    assertThrowsTyped(() => q.runKernel('copyInto', { x: q.tensor([1, 2]), out: q.tensor([1, 2, 3]) }), q.ShapeError, 'out');
    assertThrowsTyped(() => q.runKernel('copyInto', { x: q.tensor([1, 2]), out: q.tensor(new Int32Array(2), [2], 'int32') }), q.DTypeError, 'out');
  });
});
