// The collectives of lib/dist across real MPI processes: mpirun starts test/support/dist_worker.mjs
// on 2 (and 3) ranks, each rank writes what it saw, and this file checks it against plain-JS
// references built from the same seeded inputs (test/support/dist_data.js): exact bytes, on
// every rank. Three ranks are needed to see the order of a sum (a + b == b + a in IEEE).
// Needs Open MPI's mpirun (Debian: apt-get install openmpi-bin; CI installs it): without it
// the suite skips and says why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mpirunMissing, mpirun, runJob as runJobOf } from './support/mpirun.js';
import { data, referenceSum, REDUCE_SIZES, GATHER_LENGTHS, BROADCAST_LENGTH } from './support/dist_data.js';

const worker = new URL('./support/dist_worker.mjs', import.meta.url).pathname;
const runJob = (np, env = {}) => runJobOf(worker, np, { env, prefix: 'qarm-dist-', timeout: 60000 });

const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

describe('dist over MPI (mpirun)', function () {
  this.timeout(180000);
  const skip = mpirunMissing();
  const jobs = {};

  before(function () {
    if (skip) {
      console.warn(`    dist over MPI skipped: ${skip}`);
      this.skip();
    }
    const t0 = Date.now();
    jobs.two = runJob(2);
    jobs.twoAgain = runJob(2);
    jobs.twoSmallChunks = runJob(2, { QARM_DIST_CHUNK_BYTES: '24' });
    jobs.three = runJob(3);
    jobs.seconds = (Date.now() - t0) / 1000;
  });

  for (const np of [2, 3]) {
    const job = () => (np === 2 ? jobs.two : jobs.three);

    it(`${np} ranks: rank, worldSize and backend`, () => {
      assert.deepEqual(
        job().map((o) => [o.rank, o.size, o.backend]),
        Array.from({ length: np }, (_, r) => [r, np, 'mpi']),
      );
    });

    it(`${np} ranks: allReduce of float64, float32 and int32 equals the rank-order sum, bit for bit, on every rank`, () => {
      for (const dtype of ['float64', 'float32', 'int32']) {
        for (const n of REDUCE_SIZES) {
          const key = `allReduce/${dtype}/${n}`;
          const want = b64(
            referenceSum(
              dtype,
              Array.from({ length: np }, (_, r) => data(dtype, `reduce-${dtype}-${n}`, r, n)),
            ),
          );
          for (const o of job()) {
            assert.equal(o.results[key], want, `${key} on rank ${o.rank}`);
            assert.equal(o.checks[`${key}/inputUntouched`], true, `${key}: input changed on rank ${o.rank}`);
            assert.equal(o.checks[`${key}/type`], true, `${key}: not a new array of the input's type`);
          }
        }
        const want = b64(
          referenceSum(
            dtype,
            Array.from({ length: np }, (_, r) => data(dtype, `reduce-${dtype}-17`, r, 17)),
          ),
        );
        for (const o of job()) {
          assert.equal(o.results[`allReduceInPlace/${dtype}/17`], want, `allReduceInPlace ${dtype} on rank ${o.rank}`);
          assert.equal(o.checks[`allReduceInPlace/${dtype}/sameObject`], true);
        }
      }
    });

    it(`${np} ranks: allGather with different lengths per rank returns every rank's array in rank order`, () => {
      for (const dtype of ['float32', 'float64', 'int32', 'uint8']) {
        GATHER_LENGTHS.forEach((len, k) => {
          const want = Array.from({ length: np }, (_, r) => b64(data(dtype, `gather-${dtype}-${k}`, r, len(r))));
          for (const o of job()) {
            assert.deepEqual(o.results[`allGather/${dtype}/${k}`], want, `allGather ${dtype} case ${k} on rank ${o.rank}`);
            assert.equal(o.checks[`allGather/${dtype}/${k}/oneBuffer`], true);
          }
        });
      }
    });

    it(`${np} ranks: a view into a larger buffer sends its own elements only`, () => {
      const xs = Array.from({ length: np }, (_, r) => data('float64', 'view', r, 40));
      const sum = b64(
        referenceSum(
          'float64',
          xs.map((x) => x.subarray(5, 22)),
        ),
      );
      const parts = xs.map((x, r) => b64(x.subarray(3 + r, 10)));
      for (const o of job()) {
        assert.equal(o.results['view/allReduce'], sum);
        assert.deepEqual(o.results['view/allGather'], parts);
      }
    });

    it(`${np} ranks: broadcast from every root gives the root's array everywhere`, () => {
      for (let root = 0; root < np; root++) {
        for (const dtype of ['float64', 'uint8']) {
          const want = b64(data(dtype, `bcast-${dtype}-${root}`, root, BROADCAST_LENGTH));
          for (const o of job()) assert.equal(o.results[`broadcast/${dtype}/${root}`], want, `broadcast ${dtype} from ${root} on rank ${o.rank}`);
        }
      }
    });

    it(`${np} ranks: barrier holds every rank until the late one arrives`, () => {
      for (const o of job()) assert.equal(o.checks.barrierWaited, true, `rank ${o.rank} left the barrier early`);
    });

    it(`${np} ranks: bad or mismatched arguments throw the same typed error on every rank, and the ranks stay in step`, () => {
      const expected = {
        lengthMismatch: ['ShapeError', 'x', /same length on every rank \(rank 0 has 3, rank 1 has 4/],
        dtypeMismatch: ['DTypeError', 'x', /different dtypes across ranks \(rank 0 float32, rank 1 float64/],
        notTypedArray: [
          'DTypeError',
          'x',
          /Float32Array, Float64Array or Int32Array on every rank; (this rank \(1\) passed Array|rank 1 passed something else)/,
        ],
        uint8Reduce: ['DTypeError', 'x', /on every rank/],
        gatherDtype: ['DTypeError', 'x', /rank 0 int32, rank 1 float32/],
        rootTooLarge: ['IndexError', 'root', new RegExp(`'root' = ${np} .*\\[0, ${np}\\)`)],
        rootNegative: ['IndexError', 'root', /'root' = -1/],
        rootFraction: ['IndexError', 'root', /'root' = 0\.5/],
        rootsDiffer: ['ValueError', 'root', /same on every rank \(rank 0: 0, rank 1: 1/],
        int32Overflow: ['ValueError', 'x', /int32 sum at index 0 is \d+, outside the int32 range/],
        nativeRecvShort: ['IndexError', 'counts', /rank \d+ block \[\d+, \d+\) is outside recv/],
        nativeCountsShort: ['ShapeError', 'counts', new RegExp(`one entry per rank \\(${np}\\), got ${np - 1} and ${np - 1}`)],
        nativeSendLength: ['ShapeError', 'send', /'send' has 5 bytes, counts\[\d\] = 4/],
        nativeNegative: ['IndexError', 'counts', /rank 0 block \[-4, 0\)/],
        nativeRoot: ['ValueError', 'root', new RegExp(`'root' = ${np} is outside \\[0, ${np - 1}\\]`)],
        nativeNotBytes: ['DTypeError', 'buf', /must be a Uint8Array/],
      };
      for (const o of job()) {
        for (const [name, [cls, arg, re]] of Object.entries(expected)) {
          const e = o.errors[name];
          assert.ok(e, `${name}: no error on rank ${o.rank}`);
          assert.equal(e.name, cls, `${name} on rank ${o.rank}: ${e.message}`);
          assert.equal(e.argument, arg, `${name} argument on rank ${o.rank}`);
          assert.match(e.message, re, `${name} message on rank ${o.rank}`);
        }
        assert.equal(o.checks.int32OverflowUntouched, true, 'allReduceInPlace changed x before failing');
      }
      assert.match(job()[1].errors.notTypedArray.message, /this rank \(1\) passed Array/);
      assert.match(job()[0].errors.notTypedArray.message, /rank 1 passed something else/);
      const after = b64(
        referenceSum(
          'float64',
          Array.from({ length: np }, (_, r) => Float64Array.of(r + 0.5)),
        ),
      );
      for (const o of job()) assert.equal(o.results.afterErrors, after);
    });

    it(`${np} ranks: byte counters count headers and payload per call kind`, () => {
      const H = 48;
      for (const o of job()) {
        const r = o.rank;
        const gatherOthers = Array.from({ length: np }, (_, k) => (k === r ? 0 : (k + 1) * 4)).reduce((a, b) => a + b, 0);
        assert.deepEqual(
          o.stats,
          {
            allReduce: { calls: 1, bytesSent: H + 80, bytesReceived: (np - 1) * (H + 80) },
            allGather: { calls: 1, bytesSent: H + (r + 1) * 4, bytesReceived: (np - 1) * H + gatherOthers },
            broadcast: { calls: 1, bytesSent: H + (r === 0 ? 20 : 0), bytesReceived: (np - 1) * H + (r === 0 ? 0 : 20) },
            barrier: { calls: 1, bytesSent: H, bytesReceived: (np - 1) * H },
          },
          `stats on rank ${r}`,
        );
      }
    });
  }

  it('3 ranks: the inputs are order-sensitive, so a sum in any other order would fail the checks above', () => {
    // Own rank first (what a rank adding its data before the gathered data does) and reverse
    // order both give other bytes than the rank-order reference for these inputs.
    for (const dtype of ['float64', 'float32']) {
      const parts = Array.from({ length: 3 }, (_, r) => data(dtype, `reduce-${dtype}-4099`, r, 4099));
      const want = b64(referenceSum(dtype, parts));
      assert.notEqual(b64(referenceSum(dtype, [parts[2], parts[1], parts[0]])), want, `${dtype}: reverse order gives the same bytes`);
      assert.notEqual(b64(referenceSum(dtype, [parts[2], parts[0], parts[1]])), want, `${dtype}: rank 2 first gives the same bytes`);
    }
  });

  it('is deterministic: a second run and a run with 24-byte chunks give the same bytes', () => {
    assert.deepEqual(jobs.twoAgain, jobs.two);
    for (let r = 0; r < 2; r++) assert.deepEqual(jobs.twoSmallChunks[r].results, jobs.two[r].results);
    console.log(`      (four mpirun jobs took ${jobs.seconds.toFixed(1)} s)`);
  });

  it('MPI requested by mpirun but libmpi missing: every rank gets the typed IOError', () => {
    const script = `import { dist } from ${JSON.stringify(new URL('../dist/dist/index.js', import.meta.url).href)};
try { dist.info(); console.log(JSON.stringify({ ok: true })); }
catch (e) { console.log(JSON.stringify({ name: e.constructor.name, argument: e.argument, message: e.message })); }`;
    const r = mpirun(2, ['--input-type=module', '-e', script], { QARM_MPI_LIB: '/nonexistent/libmpi.so.40' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const e of lines) {
      assert.equal(e.name, 'IOError');
      assert.equal(e.argument, 'QARM_MPI_LIB');
      assert.match(e.message, /MPI was requested \(OMPI_COMM_WORLD_SIZE=2\).*\/nonexistent\/libmpi\.so\.40/s);
    }
  });

  it('a rank that fails ends the whole job instead of leaving the others waiting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qarm-dist-'));
    try {
      const t0 = Date.now();
      const r = mpirun(2, [worker, dir, 'crash'], {}, 60000);
      assert.equal(r.error, undefined, `mpirun did not finish: ${r.error}`);
      assert.notEqual(r.status, 0, 'the job reported success');
      assert.ok(Date.now() - t0 < 30000, 'took longer than 30 s to end');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
