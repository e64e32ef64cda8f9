/**
 * `qarm quantize --codebooks`: codes for one shard of a catalogue from saved codebooks, fitting
 * nothing, so a job array can encode a catalogue in parallel. Only the shard's rows of the
 * input are read; the outputs carry the shard's row offset and concatenate, in shard order, to
 * the codes a single `qarm quantize` run assigns. Under `mpirun -np N` each rank is one task of
 * such an array: rank r writes shard r of N.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IOError, ValueError } from '../errors.js';
import { writeNpy } from '../data/npy.js';
import { readNpyHeader, readNpyRows } from '../data/npy_rows.js';
import { Tensor } from '../tensor/tensor.js';
import { setNumThreads } from '../tensor/runtime.js';
import { loadCodebooks } from './codebooks.js';
import { prepareOutDir, writeJson } from './io.js';
import { resolveShard, shardFileName, shardRows, type ShardSpec } from './shard.js';
import { checkPoolInput, vqCodesOfRows } from './vq_pool.js';

/** Flags of {@link encodeShardCommand}. */
export interface EncodeShardFlags {
  input: string;
  out: string;
  codebooks: string[];
  shardIndex?: number;
  numShards?: number;
  threads?: number;
  /**
   * Under an MPI launcher: this process is rank `rank` of `worldSize`, and its shard is shard
   * `rank` of `worldSize` (the ranks are the tasks of a job array; `--shard-index`,
   * `--num-shards` and the job-array variables are refused with it).
   */
  mpi?: { rank: number; worldSize: number };
}

/** What {@link encodeShardCommand} wrote. */
export interface EncodeShardResult {
  rowOffset: number;
  rows: number;
  files: string[];
}

/** Shard `rank` of `worldSize`, after checking that nothing else names a shard. */
function mpiShard(o: EncodeShardFlags, env: NodeJS.ProcessEnv, mpi: { rank: number; worldSize: number }): ShardSpec {
  const other = o.shardIndex !== undefined || o.numShards !== undefined ? 'flags' : resolveShard({}, env).source;
  if (other !== 'default') {
    const what = other === 'flags' ? '--shard-index/--num-shards' : other;
    throw new ValueError(`${what} names a shard, but under mpirun each of the ${mpi.worldSize} ranks encodes its own shard; drop one of the two`, 'shardIndex');
  }
  return { index: mpi.rank, count: mpi.worldSize, source: 'mpi' };
}

/** Encodes this task's shard of `--input` with `--codebooks`; see the module comment. */
export function encodeShardCommand(o: EncodeShardFlags, env: NodeJS.ProcessEnv = process.env): EncodeShardResult {
  const t0 = Date.now();
  if (o.threads) setNumThreads(o.threads);
  if (!existsSync(o.input)) throw new IOError(`--input ${o.input} does not exist`, 'input');
  const cb = loadCodebooks(o.codebooks);
  const { dtype, shape } = readNpyHeader(o.input, 'input');
  if (dtype !== 'float32' || shape.length !== 2)
    throw new ValueError(`--input ${o.input}: expected float32 [N, D] embeddings, got ${dtype} [${shape.join(', ')}]`, 'input');
  const [n, d] = shape;
  if (d !== cb.dim) throw new ValueError(`--input ${o.input} has dim ${d}, the codebooks have ${cb.dim}`, 'input');
  if (cb.vq) checkPoolInput(cb.vq.pool, n, d, 'input');
  const shard = o.mpi ? mpiShard(o, env, o.mpi) : resolveShard(o, env);
  const [start, end] = shardRows(n, shard.index, shard.count);
  const out = prepareOutDir(o.out);
  const x = readNpyRows(o.input, start, end, 'input');
  const xs = x.f32();
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new ValueError(`--input ${o.input}: row ${start + Math.floor(i / d)}, column ${i % d} is ${xs[i]}`, 'input');
  }
  const rows = end - start;
  const files: string[] = [];
  if (cb.rq) {
    const L = cb.rq.model.levels;
    const codes = rows ? cb.rq.model.encode(x) : Tensor.fromArray(new Int32Array(0), [0, L], 'int32');
    files.push(shardFileName('rq_codes', 'npy', shard));
    writeNpy(join(out, files[files.length - 1]), codes);
    codes.dispose();
  }
  if (cb.vq) {
    const k = cb.vq.pool.k;
    files.push(shardFileName('vq_codes', 'npy', shard));
    writeNpy(join(out, files[files.length - 1]), Tensor.fromArray(vqCodesOfRows(x, start, cb.vq.pool), [rows, k], 'int32'));
  }
  x.dispose();
  const json = shardFileName('shard', 'json', shard);
  // Written last: its presence says the shard's code files are complete.
  writeJson(join(out, json), {
    worldSize: o.mpi?.worldSize ?? 1,
    shard: { index: shard.index, count: shard.count, source: shard.source },
    rowOffset: start,
    rows,
    inputRows: n,
    dim: d,
    input: o.input,
    codebooks: { rq: cb.rq?.file, vq: cb.vq?.file },
    rq: cb.rq ? { levels: cb.rq.model.levels, codebookSize: cb.rq.model.codebookSizes } : undefined,
    vq: cb.vq ? { k: cb.vq.pool.k, poolSize: cb.vq.pool.rows.length } : undefined,
    files: [...files, json],
    seconds: (Date.now() - t0) / 1000,
  });
  return { rowOffset: start, rows, files: [...files, json] };
}
