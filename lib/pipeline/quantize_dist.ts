/**
 * `qarm quantize` (the fit path) under an MPI launcher: the ranks share the rows of `--input`
 * and write what one process writes.
 *
 * - Rows: rank r reads only its contiguous shard (`shardRows(n, r, worldSize)`, as
 *   `--shard-index` does), so no rank holds the whole table for the fit.
 * - RQ: `RQKMeans.fit(shard, { dist })` (the distributed fit of lib/quant, the one-process fit of
 *   all the rows; docs/scale.md), then each rank encodes its rows; the codes are gathered (rank
 *   order is row order) and rank 0 writes them and the codebooks (the same on every rank).
 * - Stats: rank 0 computes the code statistics on the gathered codes; each level's reconstruction
 *   error needs the embeddings, so every rank sums its rows' squared norm and squared residuals in
 *   float64 and one allReduce adds them (the one-process sums, added in another order).
 * - VQ: an item's codes are its nearest items of the whole pool, so the pool's embeddings are
 *   gathered to every rank (P · D · 4 bytes each), every rank computes its rows' codes and they
 *   are gathered to rank 0. The pool mask (`--pool`, one entry per row) is read by every rank.
 *
 * Only rank 0 checks and writes `--out` and prints; the other ranks create and write nothing.
 */
import { join } from 'node:path';
import { ValueError } from '../errors.js';
import { readNpy, writeNpy } from '../data/npy.js';
import { readNpyHeader, readNpyRows } from '../data/npy_rows.js';
import { Tensor } from '../tensor/tensor.js';
import type { Communicator } from '../dist/index.js';
import { RQKMeans } from '../quant/rqkmeans.js';
import { codeStats } from '../quant/vq_codes.js';
import { RQ_FILE, VQ_FILE } from './codebooks.js';
import { writeQuantizeStats, type QuantizeVqStats } from './quantize_stats.js';
import { prepareOutDir } from './io.js';
import { shardRows } from './shard.js';
import { saveVqPool, vqCodesOfRows } from './vq_pool.js';
import type { Progress } from './progress.js';

/** Flags of the fit path of `qarm quantize`. */
export interface QuantizeFitFlags {
  input: string;
  out: string;
  levels: number;
  codebookSize: number;
  iterations: number;
  vqK: number;
  pool?: string;
  seed: number;
}

function concat<T extends Int32Array | Float32Array>(parts: T[], C: { new (n: number): T }): T {
  const out = new C(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as never, o);
    o += p.length;
  }
  return out;
}

/** Σ‖x‖² and, per level, Σ‖residual‖² of `x`'s rows under `codes` (codeStats' loop, float64). */
function reconstructionSums(x: Float32Array, d: number, codes: Int32Array, codebooks: Tensor[]): Float64Array {
  const L = codebooks.length;
  const n = x.length / d;
  const r = Float64Array.from(x);
  const sums = new Float64Array(1 + L);
  for (const v of r) sums[0] += v * v;
  for (let l = 0; l < L; l++) {
    const ca = codebooks[l].readHost();
    let err = 0;
    for (let i = 0; i < n; i++) {
      const c = codes[i * L + l];
      for (let j = 0; j < d; j++) {
        r[i * d + j] -= ca[c * d + j];
        err += r[i * d + j] * r[i * d + j];
      }
    }
    sums[1 + l] = err;
  }
  return sums;
}

