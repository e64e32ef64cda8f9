// The CUDA backend's CPU-side pieces, in the default suite: device listing and errors, the
// caching allocator (over a fake device), broadcast-dimension merging, and (when the CUDA
// addon is built, as on CI) its argument checks, which run before any device call.
import { existsSync } from 'node:fs';
import { q, assert, assertThrowsTyped, randArray } from './helpers.js';
import { CachingAllocator, sizeClass } from '../dist/tensor/cuda/allocator.js';
import { mergeDims } from '../dist/tensor/cuda/kernels.js';
import { broadcastShapes, broadcastStrides } from '../dist/autograd/ops/broadcast.js';
import { addonCandidates, probeCuda } from '../dist/tensor/cuda/native_cuda.js';

describe('devices and Tensor.to', () => {
  it("devices() lists 'cpu' and lists 'cuda' exactly when a GPU is in use", () => {
    const d = q.devices();
    if (q.cuda.isAvailable()) assert.deepEqual(d, ['cpu', 'cuda']);
    else {
      assert.deepEqual(d, ['cpu']);
      assert.ok(q.cuda.unavailableReason().length > 0);
    }
  });

  it(".to('cuda') without a GPU throws a DeviceError that says why", function () {
    if (q.cuda.isAvailable()) this.skip();
    const t = q.tensor([1, 2, 3]);
    assertThrowsTyped(() => t.to('cuda'), q.DeviceError, "device 'cuda' is not available");
    try {
      t.to('cuda');
    } catch (e) {
      assert.equal(e.argument, 'device');
      assert.ok(e.message.includes(q.cuda.unavailableReason()), e.message);
      assert.ok(e.message.includes('available: cpu'), e.message);
    }
    assert.equal(t.isDisposed, false);
    assertThrowsTyped(() => q.cuda.memoryStats(), q.DeviceError, 'CUDA is not available');
    assertThrowsTyped(() => q.cuda.synchronize(), q.DeviceError, 'CUDA is not available');
  });

  it('.to() with an unknown device names the argument', () => {
    assertThrowsTyped(() => q.tensor([1]).to('gpu'), q.DeviceError, "argument 'device' must be 'cpu' or 'cuda'");
  });

  it(".to('cpu') on the CPU is a view: same memory, independent dispose, no extra bytes", () => {
    const data = randArray(10, 3);
    const t = q.tensor(data, [2, 5]);
    const before = q.memory();
    const v = t.to('cpu');
    assert.equal(v.toTypedArray(), data);
    assert.deepEqual(v.shape, [2, 5]);
    assert.equal(q.memory().numBytes, before.numBytes);
    v.dispose();
    assert.equal(t.isDisposed, false);
    assert.equal(t.toTypedArray()[0], data[0]);
    t.dispose();
    assertThrowsTyped(() => t.to('cpu'), q.DisposedError, 'disposed');
  });

  it('cuda.configure validates its options and works without a GPU', () => {
    const before = q.cuda.configure();
    assert.deepEqual(Object.keys(before).sort(), ['gemm', 'nearest', 'nearestCandidates', 'scatter']);
    assert.equal(q.cuda.configure({ scatter: 'atomic' }).scatter, 'atomic');
    assertThrowsTyped(() => q.cuda.configure({ scatter: 'fast' }), q.ValueError, "argument 'scatter'");
    assertThrowsTyped(() => q.cuda.configure({ nearest: 'fp16' }), q.ValueError, "argument 'nearest'");
    assertThrowsTyped(() => q.cuda.configure({ nearestCandidates: 129 }), q.ValueError, "argument 'nearestCandidates'");
    assertThrowsTyped(() => q.cuda.configure({ gemm: 'cutlass' }), q.ValueError, "argument 'gemm'");
    q.cuda.configure(before);
    assert.deepEqual(q.cuda.configure(), before);
  });
});

