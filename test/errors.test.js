// Bad input never crashes or touches memory out of bounds: typed errors naming the argument,
// at the public API and directly at the native binding.
import { q, assert, assertThrowsTyped } from './helpers.js';
import { native } from '../dist/tensor/native.js';

const f32 = (n) => new Float32Array(n);
const i32 = (n) => new Int32Array(n);

describe('errors: public API', () => {
  it('disposed tensors throw DisposedError naming the argument, for every op family', () => {
    const live = q.ones([2, 2]);
    const dead = q.ones([2, 2]);
    dead.dispose();
    const idx = q.tensor(Int32Array.from([0, 1]), [2]);
    const deadIdx = q.tensor(Int32Array.from([0]), [1]);
    deadIdx.dispose();
    const cases = [
      [() => q.add(live, dead), "'b'"],
      [() => q.sub(dead, live), "'a'"],
      [() => q.relu(dead), "'x'"],
      [() => q.matmul(live, dead), "'b'"],
      [() => q.sum(dead), "'x'"],
      [() => q.softmax(dead), "'x'"],
      [() => q.logsumexp(dead), "'x'"],
      [() => q.l2Normalize(dead), "'x'"],
      [() => q.argmax(dead), "'x'"],
      [() => q.gather(dead, idx), "'table'"],
      [() => q.gather(live, deadIdx), "'indices'"],
      [() => q.scatterAdd(dead, idx, live), "'target'"],
      [() => q.scatterAdd(live, idx, dead), "'source'"],
      [() => q.concat([live, dead], 0), "'xs[1]'"],
      [() => q.slice(dead, 0, 0, 1), "'x'"],
      [() => q.transpose(dead), "'x'"],
      [() => dead.toTypedArray(), 'disposed'],
      [() => q.reshape(dead, [4]), 'disposed'],
    ];
    for (const [fn, text] of cases) assertThrowsTyped(fn, q.DisposedError, text);
    const e = (() => {
      try {
        q.add(live, dead);
      } catch (err) {
        return err;
      }
    })();
    assert.equal(e.argument, 'b');
    assert.equal(e.code, 'ERR_QARM_DISPOSED');
  });

  it('int32 where float32 is needed throws DTypeError naming the argument', () => {
    const i = q.ones([2, 2], 'int32');
    const f = q.ones([2, 2]);
    for (const [fn, text] of [
      [() => q.mul(f, i), "'b'"],
      [() => q.exp(i), "'x'"],
      [() => q.matmul(i, f), "'a'"],
      [() => q.sum(i), "'x'"],
      [() => q.softmax(i), "'x'"],
      [() => q.l2Normalize(i), "'x'"],
      [() => q.argmin(i), "'x'"],
      [() => q.scatterAdd(i, q.tensor(Int32Array.from([0]), [1]), q.ones([1, 2], 'int32')), "'target'"],
    ])
      assertThrowsTyped(fn, q.DTypeError, text);
  });

  it('wrong ranks and shapes throw ShapeError', () => {
    assertThrowsTyped(() => q.softmax(q.tensor(3)), q.ShapeError, "'x'");
    assertThrowsTyped(() => q.logsumexp(q.zeros([3, 0])), q.ShapeError, "'x'");
    assertThrowsTyped(() => q.tensor(new Float32Array(5), [2, 3]), q.ShapeError, 'reshape');
    assertThrowsTyped(() => q.zeros([2, 1.5]), q.ShapeError, "'shape'");
    assertThrowsTyped(() => q.zeros([2 ** 31]), q.ShapeError, "'shape'");
    assertThrowsTyped(() => q.reshape(q.ones([2, 3]), [-1, -1]), q.ShapeError, '-1');
    assertThrowsTyped(() => q.reshape(q.ones([0, 3]), [-1, 0]), q.ShapeError, 'reshape');
  });

  it('tidy releases what fn created when fn throws', () => {
    const before = q.memory().numTensors;
    const kept = [];
    assert.throws(
      () =>
        q.tidy(() => {
          q.relu(q.ones([3]));
          kept.push(q.keep(q.ones([2])));
          q.add(q.ones([2, 3]), q.ones([4, 3]));
        }),
      q.ShapeError,
    );
    assert.equal(q.memory().numTensors, before + 1);
    assert.ok(!kept[0].isDisposed);
    kept[0].dispose();
  });

  it('zero-size tensors flow through every op without touching memory', () => {
    const e = q.zeros([0, 4]);
    for (const y of [
      q.relu(e),
      q.add(e, q.ones([4])),
      q.softmax(e),
      q.logsumexp(e),
      q.l2Normalize(e),
      q.argmax(e),
      q.sum(e, 1),
      q.transpose(e),
      q.matmul(e, q.ones([4, 3])),
      q.gather(e, q.tensor(new Int32Array(0), [0])),
      q.scatterAdd(q.zeros([3, 0]), q.tensor(Int32Array.from([2, 1]), [2]), q.zeros([2, 0])),
    ]) {
      assert.ok(y.size === 0 || y.toTypedArray().every((v) => v === 0));
    }
  });
});

