/**
 * The saved VQ "codebook" of `qarm quantize`: QARM's VQ code of an item is its k nearest pool
 * items, so the codebook is the pool itself — its embeddings and their row numbers in the
 * input that was quantised. Saved as safetensors (`pool` float32 [P, D], `rows` int32 [P],
 * JSON config in the metadata) so a sharded encode can compute the same codes without the rest
 * of the catalogue.
 */
import { IOError, ValueError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../data/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import { vqCodes } from '../quant/vq_codes.js';

export const VQ_POOL_FORMAT = 'qarm.vqpool';
const VQ_POOL_VERSION = '1';

/** A VQ pool: what VQ codes are computed against. */
export interface VqPool {
  /** float32 [P, D]: the pool's embeddings. */
  pool: Tensor;
  /** The pool's row numbers in the quantised input, ascending (codes name these). */
  rows: Int32Array;
  /** Code length: neighbours per item. */
  k: number;
  /** Rows of the input the pool was taken from (codes and self-exclusion refer to its rows). */
  inputRows: number;
}

/** Writes a VQ pool atomically. */
export function saveVqPool(path: string, p: VqPool): void {
  writeSafetensors(
    path,
    { pool: p.pool, rows: Tensor.fromArray(p.rows, [p.rows.length], 'int32') },
    {
      format: VQ_POOL_FORMAT,
      version: VQ_POOL_VERSION,
      config: JSON.stringify({ k: p.k, metric: 'cosine', inputRows: p.inputRows }),
    },
  );
}

/**
 * Checks a decoded VQ pool file (tensors + metadata) and returns it.
 * @throws IOError (argument `arg`) naming the file and what is wrong.
 */
export function vqPoolFrom(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string>, arg: string): VqPool {
  const bad = (why: string): never => {
    throw new IOError(`--${arg} ${file}: ${why}`, arg);
  };
  let cfg: { k?: unknown; metric?: unknown; inputRows?: unknown };
  try {
    cfg = JSON.parse(metadata.config ?? '');
  } catch {
    return bad("metadata 'config' is not valid JSON");
  }
  if (typeof cfg !== 'object' || cfg === null) return bad("metadata 'config' is not a JSON object");
  const { pool, rows } = tensors;
  if (!pool || pool.dtype !== 'float32' || pool.rank !== 2 || pool.shape[0] < 2 || pool.shape[1] < 1) {
    return bad(`tensor 'pool' is missing or not float32 [P >= 2, D], got ${pool ? `${pool.dtype} [${pool.shape.join(', ')}]` : 'nothing'}`);
  }
  const [p] = pool.shape;
  if (!rows || rows.dtype !== 'int32' || rows.rank !== 1 || rows.shape[0] !== p) {
    return bad(`tensor 'rows' is missing or not int32 [${p}], got ${rows ? `${rows.dtype} [${rows.shape.join(', ')}]` : 'nothing'}`);
  }
  if (cfg.metric !== 'cosine') bad(`metric ${JSON.stringify(cfg.metric)} is not 'cosine'`);
  const inputRows = cfg.inputRows;
  if (!Number.isInteger(inputRows) || (inputRows as number) < p) bad(`config inputRows ${JSON.stringify(inputRows)} must be an integer >= the ${p} pool rows`);
  const k = cfg.k;
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) >= p) bad(`config k ${JSON.stringify(k)} must be an integer in [1, ${p - 1}]`);
  const r = Int32Array.from(rows.i32());
  for (let i = 0; i < p; i++) {
    if (r[i] < 0 || r[i] >= (inputRows as number) || (i > 0 && r[i] <= r[i - 1])) bad(`'rows' must ascend within [0, ${inputRows}), entry ${i} is ${r[i]}`);
  }
  const a = pool.f32();
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) bad(`'pool' row ${Math.floor(i / pool.shape[1])} holds ${a[i]}`);
  return { pool, rows: r, k: k as number, inputRows: inputRows as number };
}

/** Reads a file written by {@link saveVqPool}. @throws IOError (argument `arg`) naming the file. */
export function loadVqPool(file: string, arg = 'codebooks'): VqPool {
  let content;
  try {
    content = readSafetensors(file);
  } catch (e) {
    throw new IOError(`--${arg}: ${(e as Error).message}`, arg);
  }
  if (content.metadata.format !== VQ_POOL_FORMAT)
    throw new IOError(`--${arg} ${file}: not a qarm VQ pool (format ${JSON.stringify(content.metadata.format)})`, arg);
  return vqPoolFrom(file, content.tensors, content.metadata, arg);
}

/**
 * VQ codes of `x` (rows `rowOffset ..` of the quantised input) against a pool: each row's k
 * nearest pool items by cosine, as row numbers of the input, an item never naming itself.
 * int32 [N * k], row-major. Rows are independent, so a shard's codes are the whole run's.
 */
export function vqCodesOfRows(x: Tensor, rowOffset: number, p: Pick<VqPool, 'pool' | 'rows' | 'k'>): Int32Array {
  const n = x.shape[0];
  const k = p.k;
  const vc = new Int32Array(n * k);
  if (n === 0) return vc;
  const t = vqCodes(x, p.pool, { k: k + 1, metric: 'cosine' });
  const idx = t.i32();
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j <= k && w < k; j++) {
      const r = p.rows[idx[i * (k + 1) + j]];
      if (r !== rowOffset + i) vc[i * k + w++] = r;
    }
  }
  t.dispose();
  return vc;
}

/** Rejects a pool that codes of `inputRows` rows cannot be computed against. */
export function checkPoolInput(p: VqPool, inputRows: number, dim: number, arg: string): void {
  if (p.pool.shape[1] !== dim) throw new ValueError(`--${arg} has dim ${dim}, the VQ pool has ${p.pool.shape[1]}`, arg);
  if (inputRows !== p.inputRows) {
    throw new ValueError(
      `--${arg} has ${inputRows} rows, but the VQ pool's codes name rows of a ${p.inputRows}-row input (encode the catalogue the pool came from)`,
      arg,
    );
  }
}
