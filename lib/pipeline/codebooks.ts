/**
 * The saved codebooks of `qarm quantize`, read back for `qarm quantize --codebooks`: the RQ
 * codebooks (`rq.safetensors`, {@link RQKMeans.load}) and the VQ pool (`vq.safetensors`,
 * lib/pipeline/vq_pool.ts). Each problem is an error naming `--codebooks` and the file.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IOError, QarmError, ValueError } from '../errors.js';
import { readSafetensors } from '../data/safetensors.js';
import { RQ_FORMAT, RQKMeans } from '../quant/rqkmeans.js';
import { VQ_POOL_FORMAT, vqPoolFrom, type VqPool } from './vq_pool.js';

/** File names `qarm quantize` gives its codebooks inside its output folder. */
export const RQ_FILE = 'rq.safetensors';
export const VQ_FILE = 'vq.safetensors';

/** Codebooks loaded from `--codebooks`: at least one of the two. */
export interface Codebooks {
  rq?: { model: RQKMeans; file: string };
  vq?: { pool: VqPool; file: string };
  /** Their embedding dimension. */
  dim: number;
}

const ARG = 'codebooks';

function fail(msg: string): never {
  throw new IOError(`--codebooks ${msg}`, ARG);
}

function loadRq(file: string): RQKMeans {
  let m: RQKMeans;
  try {
    m = RQKMeans.load(file);
  } catch (e) {
    if (e instanceof QarmError) fail(e.message);
    throw e;
  }
  m.codebooks.forEach((c, l) => {
    const a = c.f32();
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) fail(`${file}: codebook_${l} row ${Math.floor(i / m.dim)} holds ${a[i]}`);
  });
  return m;
}

/** The files a `--codebooks` entry stands for: a file itself, or the codebooks in a folder. */
function expand(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    fail(`${path} does not exist`);
  }
  if (!st.isDirectory()) return [path];
  const files = [RQ_FILE, VQ_FILE].map((f) => join(path, f)).filter((f) => existsSync(f));
  if (!files.length) fail(`${path} holds neither ${RQ_FILE} nor ${VQ_FILE} (is it an output folder of qarm quantize?)`);
  return files;
}

/**
 * Loads the codebooks named by `--codebooks` (files, or `qarm quantize` output folders, whose
 * `rq.safetensors` and `vq.safetensors` are taken), telling each file's kind by its metadata.
 * @throws IOError for a missing, corrupt or foreign file or missing/ill-shaped tensors;
 *   ValueError for two files of one kind or codebooks of different dimensions.
 */
export function loadCodebooks(paths: readonly string[]): Codebooks {
  if (!Array.isArray(paths) || paths.length === 0) throw new ValueError('--codebooks needs at least one file or folder', ARG);
  const out: Partial<Codebooks> = {};
  for (const file of paths.flatMap(expand)) {
    let format: string | undefined;
    let content;
    try {
      content = readSafetensors(file);
      format = content.metadata.format;
    } catch (e) {
      if (e instanceof QarmError) fail(e.message);
      throw e;
    }
    if (format === RQ_FORMAT) {
      if (out.rq) throw new ValueError(`--codebooks names two RQ codebook files (${out.rq.file}, ${file})`, ARG);
      out.rq = { model: loadRq(file), file };
    } else if (format === VQ_POOL_FORMAT) {
      if (out.vq) throw new ValueError(`--codebooks names two VQ pool files (${out.vq.file}, ${file})`, ARG);
      out.vq = { pool: vqPoolFrom(file, content.tensors, content.metadata, ARG), file };
    } else {
      fail(`${file}: not a qarm codebook file (metadata format ${JSON.stringify(format)}, expected '${RQ_FORMAT}' or '${VQ_POOL_FORMAT}')`);
    }
  }
  const rqDim = out.rq?.model.dim;
  const vqDim = out.vq?.pool.pool.shape[1];
  if (rqDim !== undefined && vqDim !== undefined && rqDim !== vqDim) {
    throw new ValueError(`--codebooks: the RQ codebooks have dim ${rqDim} but the VQ pool has dim ${vqDim}`, ARG);
  }
  return { ...out, dim: (rqDim ?? vqDim) as number };
}