describe('errors: native binding', () => {
  const expectCode = (fn, code, text) => {
    assert.throws(fn, (err) => {
      assert.ok(err instanceof q.QarmError, `not a QarmError: ${err}`);
      assert.equal(err.code, code, err.message);
      if (text) assert.match(err.message, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return true;
    });
  };

  it('sgemm checks every buffer length, dimension range and argument type', () => {
    const ok = () => native.sgemm(false, false, 2, 3, 4, 1, f32(8), f32(12), 0, f32(6));
    ok();
    expectCode(() => native.sgemm(false, false, 2, 3, 4, 1, f32(7), f32(12), 0, f32(6)), 'ERR_QARM_SHAPE', "'a'");
    expectCode(() => native.sgemm(true, true, 2, 3, 4, 1, f32(8), f32(11), 0, f32(6)), 'ERR_QARM_SHAPE', "'b'");
    expectCode(() => native.sgemm(false, false, 2, 3, 4, 1, f32(8), f32(12), 0, f32(5)), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.sgemm(false, false, -1, 3, 4, 1, f32(8), f32(12), 0, f32(6)), 'ERR_QARM_VALUE', "'M'");
    expectCode(() => native.sgemm(false, false, 2, NaN, 4, 1, f32(8), f32(12), 0, f32(6)), 'ERR_QARM_VALUE', "'N'");
    expectCode(() => native.sgemm(false, false, 2, 3, 2 ** 40, 1, f32(8), f32(12), 0, f32(6)), 'ERR_QARM_VALUE', "'K'");
    expectCode(() => native.sgemm(false, false, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 1, f32(8), f32(12), 0, f32(6)), 'ERR_QARM_SHAPE');
    expectCode(() => native.sgemm(false, false, 2, 3, 4, 1, new Float64Array(8), f32(12), 0, f32(6)), 'ERR_QARM_DTYPE', "'a'");
    expectCode(() => native.sgemm(false, false, 2, 3, 4, 1, i32(8), f32(12), 0, f32(6)), 'ERR_QARM_DTYPE', "'a'");
    expectCode(() => native.sgemm(0, false, 2, 3, 4, 1, f32(8), f32(12), 0, f32(6)), 'ERR_QARM_VALUE', "'transA'");
    expectCode(() => native.sgemm(false, false, 2, 3, 4), 'ERR_QARM_VALUE', "'alpha'");
    // A subarray view: its own length counts, not the underlying buffer's.
    const big = f32(100);
    expectCode(() => native.sgemm(false, false, 2, 3, 4, 1, big.subarray(95), f32(12), 0, f32(6)), 'ERR_QARM_SHAPE', "'a'");
  });

  it('elementwise, reduction, row and index kernels check lengths, strides and ranges', () => {
    expectCode(() => native.unary(0, f32(3), f32(4), 4), 'ERR_QARM_SHAPE', "'x'");
    expectCode(() => native.unary(99, f32(4), f32(4), 4), 'ERR_QARM_VALUE', "'op'");
    expectCode(() => native.unary(0, f32(4), f32(4), -1), 'ERR_QARM_VALUE', "'n'");
    expectCode(() => native.binary(0, f32(5), [3, 1], f32(3), [0, 1], f32(6), [2, 3]), 'ERR_QARM_SHAPE', "'a'");
    expectCode(() => native.binary(0, f32(6), [3, 1], f32(3), [0, 1], f32(5), [2, 3]), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.binary(0, f32(6), [3, 1, 1], f32(3), [0, 1], f32(6), [2, 3]), 'ERR_QARM_SHAPE', 'aStrides');
    expectCode(() => native.binary(0, f32(6), [-3, 1], f32(3), [0, 1], f32(6), [2, 3]), 'ERR_QARM_VALUE', "'aStrides'");
    // Strides whose extent would overflow int64 must fail the length check, not wrap.
    const huge = 2 ** 31 - 1;
    expectCode(
      () => native.binary(0, f32(8), new Array(8).fill(huge), f32(8), new Array(8).fill(0), f32(2 ** 8), new Array(8).fill(2)),
      'ERR_QARM_SHAPE',
      "'a'",
    );
    expectCode(() => native.binary(0, f32(1), [huge, huge, huge], f32(1), [0, 0, 0], f32(8), [2, 2, 2]), 'ERR_QARM_SHAPE', "'a'");
    expectCode(() => native.reduceSum(f32(5), f32(2), 2, 3, 1), 'ERR_QARM_SHAPE', "'x'");
    expectCode(() => native.reduceSum(f32(6), f32(1), 2, 3, 1), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.softmaxRows(f32(6), f32(5), 2, 3), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.softmaxRows(f32(6), f32(6), 2, 0), 'ERR_QARM_VALUE', "'cols'");
    expectCode(() => native.logsumexpRows(f32(6), f32(1), 2, 3), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.l2NormalizeRows(f32(6), f32(6), f32(1), 2, 3, 1e-12), 'ERR_QARM_SHAPE', "'norms'");
    expectCode(() => native.argReduceRows(f32(6), f32(2), 2, 3, true), 'ERR_QARM_DTYPE', "'out'");
    expectCode(() => native.argReduceRows(f32(6), i32(1), 2, 3, true), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.gatherRows(f32(6), 3, 2, Int32Array.from([3]), f32(2)), 'ERR_QARM_INDEX', "'indices'");
    expectCode(() => native.gatherRows(f32(6), 3, 2, Int32Array.from([0, 1]), f32(3)), 'ERR_QARM_SHAPE', "'out'");
    expectCode(() => native.gatherRows(f32(5), 3, 2, Int32Array.from([0]), f32(2)), 'ERR_QARM_SHAPE', "'table'");
    expectCode(() => native.gatherRows(f32(6), 3, 2, Int32Array.from([-5]), f32(2), 'ids'), 'ERR_QARM_INDEX', "'ids'");
    expectCode(() => native.scatterAddRows(f32(6), 3, 2, Int32Array.from([0, 2 ** 31 - 1]), f32(4)), 'ERR_QARM_INDEX', "'indices'");
    expectCode(() => native.scatterAddRows(f32(6), 3, 2, Int32Array.from([0, 1]), f32(3)), 'ERR_QARM_SHAPE', "'source'");
    expectCode(() => native.axpby(1, f32(3), 1, f32(4), 4), 'ERR_QARM_SHAPE', "'x'");
    expectCode(() => native.setNumThreads(5000), 'ERR_QARM_VALUE', "'n'");
  });

  it('an enormous table with zero-width rows does not allocate per row', () => {
    const t0 = process.hrtime.bigint();
    native.scatterAddRows(f32(0), 2 ** 31 - 1, 0, Int32Array.from([5, 2 ** 31 - 2, 5]), f32(0));
    native.scatterAddRows(f32(2 ** 20), 2 ** 18, 4, Int32Array.from([2 ** 18 - 1, 0]), f32(8));
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 1000);
  });
});
