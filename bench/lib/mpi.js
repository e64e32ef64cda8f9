// The 2-rank half of the distributed suites: each suite reruns itself under mpirun with
// `--worker FILE`, and rank 0 (or every rank) writes its rows there.
import { spawnSync } from 'node:child_process';

/** First line of `mpirun --version`, or 'none'. */
export function mpiVersion() {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'none' : (r.stdout.split('\n')[0] ?? '').trim();
}

/**
 * Runs `node <script> --worker <file> ...args` on `np` ranks (root allowed, oversubscribed,
 * without the calling shell's qarm/dist settings). Returns null on success, else a note saying
 * why the rows are missing.
 */
export function runWorkers(scriptUrl, file, args = [], np = 2) {
  const env = { ...process.env };
  for (const k of ['QARM_DIST', 'QARM_MPI_LIB', 'QARM_DIST_CHUNK_BYTES']) delete env[k];
  const self = new URL(scriptUrl).pathname;
  const r = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', String(np), process.execPath, self, '--worker', file, ...args], {
    env,
    encoding: 'utf8',
  });
  if (!r.error && r.status === 0) return null;
  return `${np}-rank rows missing: mpirun failed or is not installed (${r.error?.message ?? `exit ${r.status}: ${r.stderr.slice(0, 300)}`})`;
}
