// Distributed k-means (kmeans with `dist`, issue 17): Lloyd iteration throughput at 1 rank
// and at 2 ranks under mpirun, each rank holding half the rows, and the bytes one iteration
// exchanges (dist.stats()). Writes bench/results/dist_kmeans.md.
//   node bench/suites/dist_kmeans.js [--quick]      (also `npm run bench dist_kmeans`)
// The suite starts itself under `mpirun -np 2` for the 2-rank rows (Open MPI needed; without it
// those rows say so). Per-iteration time = (fit with I iterations - fit with 0) / I, best of
// `reps`, so the seeding and the final assignment are left out; both fits start from the same
// tensor init (broadcast from rank 0), and every row trains (maxPointsPerCentroid 0).
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
const CONFIGS = quick
  ? [{ N: 20000, D: 64, K: 256, iters: 5 }]
  : [
      { N: 50000, D: 64, K: 256, iters: 8 },
      { N: 50000, D: 32, K: 1024, iters: 5 },
      { N: 20000, D: 64, K: 4096, iters: 3 },
    ];
const REPS = quick ? 1 : 3;

/** Measures every config on this process's rank; returns rows (rank 0's view). */
function measure(threads) {
  q.setNumThreads(threads);
  const { dist } = q;
  const size = dist.worldSize;
  const rank = dist.rank;
  const rows = [];
  for (const { N, D, K, iters } of CONFIGS) {
    const all = mixture(N, D, N + D);
    const start = Math.floor((rank * N) / size);
    const end = Math.floor(((rank + 1) * N) / size);
    const x = q.tensor(all.slice(start * D, end * D), [end - start, D]);
    const init = q.tensor(all.slice(0, K * D), [K, D]);
    // dist, with the time spent in allReduce (waiting for the other rank included) counted.
    let reduceMs = 0;
    const comm = {
      get rank() {
        return dist.rank;
      },
      get worldSize() {
        return dist.worldSize;
      },
      allGather: (a) => dist.allGather(a),
      broadcast: (a, root) => dist.broadcast(a, root),
      allReduce: (a) => {
        const t0 = process.hrtime.bigint();
        const out = dist.allReduce(a);
        // the iterations' reductions only (the final inertia is one float64)
        if (a.length > 1) reduceMs += Number(process.hrtime.bigint() - t0) / 1e6;
        return out;
      },
    };
    const fit = (iterations) => {
      if (size > 1) dist.barrier();
      dist.resetStats();
      reduceMs = 0;
      const t0 = process.hrtime.bigint();
      const r = q.kmeans(x, { k: K, iterations, init, maxPointsPerCentroid: 0, ...(size > 1 ? { dist: comm } : {}) });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const s = dist.stats().allReduce;
      const out = { ms, reduceMs, sent: s.bytesSent, received: s.bytesReceived, centroids: r.centroids.toTypedArray().slice() };
      r.centroids.dispose();
      r.assignments.dispose();
      return out;
    };
    fit(1); // warm-up
    let best = Infinity;
    let bestReduce = 0;
    let full;
    let zero;
    for (let rep = 0; rep < REPS; rep++) {
      zero = fit(0);
      full = fit(iters);
      const per = (full.ms - zero.ms) / iters;
      if (per < best) {
        best = per;
        bestReduce = full.reduceMs / iters;
      }
    }
    const flops = N * K * D; // points·centroids·dims per iteration (all ranks together)
    rows.push({
      ranks: size,
      'threads/rank': threads,
      N,
      D,
      K,
      iterations: iters,
      'ms/iteration': best,
      'G points·centroids·dims/s': flops / (best * 1e6),
      'ms in allReduce/iteration (rank 0, waiting included)': size > 1 ? bestReduce : 0,
      'KiB sent/iteration (per rank)': (full.sent - zero.sent) / iters / 1024,
      'KiB received/iteration (per rank)': (full.received - zero.received) / iters / 1024,
      centroids: Buffer.from(full.centroids.buffer, full.centroids.byteOffset, full.centroids.byteLength).toString('base64'),
    });
    x.dispose();
    init.dispose();
  }
  return rows;
}

if (workerOut) {
  const rows = measure(1);
  if (q.dist.rank === 0) fs.writeFileSync(workerOut, JSON.stringify(rows));
} else {
  const rows = [...measure(2), ...measure(1)];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qarm-bench-dkm-'));
  const file = path.join(tmp, 'rank0.json');
  const note = runWorkers(import.meta.url, file, quick ? ['--quick'] : []);
  if (note) {
    console.log(`  [${note}]`);
  } else {
    const two = JSON.parse(fs.readFileSync(file, 'utf8'));
    rows.push(...two);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  // How far the 2-rank centroids are from the 1-rank ones: max |a - b| / max |b|, 0 when bit-identical.
  const f32 = (s) => {
    const b = Buffer.from(s, 'base64');
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  for (const row of rows) {
    const one = rows.find((o) => o.ranks === 1 && o['threads/rank'] === 1 && o.N === row.N && o.D === row.D && o.K === row.K);
    if (one) {
      const a = f32(row.centroids);
      const b = f32(one.centroids);
      let diff = 0;
      let scale = 0;
      let same = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
        if (a[i] === b[i]) same++;
      }
      row['centroids vs 1 rank: max rel. diff'] = diff === 0 ? '0' : (diff / scale).toExponential(1);
      row['bit-equal elements'] = `${((100 * same) / a.length).toFixed(2)} %`;
    }
  }
  for (const row of rows) delete row.centroids;
  const table = markdownTable(rows);
  console.log(table);
  const cmd = `node bench/suites/dist_kmeans.js${quick ? ' --quick' : ''}`;
  const md = [
    '# Distributed k-means benchmark',
    '',
    `Command: \`${cmd}\` (also \`npm run bench dist_kmeans\`). Machine: ${machineLine()}. ISA: ${q.isa().current}. MPI: ${mpiVersion()}, \`mpirun --oversubscribe -np 2\` on this one machine.`,
    `Date: ${new Date().toISOString()}. Load average at the start: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores. The VM is shared with other engineers' builds and tests, so the times are upper bounds; compare rows of one run.`,
    '',
    'Per-iteration time = (fit with I iterations − fit with 0) / I, best of ' +
      `${REPS}; all rows train (maxPointsPerCentroid 0), same tensor init. "G points·centroids·dims/s" = N·K·D per iteration over that time ` +
      '(all ranks together). Bytes are from `dist.stats()` (allReduce payload + 48-byte header, per rank; with 2 ranks each rank receives what the other sends): ' +
      'one allReduce of (K·D + K + 1) float64 per iteration. Two ranks on this 2-core VM share the cores the 1-rank, 2-thread row uses, so they show the cost of ' +
      'the exchange, not a speed-up; across machines each rank brings its own cores.',
    ...(note ? ['', note] : []),
    '',
    table,
    '',
  ].join('\n');
  fs.writeFileSync(new URL(`../results/dist_kmeans${quick ? '_quick' : ''}.md`, import.meta.url).pathname, md);
}
