// lib/dist without MPI: the one-process fallback (rank 0 of 1, every collective the identity,
// no MPI library loaded), the backend choice from the environment, and the typed errors when
// MPI is requested but cannot be loaded. The multi-process checks are in test/dist_mpi.test.js.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { q } from './helpers.js';
import { chooseBackend } from '../dist/dist/env.js';

const { dist } = q;
const distModule = new URL('../dist/dist/index.js', import.meta.url).href;

/** Runs `body` (ES module code with `dist` in scope) in a fresh node with `env`; returns its JSON output. */
function inChild(env, body) {
  const clean = { ...process.env };
  for (const k of ['QARM_DIST', 'QARM_MPI_LIB', 'QARM_DIST_CHUNK_BYTES', 'OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'PMIX_RANK', 'PMIX_SIZE']) delete clean[k];
  const script = `import { dist } from ${JSON.stringify(distModule)};
const err = (e) => ({ name: e.constructor.name, code: e.code, argument: e.argument, message: e.message });
const out = {};
${body}
console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const mpiMapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libmpi');

describe('dist: one process without MPI', () => {
  it('is rank 0 of a world of 1 on the local backend', () => {
    assert.equal(dist.rank, 0);
    assert.equal(dist.worldSize, 1);
    assert.equal(dist.backend, 'local');
    assert.deepEqual(dist.info(), { backend: 'local', rank: 0, worldSize: 1, reason: 'no MPI launcher in the environment' });
  });

  it('allReduce returns a copy, allReduceInPlace the same array, both unchanged in value', () => {
    for (const [Ctor, vals] of [
      [Float64Array, [1.5, -0, NaN, 1e308]],
      [Float32Array, [3.25, -7, 0.1]],
      [Int32Array, [2 ** 31 - 1, -(2 ** 31), 0]],
    ]) {
      for (const n of [0, 1, 3, 17, 1000]) {
        const x = Ctor.from({ length: n }, (_, i) => vals[i % vals.length]);
        const y = dist.allReduce(x);
        assert.notEqual(y, x);
        assert.equal(y.constructor, Ctor);
        assert.deepEqual(Buffer.from(y.buffer), Buffer.from(x.buffer.slice(0)));
        const before = Buffer.from(x.buffer.slice(0));
        assert.equal(dist.allReduceInPlace(x), x);
        assert.deepEqual(Buffer.from(x.buffer), before);
      }
    }
  });

  it('allGather returns [copy], broadcast from root 0 a copy, barrier returns', () => {
    const x = Float32Array.from({ length: 17 }, (_, i) => i / 3);
    const parts = dist.allGather(x);
    assert.equal(parts.length, 1);
    assert.notEqual(parts[0], x);
    assert.deepEqual(Array.from(parts[0]), Array.from(x));
    const u = Uint8Array.of(1, 2, 3);
    const b = dist.broadcast(u, 0);
    assert.notEqual(b, u);
    assert.deepEqual(Array.from(b), [1, 2, 3]);
    assert.deepEqual(Array.from(dist.broadcast(Int32Array.of(4, 5))), [4, 5], 'root defaults to 0');
    dist.barrier();
  });

  it('a view into a larger buffer is reduced and gathered by its own elements only', () => {
    const big = Float64Array.from({ length: 10 }, (_, i) => i);
    const view = big.subarray(3, 6);
    assert.deepEqual(Array.from(dist.allReduce(view)), [3, 4, 5]);
    assert.deepEqual(Array.from(dist.allGather(view)[0]), [3, 4, 5]);
  });

  it('throws typed errors naming the argument', () => {
    const is = (fn, Cls, argument, re) => assert.throws(fn, (e) => e instanceof Cls && e.argument === argument && re.test(e.message));
    is(() => dist.allReduce(new Uint8Array(3)), q.DTypeError, 'x', /Float32Array, Float64Array or Int32Array on every rank; this rank \(0\) passed Uint8Array/);
    is(() => dist.allReduce([1, 2]), q.DTypeError, 'x', /passed Array/);
    is(() => dist.allReduce(new Uint8ClampedArray(2)), q.DTypeError, 'x', /passed Uint8ClampedArray/);
    is(() => dist.allGather(null), q.DTypeError, 'x', /passed null/);
    is(() => dist.allGather(new BigInt64Array(1)), q.DTypeError, 'x', /passed BigInt64Array/);
    is(() => dist.broadcast(new Float64Array(2), 1), q.IndexError, 'root', /'root' = 1 .*\[0, 1\)/);
    is(() => dist.broadcast(new Float64Array(2), -1), q.IndexError, 'root', /'root' = -1/);
    is(() => dist.broadcast(new Float64Array(2), '0'), q.IndexError, 'root', /'root' = 0 /);
    is(() => dist.broadcast(new Float64Array(2), 0.5), q.IndexError, 'root', /'root' = 0\.5/);
    // Still usable afterwards.
    assert.deepEqual(Array.from(dist.allReduce(Float64Array.of(2))), [2]);
  });

  it('counts calls and no bytes (nothing leaves the process)', () => {
    dist.resetStats();
    dist.allReduce(new Float64Array(10));
    dist.allReduce(new Float32Array(3));
    dist.allGather(new Int32Array(5));
    dist.broadcast(new Uint8Array(7));
    dist.barrier();
    assert.throws(() => dist.broadcast(new Uint8Array(1), 3), q.IndexError);
    const zero = { bytesSent: 0, bytesReceived: 0 };
    assert.deepEqual(dist.stats(), {
      allReduce: { calls: 2, ...zero },
      allGather: { calls: 1, ...zero },
      broadcast: { calls: 2, ...zero },
      barrier: { calls: 1, ...zero },
    });
    const s = dist.stats();
    s.allReduce.calls = 99;
    assert.equal(dist.stats().allReduce.calls, 2, 'stats() returns a copy');
    dist.resetStats();
    assert.equal(dist.stats().allReduce.calls, 0);
  });

  it('loads no MPI library', function () {
    if (!existsSync('/proc/self/maps')) this.skip(); // needs Linux's /proc to list loaded libraries
    dist.allReduce(new Float64Array(3));
    assert.equal(mpiMapped(), false);
  });
});

describe('dist: choosing the backend from the environment', () => {
  const lib = 'libmpi.so.40';
  it('uses MPI only when asked or started by a launcher with more than one process', () => {
    const cases = [
      [{}, 'local', 'no MPI launcher in the environment'],
      [{ QARM_DIST: 'mpi' }, 'mpi', 'QARM_DIST=mpi'],
      [{ QARM_DIST: ' MPI ' }, 'mpi', 'QARM_DIST=mpi'],
      [{ QARM_DIST: 'local', OMPI_COMM_WORLD_SIZE: '4' }, 'local', 'QARM_DIST=local'],
      [{ QARM_DIST: '', OMPI_COMM_WORLD_SIZE: '2' }, 'mpi', 'OMPI_COMM_WORLD_SIZE=2'],
      [{ OMPI_COMM_WORLD_SIZE: '1' }, 'local', 'no MPI launcher in the environment'],
      [{ PMI_SIZE: '3' }, 'mpi', 'PMI_SIZE=3'],
      [{ PMI_SIZE: '1' }, 'local', 'no MPI launcher in the environment'],
      [{ PMIX_SIZE: '2' }, 'mpi', 'PMIX_SIZE=2'],
      [{ PMIX_RANK: '1' }, 'mpi', 'PMIX_RANK=1'],
      [{ PMIX_RANK: '0' }, 'local', 'no MPI launcher in the environment'],
      [{ PMIX_RANK: '0', SLURM_STEP_NUM_TASKS: '8' }, 'mpi', 'PMIX_RANK with 8 Slurm tasks'],
      [{ SLURM_STEP_NUM_TASKS: '8' }, 'local', 'no MPI launcher in the environment'],
      [{ OMPI_COMM_WORLD_SIZE: 'two' }, 'local', 'no MPI launcher in the environment'],
    ];
    for (const [env, mode, reason] of cases) {
      assert.deepEqual(chooseBackend(env), { mode, reason, library: lib }, JSON.stringify(env));
    }
    assert.equal(chooseBackend({ QARM_DIST: 'mpi', QARM_MPI_LIB: '/opt/ompi/lib/libmpi.so' }).library, '/opt/ompi/lib/libmpi.so');
  });

  it('rejects an unknown QARM_DIST', () => {
    assert.throws(
      () => chooseBackend({ QARM_DIST: 'nccl' }),
      (e) => e instanceof q.ValueError && e.argument === 'QARM_DIST' && /'mpi' or 'local'.*'nccl'/.test(e.message),
    );
  });
});

describe('dist: MPI requested but not loadable', () => {
  it('QARM_DIST=mpi with a missing QARM_MPI_LIB: IOError naming QARM_MPI_LIB, the reason and the path, on every call', () => {
    const out = inChild(
      { QARM_DIST: 'mpi', QARM_MPI_LIB: '/nonexistent/libmpi.so.40' },
      `
try { dist.rank; } catch (e) { out.first = err(e); }
try { dist.allReduce(new Float64Array(1)); } catch (e) { out.second = err(e); }`,
    );
    for (const e of [out.first, out.second]) {
      assert.equal(e.name, 'IOError');
      assert.equal(e.code, 'ERR_QARM_IO');
      assert.equal(e.argument, 'QARM_MPI_LIB');
      assert.match(e.message, /MPI was requested \(QARM_DIST=mpi\) but cannot be used: cannot load MPI library '\/nonexistent\/libmpi\.so\.40'/);
      assert.match(e.message, /apt-get install openmpi-bin/);
    }
  });

  it('a launcher environment with a missing library: the error names the launcher variable', () => {
    const out = inChild(
      { OMPI_COMM_WORLD_SIZE: '2', QARM_MPI_LIB: '/nonexistent/libmpi.so.40' },
      `
try { dist.barrier(); } catch (e) { out.e = err(e); }`,
    );
    assert.equal(out.e.name, 'IOError');
    assert.match(out.e.message, /MPI was requested \(OMPI_COMM_WORLD_SIZE=2\)/);
  });

  it('a library that is not Open MPI is refused by name', function () {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6', '/usr/lib64/libc.so.6'].find(existsSync);
    if (!libc) this.skip(); // needs a glibc libc.so.6 to stand in for a non-Open-MPI library
    const out = inChild({ QARM_DIST: 'mpi', QARM_MPI_LIB: libc }, `try { dist.info(); } catch (e) { out.e = err(e); }`);
    assert.equal(out.e.name, 'IOError');
    assert.equal(out.e.argument, 'QARM_MPI_LIB');
    assert.match(out.e.message, /is not Open MPI \(no ompi_mpi_comm_world\/ompi_mpi_byte symbols\): qarm targets the Open MPI ABI/);
  });

  it('without a request a missing MPI changes nothing: the fallback runs and no MPI is loaded', () => {
    const out = inChild(
      { QARM_MPI_LIB: '/nonexistent/libmpi.so.40' },
      `
out.info = dist.info();
out.sum = Array.from(dist.allReduce(Float64Array.of(1, 2)));
out.gather = dist.allGather(Int32Array.of(7)).map((p) => Array.from(p));
out.mapped = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8').includes('libmpi');`,
    );
    assert.deepEqual(out.info, { backend: 'local', rank: 0, worldSize: 1, reason: 'no MPI launcher in the environment' });
    assert.deepEqual(out.sum, [1, 2]);
    assert.deepEqual(out.gather, [[7]]);
    assert.equal(out.mapped, false);
  });

  it('rejects a bad QARM_DIST_CHUNK_BYTES', () => {
    for (const v of ['0', '-5', '1.5', 'lots']) {
      const out = inChild({ QARM_DIST_CHUNK_BYTES: v }, `try { dist.barrier(); } catch (e) { out.e = err(e); }`);
      assert.equal(out.e.name, 'ValueError', v);
      assert.equal(out.e.argument, 'QARM_DIST_CHUNK_BYTES');
    }
  });
});
