// One rank of the MPI collective tests (test/dist_mpi.test.js starts it under mpirun). Runs
// every case, catches the errors the cases expect, and writes what this rank saw to
// <outDir>/rank<r>.json: results as base64 bytes, errors as {name, code, argument, message}.
// Usage: node dist_worker.mjs <outDir> [scenario]   scenario: all (default) | crash
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist } from '../../dist/dist/index.js';
import { data, REDUCE_SIZES, GATHER_LENGTHS, BROADCAST_LENGTH } from './dist_data.js';

const [outDir, scenario = 'all'] = process.argv.slice(2);
const rank = dist.rank;
const size = dist.worldSize;
const out = { rank, size, backend: dist.backend, results: {}, errors: {}, checks: {} };

const b64 = (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
function expectError(name, fn) {
  try {
    fn();
    out.errors[name] = null;
  } catch (e) {
    out.errors[name] = { name: e.constructor.name, code: e.code, argument: e.argument, message: e.message };
  }
}

if (scenario === 'crash') {
  // Rank 1 fails outside any collective while rank 0 waits in one: the job must end, not hang.
  if (rank === 1) throw new Error('rank 1 fails on purpose');
  dist.allReduce(new Float64Array(4));
  process.exit(0);
}

for (const dtype of ['float64', 'float32', 'int32']) {
  for (const n of REDUCE_SIZES) {
    const x = data(dtype, `reduce-${dtype}-${n}`, rank, n);
    const copy = x.slice();
    const y = dist.allReduce(x);
    out.results[`allReduce/${dtype}/${n}`] = b64(y);
    out.checks[`allReduce/${dtype}/${n}/inputUntouched`] = Buffer.compare(Buffer.from(copy.buffer), Buffer.from(x.buffer)) === 0;
    out.checks[`allReduce/${dtype}/${n}/type`] = y.constructor === x.constructor && y !== x;
  }
  const x = data(dtype, `reduce-${dtype}-17`, rank, 17);
  const y = dist.allReduceInPlace(x);
  out.results[`allReduceInPlace/${dtype}/17`] = b64(x);
  out.checks[`allReduceInPlace/${dtype}/sameObject`] = y === x;
}

// Views into a larger buffer: only the view's own elements travel.
{
  const x = data('float64', 'view', rank, 40);
  out.results['view/allReduce'] = b64(dist.allReduce(x.subarray(5, 5 + 17)));
  out.results['view/allGather'] = dist.allGather(x.subarray(3 + rank, 10)).map(b64);
}

for (const dtype of ['float32', 'float64', 'int32', 'uint8']) {
  GATHER_LENGTHS.forEach((len, k) => {
    const parts = dist.allGather(data(dtype, `gather-${dtype}-${k}`, rank, len(rank)));
    out.results[`allGather/${dtype}/${k}`] = parts.map(b64);
    out.checks[`allGather/${dtype}/${k}/oneBuffer`] = parts.every((p) => p.buffer === parts[0].buffer);
  });
}

for (let root = 0; root < size; root++) {
  for (const dtype of ['float64', 'uint8']) {
    const x = rank === root ? data(dtype, `bcast-${dtype}-${root}`, root, BROADCAST_LENGTH) : data(dtype, 'placeholder', rank, rank);
    out.results[`broadcast/${dtype}/${root}`] = b64(dist.broadcast(x, root));
  }
}

// Barrier: the last rank arrives 300 ms late; every other rank must wait for it.
{
  const t0 = Date.now();
  if (rank === size - 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  dist.barrier();
  out.checks.barrierWaited = rank === size - 1 || Date.now() - t0 >= 250;
}

// Errors: every rank passes its own (mismatched or bad) argument and must get the same typed error.
expectError('lengthMismatch', () => dist.allReduce(new Float64Array(3 + rank)));
expectError('dtypeMismatch', () => dist.allReduce(rank === 0 ? new Float32Array(3) : new Float64Array(3)));
expectError('notTypedArray', () => dist.allReduce(rank === 1 ? [1, 2, 3] : new Float64Array(3)));
expectError('uint8Reduce', () => dist.allReduce(new Uint8Array(3)));
expectError('gatherDtype', () => dist.allGather(rank === 0 ? new Int32Array(2) : new Float32Array(2)));
expectError('rootTooLarge', () => dist.broadcast(new Float64Array(2), size));
expectError('rootNegative', () => dist.broadcast(new Float64Array(2), -1));
expectError('rootFraction', () => dist.broadcast(new Float64Array(2), 0.5));
expectError('rootsDiffer', () => dist.broadcast(new Float64Array(2), rank));
{
  const big = new Int32Array([2 ** 30, 7]);
  expectError('int32Overflow', () => dist.allReduceInPlace(big));
  out.checks.int32OverflowUntouched = big[0] === 2 ** 30 && big[1] === 7;
}
// The addon's own checks, below lib/dist: nothing reaches MPI with a block outside its buffer.
{
  const { native } = await import('../../dist/tensor/native.js');
  const counts = new Int32Array(size).fill(4);
  const displs = Int32Array.from({ length: size }, (_, r) => 4 * r);
  expectError('nativeRecvShort', () => native.mpiAllgatherv(new Uint8Array(4), new Uint8Array(4 * size - 1), counts, displs));
  expectError('nativeCountsShort', () => native.mpiAllgatherv(new Uint8Array(4), new Uint8Array(4 * size), counts.subarray(1), displs.subarray(1)));
  expectError('nativeSendLength', () => native.mpiAllgatherv(new Uint8Array(5), new Uint8Array(4 * size), counts, displs));
  expectError('nativeNegative', () =>
    native.mpiAllgatherv(
      new Uint8Array(4),
      new Uint8Array(4 * size),
      counts,
      Int32Array.from(displs, (d) => d - 4),
    ),
  );
  expectError('nativeRoot', () => native.mpiBcast(new Uint8Array(4), size));
  expectError('nativeNotBytes', () => native.mpiBcast(new Float32Array(1), 0));
}

// Still in step after the errors.
out.results.afterErrors = b64(dist.allReduce(Float64Array.of(rank + 0.5)));

// Byte counters for one call of each kind (header: 48 bytes per rank).
dist.resetStats();
dist.allReduce(new Float64Array(10));
dist.allGather(new Float32Array(rank + 1));
dist.broadcast(new Int32Array(rank === 0 ? 5 : 0), 0);
dist.barrier();
out.stats = dist.stats();

writeFileSync(join(outDir, `rank${rank}.json`), JSON.stringify(out));
