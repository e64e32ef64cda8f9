// Code assignment with fixed codebooks (issue 17): RQ codes (RQKMeans.encode) and VQ codes
// (vqCodes, top-k nearest pool items, cosine) per process, at 1 process and at 2 processes that
// each encode half the rows, as a job array would. Writes bench/results/dist_encode.md.
//   node bench/suites/dist_encode.js [--quick]      (also `npm run bench dist_encode`)
// The 2-process rows start themselves under `mpirun -np 2` only to start both halves together
// (a barrier before and after each timed call); encoding exchanges nothing, so the bytes column
// is the barrier's. Both halves' codes are checked against the 1-process codes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as q from '../../dist/index.js';
import { mpiVersion, runWorkers } from '../lib/mpi.js';
import { mixture } from '../lib/data.js';
import { machineLine, markdownTable } from '../lib/peers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const workerOut = argv.includes('--worker') ? argv[argv.indexOf('--worker') + 1] : null;
// D = 64 is the aligner's default output width; RQ 3 x 64 and k = 25 are the run's defaults.
const CFG = quick ? { N: 20000, D: 64, L: 3, K: 64, P: 5000, k: 25 } : { N: 100000, D: 64, L: 3, K: 64, P: 20000, k: 25 };
const REPS = quick ? 1 : 3;

/** Encodes this process's shard; returns timings (wall, barriers included when 2 ranks) and codes. */
function measure(threads) {
  q.setNumThreads(threads);
  const { dist } = q;
  const { N, D, L, K, P, k } = CFG;
  const all = mixture(N, D, 11);
  const start = Math.floor((dist.rank * N) / dist.worldSize);
  const end = Math.floor(((dist.rank + 1) * N) / dist.worldSize);
  const x = q.tensor(all.slice(start * D, end * D), [end - start, D]);
  // The codebooks every task loads: RQ fitted on the first 16384 rows, the VQ pool = the first P rows.
  const fitRows = q.tensor(all.slice(0, 16384 * D), [16384, D]);
  const rq = new q.RQKMeans({ levels: L, codebookSize: K, iterations: 10, seed: 3 }).fit(fitRows);
  const pool = q.tensor(all.slice(0, P * D), [P, D]);
  const time = (fn) => {
    let best = Infinity;
    let out;
    for (let r = 0; r < REPS + 1; r++) {
      if (dist.worldSize > 1) dist.barrier();
      const t0 = process.hrtime.bigint();
      const res = fn();
      if (dist.worldSize > 1) dist.barrier(); // the slower half ends the step
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r > 0 && ms < best) best = ms; // the first call warms up
      if (out) out.dispose();
      out = res;
    }
    const codes = out.toTypedArray().slice();
    out.dispose();
    return { ms: best, codes };
  };
  dist.resetStats();
  const enc = time(() => rq.encode(x));
  const vq = time(() => q.vqCodes(x, pool, { k, metric: 'cosine' }));
  const s = dist.stats();
  const bytes = Object.values(s).reduce((a, c) => a + (c.bytesSent ?? 0), 0);
  x.dispose();
  fitRows.dispose();
  pool.dispose();
  return { threads, ranks: dist.worldSize, rq: enc, vq, bytesSent: bytes };
}

function row(m, what) {
  const { N, D, L, K, P, k } = CFG;
  const t = m[what];
  const flops = what === 'rq' ? 2 * N * L * K * D : 2 * N * P * D;
  return {
    stage: what === 'rq' ? `RQ encode (${L} x ${K})` : `VQ codes (top-${k} of ${P} pool rows, cosine)`,
    processes: m.ranks,
    'threads/process': m.threads,
    N,
    D,
    'ms (all N rows)': t.ms,
    'items/s (all processes)': Math.round(N / (t.ms / 1e3)),
    'items/s per process': Math.round(N / m.ranks / (t.ms / 1e3)),
    'GFLOP/s (distance GEMM part)': flops / (t.ms * 1e6),
    'bytes sent per process (barriers)': m.ranks > 1 ? m.bytesSent : 0,
    'halves = 1 process': '—',
  };
}

const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

if (workerOut) {
  const m = measure(1);
  fs.writeFileSync(
    `${workerOut}.${q.dist.rank}`,
    JSON.stringify({ ...m, rq: { ms: m.rq.ms, codes: b64(m.rq.codes) }, vq: { ms: m.vq.ms, codes: b64(m.vq.codes) } }),
  );
} else {
  const two = measure(2);
  const one = measure(1);
  const rows = [row(two, 'rq'), row(one, 'rq'), row(two, 'vq'), row(one, 'vq')];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qarm-bench-enc-'));
  const file = path.join(tmp, 'rank');
  const note = runWorkers(import.meta.url, file, quick ? ['--quick'] : []);
  if (note) {
    console.log(`  [${note}]`);
  } else {
    const parts = [0, 1].map((rk) => JSON.parse(fs.readFileSync(`${file}.${rk}`, 'utf8')));
    const m = { ranks: 2, threads: 1, bytesSent: parts[0].bytesSent, rq: { ms: parts[0].rq.ms }, vq: { ms: parts[0].vq.ms } };
    const i32 = (s) => {
      const b = Buffer.from(s, 'base64');
      return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    };
    const same = (what) => {
      const cat = [...i32(parts[0][what].codes), ...i32(parts[1][what].codes)];
      const ref = one[what].codes;
      return cat.length === ref.length && cat.every((v, i) => v === ref[i]);
    };
    rows.splice(2, 0, { ...row(m, 'rq'), 'halves = 1 process': same('rq') ? 'yes' : 'NO' });
    rows.push({ ...row(m, 'vq'), 'halves = 1 process': same('vq') ? 'yes' : 'NO' });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const table = markdownTable(rows);
  console.log(table);
  const cmd = `node bench/suites/dist_encode.js${quick ? ' --quick' : ''}`;
  const md = [
    '# Code assignment benchmark (fixed codebooks, one shard per process)',
    '',
    `Command: \`${cmd}\` (also \`npm run bench dist_encode\`). Machine: ${machineLine()}. ISA: ${q.isa().current}. MPI: ${mpiVersion()} (only to start the two halves together).`,
    `Date: ${new Date().toISOString()}. Load average at the start: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores. The VM is shared with other engineers' builds and tests, so the times are upper bounds; compare rows of one run.`,
    '',
    `Best of ${REPS} after a warm-up. RQ: \`RQKMeans.encode\` (codebooks fitted on the first 16384 rows). VQ: \`vqCodes(x, pool, { k, metric: 'cosine' })\` against the first P rows. ` +
      '"items/s per process" is the rate one process sustains on its shard; two processes on this 2-core VM share the cores the 1-process, 2-thread row uses, ' +
      'so they show that encoding needs no exchange (only the timing barriers), not a speed-up. "GFLOP/s" counts the distance GEMM only (2·N·L·K·D for RQ, 2·N·P·D for VQ).',
    ...(note ? ['', note] : []),
    '',
    table,
    '',
  ].join('\n');
  fs.writeFileSync(new URL(`../results/dist_encode${quick ? '_quick' : ''}.md`, import.meta.url).pathname, md);
}
