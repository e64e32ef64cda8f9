// The explicit host read (Tensor.readHost) and the kernel-only accessors f32()/i32() on storage
// the host cannot read. A fake device storage stands in for CUDA, so this runs on every machine.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { Tensor, tensorHooks } from '../dist/tensor/tensor.js';

/** Storage that claims to live on a device: nothing in it is host memory. */
function fakeDeviceTensor(shape, dtype) {
  const size = shape.reduce((a, b) => a * b, 1);
  const storage = { device: 'cuda', dtype, byteLength: 4 * size, refs: 0, release() {} };
  return new Tensor(storage, shape, dtype);
}

/** Runs fn with no backend able to copy device tensors to the host (as on a machine without CUDA). */
function withoutCopyBackend(fn) {
  const saved = tensorHooks.toDevice;
  tensorHooks.toDevice = null;
  try {
    return fn();
  } finally {
    tensorHooks.toDevice = saved;
  }
}

describe('host reads', () => {
  it('readHost copies a CPU tensor of each dtype, sizes 0, 1, 3, 1000', () => {
    for (const n of [0, 1, 3, 1000]) {
      const f = new Float32Array(n).map((_, i) => i * 0.5 - 7);
      const t = q.tensor(f, [n], 'float32');
      const h = t.readHost();
      assert.ok(h instanceof Float32Array);
      assert.deepEqual([...h], [...f]);
      if (n) {
        // A copy: writing it leaves the tensor alone.
        h[0] = 123;
        assert.equal(t.toTypedArray()[0], f[0]);
      }
      const i = q.tensor(
        new Int32Array(n).map((_, k) => k - 2),
        [n],
        'int32',
      );
      const hi = i.readHost();
      assert.ok(hi instanceof Int32Array);
      assert.deepEqual([...hi], [...i.toTypedArray()]);
    }
  });

  it('readHost throws DeviceError on a device tensor no backend can copy', () => {
    const t = fakeDeviceTensor([2, 3], 'float32');
    withoutCopyBackend(() => {
      assert.throws(
        () => t.readHost(),
        (e) => e instanceof q.DeviceError && /cuda/.test(e.message),
      );
      assert.throws(() => t.toTypedArray(), q.DeviceError);
    });
  });

  it('f32()/i32() throw DeviceError naming the argument on non-CPU storage', () => {
    const f = fakeDeviceTensor([4], 'float32');
    const i = fakeDeviceTensor([4], 'int32');
    assert.throws(
      () => f.f32('x'),
      (e) => e instanceof q.DeviceError && e.argument === 'x' && /cuda/.test(e.message),
    );
    assert.throws(
      () => i.i32('codes'),
      (e) => e instanceof q.DeviceError && e.argument === 'codes',
    );
    // The dtype check still comes first for a CPU tensor of the wrong dtype.
    assert.throws(() => q.tensor([1, 2]).i32('ids'), q.DTypeError);
  });

  it('checkDType checks the dtype of a device tensor without reading it', () => {
    const f = fakeDeviceTensor([4], 'float32');
    f.checkDType('float32', 'x');
    assert.throws(
      () => f.checkDType('int32', 'ids'),
      (e) => e instanceof q.DTypeError && e.argument === 'ids',
    );
    // An op's argument check on a device tensor no longer stops at host memory: it reaches
    // dispatch, which (with no kernel for the fake device) names the missing kernel.
    withoutCopyBackend(() => {
      assert.throws(
        () => q.sum(f),
        (e) => e instanceof q.DeviceError && /kernel/.test(e.message),
      );
    });
  });

  it('readHost of a disposed tensor throws DisposedError', () => {
    const t = q.tensor([1, 2, 3]);
    t.dispose();
    assert.throws(() => t.readHost(), q.DisposedError);
  });
});
