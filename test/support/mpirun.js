// Running test workers under Open MPI's mpirun, shared by the MPI test files: whether mpirun is
// usable (the reason to skip when not), an environment without the calling shell's qarm/dist
// settings, and a job whose ranks each write rank<k>.json into a temporary folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** mpirun's flags for CI (root, more ranks than cores). */
export const MPIRUN = ['--allow-run-as-root', '--oversubscribe'];

/** Why the MPI tests cannot run here, or null when Open MPI's mpirun is available. */
export function mpirunMissing() {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'mpirun not found (apt-get install openmpi-bin)';
  if (!/Open MPI|OpenRTE/i.test(r.stdout + r.stderr)) return `mpirun is not Open MPI's: ${r.stdout.split('\n')[0]}`;
  return null;
}

/** The environment minus any qarm/dist settings of the calling shell, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of ['QARM_DIST', 'QARM_MPI_LIB', 'QARM_DIST_CHUNK_BYTES']) delete env[k];
  return { ...env, ...extra };
}

/** `mpirun -np np node ...args`, synchronously. */
export function mpirun(np, args, env = {}, timeout = 60000) {
  return spawnSync('mpirun', [...MPIRUN, '-np', String(np), 'node', ...args], { env: cleanEnv(env), encoding: 'utf8', timeout });
}

/** Runs `worker <dir> ...args` on `np` ranks and returns each rank's rank<k>.json, in rank order. */
export function runJob(worker, np, { env = {}, args = [], prefix = 'qarm-mpi-', timeout = 120000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const r = mpirun(np, [worker, dir, ...args], env, timeout);
    assert.equal(r.status, 0, `mpirun -np ${np} failed (${r.status}, ${r.signal}):\n${r.stdout}\n${r.stderr}`);
    return Array.from({ length: np }, (_, k) => JSON.parse(readFileSync(join(dir, `rank${k}.json`), 'utf8')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A base64 string a worker wrote (lib/dist workers send float32 arrays this way) as float32. */
export const f32 = (s) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};

/** Largest |a − b|, and largest |a − b| / max(|b|, 1e-3) (relative, floored for weights near 0). */
export function diffs(a, b) {
  assert.equal(a.length, b.length);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(b[i]), 1e-3));
  }
  return { abs, rel };
}