describe('CUDA caching allocator (fake device)', () => {
  function fakeDevice({ capacity = Infinity } = {}) {
    const live = new Map();
    let next = 4096n;
    let used = 0;
    return {
      live,
      malloc(bytes) {
        if (used + bytes > capacity) throw new Error(`CUDA out of memory allocating ${bytes} bytes`);
        const p = next;
        next += BigInt(bytes) + 4096n;
        live.set(p, bytes);
        used += bytes;
        return p;
      },
      free(p) {
        if (!live.has(p)) throw new Error('double free');
        used -= live.get(p);
        live.delete(p);
      },
    };
  }

  it('size classes: 512-byte steps up to 1 MiB, then four steps per power of two', () => {
    assert.equal(sizeClass(0), 512);
    assert.equal(sizeClass(1), 512);
    assert.equal(sizeClass(512), 512);
    assert.equal(sizeClass(513), 1024);
    assert.equal(sizeClass(1 << 20), 1 << 20);
    assert.equal(sizeClass((1 << 20) + 1), 1.25 * (1 << 20));
    assert.equal(sizeClass(3 * (1 << 20)), 3 * (1 << 20));
    assert.equal(sizeClass(7 * (1 << 20) + 1), 8 * (1 << 20));
    for (const b of [1, 700, 5000, 1 << 20, 1234567, 98765432, 2 ** 33 + 5]) {
      const c = sizeClass(b);
      assert.ok(c >= b, `${c} < ${b}`);
      assert.ok(b <= 1 << 20 ? c - b < 512 : c <= 1.25 * b + 1, `class ${c} wastes too much for ${b}`);
    }
    assert.throws(() => sizeClass(-1), RangeError);
  });

  it('reuses freed blocks of the same class and keeps exact counters', () => {
    const dev = fakeDevice();
    const a = new CachingAllocator(dev);
    const b1 = a.allocate(1000);
    assert.equal(b1.size, 1024);
    const b2 = a.allocate(3000);
    assert.deepEqual({ ...a.getStats() }, { allocatedBytes: 1024 + 3072, cachedBytes: 0, reservedBytes: 4096, hits: 0, misses: 2, rawAllocs: 2, rawFrees: 0 });
    a.release(b1);
    const b3 = a.allocate(600); // same class (1024): served from the cache
    assert.equal(b3.ptr, b1.ptr);
    const s = a.getStats();
    assert.equal(s.hits, 1);
    assert.equal(s.rawAllocs, 2);
    assert.equal(dev.live.size, 2);
    a.release(b3);
    a.release(b2);
    assert.throws(() => a.release(b2), /not live/);
    assert.equal(a.getStats().allocatedBytes, 0);
    assert.equal(a.getStats().cachedBytes, 4096);
    assert.equal(a.emptyCache(), 4096);
    assert.equal(dev.live.size, 0);
    assert.deepEqual([a.getStats().reservedBytes, a.getStats().rawFrees], [0, 2]);
  });

  it('on out-of-memory empties the cache and retries once', () => {
    const dev = fakeDevice({ capacity: 4 << 20 });
    const a = new CachingAllocator(dev);
    const x = a.allocate(3 << 20);
    a.release(x); // cached, still holding 3 MiB of the 4
    const y = a.allocate(2 << 20); // different class: needs the cache emptied first
    assert.equal(y.size, 2 << 20);
    assert.equal(a.getStats().rawFrees, 1);
    assert.throws(() => a.allocate(3 << 20), /out of memory/); // nothing left to free
    a.release(y);
  });

  it('a non-OOM device error is not retried', () => {
    const a = new CachingAllocator({
      malloc: () => {
        throw new Error('CUDA error: launch failure');
      },
      free() {},
    });
    assert.throws(() => a.allocate(10), /launch failure/);
  });
});

describe('CUDA broadcast dimension merging', () => {
  // Every output element, in order, must read the same (a, b) offsets before and after merging.
  function offsets(shape, as, bs) {
    const out = [];
    const n = shape.reduce((p, d) => p * d, 1);
    for (let i = 0; i < n; i++) {
      let rem = i,
        ao = 0,
        bo = 0;
      for (let d = shape.length - 1; d >= 0; d--) {
        const c = rem % shape[d];
        rem = Math.floor(rem / shape[d]);
        ao += c * as[d];
        bo += c * bs[d];
      }
      out.push(ao, bo);
    }
    return out;
  }
  const cases = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [
      [2, 3, 4],
      [1, 1, 1],
    ],
    [[2, 3, 4], [4]],
    [
      [5, 1, 7],
      [1, 6, 7],
    ],
    [[1], [1]],
    [
      [3, 1, 1, 2, 2, 3],
      [1, 4, 1, 2, 1, 3],
    ],
    [
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      [2, 1, 2, 1, 2, 1, 2, 1, 2, 1],
    ],
    [
      [0, 3],
      [1, 3],
    ],
  ];
  for (const [sa, sb] of cases) {
    it(`[${sa}] op [${sb}]`, () => {
      const shape = broadcastShapes(sa, sb);
      const as = broadcastStrides(sa, shape);
      const bs = broadcastStrides(sb, shape);
      const [S, A, B] = mergeDims(shape, as, bs);
      assert.ok(S.length <= Math.max(1, shape.length));
      assert.deepEqual(offsets(S, A, B), offsets(shape, as, bs));
    });
  }
});

