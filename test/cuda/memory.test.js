// Device memory: accounting, tidy, the caching allocator, host round trips.
import { requireGpu, host, q, assert, randArray } from './gpu.js';

describe('CUDA memory', () => {
  requireGpu();
  it('to() round trips exactly; memory().bytesByDevice.cuda tracks live device bytes', () => {
    const base = q.memory().bytesByDevice.cuda;
    const f = randArray(1001, 1);
    const t = q.tensor(f, [7, 143]).to('cuda');
    assert.equal(t.device, 'cuda');
    assert.equal(q.memory().bytesByDevice.cuda, base + 1001 * 4);
    assert.deepEqual(host(t), f);
    const i = q.tensor(new Int32Array([1, -2, 2147483647]), [3]).to('cuda');
    assert.deepEqual([...i.to('cpu').toTypedArray()], [1, -2, 2147483647]);
    const v = t.to('cuda'); // same device: a view
    assert.equal(q.memory().bytesByDevice.cuda, base + 1001 * 4 + 12);
    t.dispose();
    assert.deepEqual(host(v), f);
    v.dispose();
    i.dispose();
    assert.equal(q.memory().bytesByDevice.cuda, base);
    assert.throws(() => v.toTypedArray(), q.DisposedError);
  });

  it('tidy disposes device tensors; freed buffers are reused from the cache', () => {
    const base = q.memory();
    const s0 = q.cuda.memoryStats();
    const kept = q.tidy(() => {
      const a = q.tensor(randArray(4096, 2), [64, 64]).to('cuda');
      const b = q.matmul(a, a);
      return q.relu(b);
    });
    assert.equal(q.memory().numTensors, base.numTensors + 1);
    assert.equal(q.memory().bytesByDevice.cuda, base.bytesByDevice.cuda + 4096 * 4);
    const s1 = q.cuda.memoryStats();
    const again = q.tidy(() => q.relu(q.matmul(kept, kept)));
    const s2 = q.cuda.memoryStats();
    assert.ok(s2.hits > s1.hits, 'second pass should be served from the cache');
    assert.equal(s2.rawAllocs, s1.rawAllocs);
    assert.ok(s1.allocatedBytes >= s0.allocatedBytes);
    kept.dispose();
    again.dispose();
    const freed = q.cuda.emptyCache();
    assert.ok(freed > 0);
    assert.equal(q.cuda.memoryStats().cachedBytes, 0);
  });

  it('mixing devices is a DeviceError naming the argument', () => {
    const a = q.tensor([1, 2, 3]);
    const b = a.to('cuda');
    assert.throws(
      () => q.add(a, b),
      (e) => e instanceof q.DeviceError && e.argument === 'b',
    );
  });

  it('device info and GEMM backend are reported', () => {
    const info = q.cuda.deviceInfo();
    assert.ok(info.name.length > 0 && info.totalBytes > 0, JSON.stringify(info));
    assert.match(q.cuda.gemmBackend(), /^(cublas|builtin)$/);
  });
});