/** The fit path of `qarm quantize` on `comm.worldSize` > 1 ranks; see the module comment. */
export function quantizeDistributed(o: QuantizeFitFlags, comm: Communicator, progress: Progress): void {
  const W = comm.worldSize;
  const rank = comm.rank;
  const { dtype, shape } = readNpyHeader(o.input, 'input');
  if (dtype !== 'float32' || shape.length !== 2)
    throw new ValueError(`--input ${o.input}: expected float32 [N, D] embeddings, got ${dtype} [${shape.join(', ')}]`, 'input');
  const [n, d] = shape;
  if (n < o.codebookSize) throw new ValueError(`--input has ${n} rows, fewer than --codebook-size ${o.codebookSize}`, 'codebookSize');
  if (n < W) throw new ValueError(`--input has ${n} rows, fewer than the ${W} ranks of the job`, 'input');
  // Rank 0 alone checks and writes the folder; a failure there exits non-zero, which ends the job.
  const out = rank === 0 ? prepareOutDir(o.out) : '';
  const t0 = Date.now();
  const [start, end] = shardRows(n, rank, W);
  const x = readNpyRows(o.input, start, end, 'input');
  const task = progress.task('rq-kmeans', o.levels);
  const rq = new RQKMeans({ levels: o.levels, codebookSize: o.codebookSize, iterations: o.iterations, seed: o.seed }).fit(x, { dist: comm });
  task.done();
  const myCodes = rq.encode(x);
  const myCodesHost = Int32Array.from(myCodes.i32());
  myCodes.dispose();
  const codesAll = concat(comm.allGather(myCodesHost), Int32Array);
  const sums = comm.allReduce(reconstructionSums(x.f32(), d, myCodesHost, rq.codebooks));

  let vqCodes: Int32Array | undefined;
  let pool: { pool: Tensor; rows: Int32Array; k: number; inputRows: number } | undefined;
  if (o.vqK > 0) {
    let inPool = (_i: number): boolean => true;
    if (o.pool) {
      const m = readNpy(o.pool);
      const a = m.dtype === 'int32' ? m.i32() : m.f32();
      if (a.length !== n) throw new ValueError(`--pool ${o.pool}: expected ${n} entries (one per row of --input), got ${a.length}`, 'pool');
      inPool = (i) => a[i] !== 0;
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (inPool(i)) rows.push(i);
    if (o.vqK >= rows.length) throw new ValueError(`--vq-k ${o.vqK} must be smaller than the pool (${rows.length} rows)`, 'vqK');
    // This rank's pool rows, in row order; the ranks' parts in rank order are the whole pool.
    const xs = x.f32();
    const mine = rows.filter((r) => r >= start && r < end);
    const part = new Float32Array(mine.length * d);
    mine.forEach((r, i) => part.set(xs.subarray((r - start) * d, (r - start + 1) * d), i * d));
    const pv = concat(comm.allGather(part), Float32Array);
    pool = { pool: Tensor.fromArray(pv, [rows.length, d], 'float32'), rows: Int32Array.from(rows), k: o.vqK, inputRows: n };
    vqCodes = concat(comm.allGather(vqCodesOfRows(x, start, pool)), Int32Array);
  }
  if (rank !== 0) return;

  const codes = Tensor.fromArray(codesAll, [n, o.levels], 'int32');
  rq.save(join(out, RQ_FILE));
  writeNpy(join(out, 'rq_codes.npy'), codes);
  const st = codeStats(codes, o.codebookSize);
  st.levels.forEach((l, i) => (l.relativeError = sums[0] > 0 ? sums[1 + i] / sums[0] : 0));
  let vq: QuantizeVqStats | undefined;
  if (pool && vqCodes) {
    writeNpy(join(out, 'vq_codes.npy'), Tensor.fromArray(vqCodes, [n, o.vqK], 'int32'));
    saveVqPool(join(out, VQ_FILE), pool);
    vq = { k: o.vqK, poolSize: pool.rows.length };
  }
  writeQuantizeStats(out, W, o, { n, dim: d }, st, rq.relativeError, vq, t0);
  process.stdout.write(
    `RQ codes: ${n} x ${o.levels} levels (fitted on ${W} ranks)\n` +
      (vq ? `VQ codes: ${n} x ${o.vqK} from a pool of ${vq.poolSize}\n` : '') +
      `wrote ${out}/stats.json\n`,
  );
}