const built = addonCandidates().find((p) => existsSync(p));
describe('CUDA addon argument checks (no device needed)', function () {
  before(function () {
    if (!built) {
      console.log('      (skipped: the CUDA addon is not built here; `npm run build:cuda` builds it where nvcc exists)');
      this.skip();
    }
  });

  it('loads without a GPU and reports the device count with a reason', () => {
    const { addon, reason } = probeCuda(false);
    assert.ok(addon, reason);
    const r = addon.deviceCount();
    assert.equal(typeof r.count, 'number');
    if (!q.cuda.isAvailable()) {
      assert.equal(r.count, 0);
      assert.ok(r.reason.length > 0);
    }
  });

  it('rejects anything that is not a live device buffer before touching the device', () => {
    const { addon } = probeCuda(false);
    assertThrowsTyped(() => addon.unary(0, 12345n, 67890n, 4), q.DeviceError, 'not a live CUDA buffer');
    assertThrowsTyped(() => addon.unary(0, new Float32Array(4), 1n, 4), q.DeviceError, 'CUDA buffer address');
    assertThrowsTyped(() => addon.unary(99, 1n, 1n, 4), q.ValueError, "argument 'op'");
    assertThrowsTyped(() => addon.free(42n), q.DeviceError, "argument 'ptr'");
    assertThrowsTyped(() => addon.copy2d(1n, 0, 4, 2n, 0, 4, 8, 1), q.ShapeError, "argument 'width'");
    assertThrowsTyped(() => addon.binary(0, 1n, [1], 2n, [1, 1], 3n, [4]), q.ShapeError, 'aStrides');
    assertThrowsTyped(() => addon.binary(0, 1n, Array(9).fill(0), 2n, Array(9).fill(0), 3n, Array(9).fill(1)), q.ShapeError, 'rank <= 8');
    assertThrowsTyped(() => addon.nearest(1n, 4, 2, 2n, 3, 1, 'manhattan', 3n, 4n, false, 0), q.ValueError, "argument 'metric'");
    assertThrowsTyped(() => addon.nearest(1n, 4, 2, 2n, 3, 1, 'l2', 3n, 4n, false, 500), q.ValueError, "argument 'candidates'");
    assertThrowsTyped(() => addon.kmeansUpdate(1n, -1, 2, 2n, 3, 3n, 4n), q.ValueError, "argument 'N'");
    assertThrowsTyped(() => addon.upload(5n, new Float32Array(2)), q.DeviceError, "argument 'ptr'");
    assertThrowsTyped(() => addon.upload(5n, [1, 2]), q.DTypeError, "argument 'data'");
    assertThrowsTyped(() => addon.coalesceReduce(1, 0, 7n, 0, 0, 0, null, null, 8n, 9n), q.DeviceError, "argument 'source'");
    assertThrowsTyped(() => addon.bagPool(1n, 4, 2, 2n, 3, 3n, -1, null, false, 4n, 'values'), q.ValueError, "argument 'nbags'");
    assertThrowsTyped(() => addon.sparseAdam(1n, 2n, 3n, 4, 2, 4n, 1, 5n, 0.1, 0.9, 0.99, 1e-8, 0, false, 0), q.DeviceError, "argument 'param'");
    assertThrowsTyped(() => addon.weightedPool(1n, 2n, 3n, 2, 2, 2, -2), q.ValueError, "argument 'D'");
    assert.equal(addon.liveAllocations(), 0);
  });

  it('without a device, allocation fails with a typed error instead of crashing', function () {
    if (q.cuda.isAvailable()) this.skip();
    const { addon } = probeCuda(false);
    assert.throws(
      () => addon.malloc(1024),
      (e) => e instanceof q.QarmError && /CUDA/.test(e.message),
    );
    assert.equal(addon.liveAllocations(), 0);
    assert.match(addon.gemmBackend(), /^(cublas|builtin)$/);
  });
});

describe('GPU check scripts', () => {
  it('gpu-pack.sh, gpu-check.sh, build-cuda.js and bench/cuda/run.js parse', async () => {
    const { spawnSync } = await import('node:child_process');
    for (const [cmd, args] of [
      ['bash', ['-n', 'scripts/gpu-pack.sh']],
      ['bash', ['-n', 'scripts/gpu-check.sh']],
      [process.execPath, ['--check', 'scripts/build-cuda.js']],
      [process.execPath, ['--check', 'bench/cuda/run.js']],
    ]) {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('bench:cuda without a GPU says why and measures nothing', async function () {
    if (q.cuda.isAvailable()) this.skip();
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['bench/cuda/run.js', '--out', '/nonexistent-dir-qarm'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CUDA unavailable: .*nothing measured/);
  });
});
