/**
 * Small file helpers of the pipeline: a writable output folder checked up front, JSON/HTML
 * written atomically, datasets loaded with one clear error.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IOError } from '../errors.js';
import { writeFileAtomic } from '../data/atomic.js';
import { bundledDatasetDir, datasetTableFiles, loadDataset, type Dataset } from '../data/dataset.js';

/** Creates `dir` if needed and proves it is writable; IOError with the reason otherwise. */
export function prepareOutDir(dir: string): string {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true });
    // Unique per process even across hosts: job-array tasks share the folder, and containers
    // often share a pid.
    const probe = join(abs, `.qarm-write-test-${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new IOError(`cannot write to output folder ${dir} (${err.code ?? err.message})`, 'out');
  }
  return abs;
}

/** Writes text atomically (temp file, fsync, rename). */
export function writeText(file: string, text: string): void {
  writeFileAtomic(file, new TextEncoder().encode(text));
}

/** Writes JSON atomically, with NaN/Infinity as null. */
export function writeJson(file: string, value: unknown): void {
  writeText(file, JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

/** Checks up front that `dir` looks like a dataset folder (before any work starts). */
export function checkDataDir(dir: string | null): void {
  const d = dir ?? bundledDatasetDir();
  let st;
  try {
    st = statSync(d);
  } catch {
    throw new IOError(`dataset folder ${d} does not exist`, 'data');
  }
  if (!st.isDirectory()) throw new IOError(`--data ${d} is not a folder (expected interactions.csv and items.csv inside)`, 'data');
  for (const t of ['interactions', 'items']) {
    const [csv, ...others] = datasetTableFiles(t);
    if (![csv, ...others].some((f) => existsSync(join(d, f))))
      throw new IOError(`dataset folder ${d} has no ${csv} (or ${others.join(', ')}); see README, "Bring your own data"`, 'data');
  }
}

/** Loads `--data DIR` (or the bundled dataset when null); errors name the folder. */
export async function loadData(dir: string | null, opts: { skipEmbeddings?: boolean } = {}): Promise<Dataset> {
  const d = dir ?? bundledDatasetDir();
  let st;
  try {
    st = statSync(d);
  } catch {
    throw new IOError(`dataset folder ${d} does not exist`, 'data');
  }
  if (!st.isDirectory()) throw new IOError(`--data ${d} is not a folder (expected interactions.csv and items.csv inside)`, 'data');
  const ds = await loadDataset(d, opts);
  if (ds.interactions.length === 0) throw new IOError(`${d}: interactions.csv has no rows`, 'data');
  return ds;
}
