// Nearest-codeword search and k-means: qarm vs FAISS (IndexFlatL2 / IndexFlatIP search,
// faiss.Kmeans) on identical data, plus the GEMM peak of qarm's matmul (and numpy sgemm) in
// the same run. Writes bench/results/quant.md.
//   node bench/suites/quant.js [--quick] [--threads N]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as q from '../../dist/index.js';
import { mixture } from '../lib/data.js';
import { machineLine, markdownTable, runPeer } from '../lib/peers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const ti = argv.indexOf('--threads');
const threads = ti >= 0 ? Number(argv[ti + 1]) : os.cpus().length;
q.setNumThreads(threads);

const Ns = quick ? [20000] : [20000, 200000];
const Ks = [256, 1024, 8192];
const Ds = [32, 64, 256];
const ks = [1, 25];
const search = [];
for (const N of Ns) for (const K of Ks) for (const D of Ds) for (const k of ks) search.push({ N, K, D, k, metric: 'l2' });
// inner-product search on a slice of the grid
for (const K of Ks) for (const k of ks) search.push({ N: 20000, K, D: 64, k, metric: 'ip' });
const kmeansCfgs = quick
  ? [{ N: 20000, K: 256, D: 64, iters: 10 }]
  : [
      { N: 20000, K: 256, D: 64, iters: 10 },
      { N: 200000, K: 1024, D: 64, iters: 10 },
      { N: 200000, K: 256, D: 256, iters: 10 },
    ];
for (const s of search) s.reps = 2 * s.N * s.K * s.D > 1e11 ? 1 : 3;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qarm-bench-quant-'));
const X = new Map();
const CB = new Map();
for (const s of [...search, ...kmeansCfgs]) {
  const xk = `${s.N}_${s.D}`;
  if (!X.has(xk)) {
    X.set(xk, q.tensor(mixture(s.N, s.D, s.N + s.D), [s.N, s.D]));
    q.writeNpy(path.join(dir, `x_${xk}.npy`), X.get(xk));
  }
  if (s.k !== undefined) {
    const ck = `${s.K}_${s.D}`;
    if (!CB.has(ck)) {
      CB.set(ck, q.randn([s.K, s.D], { seed: s.K * 31 + s.D }));
      q.writeNpy(path.join(dir, `c_${ck}.npy`), CB.get(ck));
    }
  }
}

/** Best wall time (ms) of `reps` runs after a warm-up, and the least process CPU time (ms, all threads). */
function best(fn, reps) {
  fn(); // warm-up
  let m = Infinity;
  let cpu = Infinity;
  for (let i = 0; i < reps; i++) {
    const u0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    m = Math.min(m, Number(process.hrtime.bigint() - t0) / 1e6);
    const u = process.cpuUsage(u0);
    cpu = Math.min(cpu, (u.user + u.system) / 1e3);
  }
  return { ms: m, cpu };
}

// GEMM peak of qarm's matmul in this run.
const G = 2048;
const ga = q.randn([G, G], { seed: 1 }),
  gb = q.randn([G, G], { seed: 2 });
const gemmT = best(() => q.matmul(ga, gb).dispose(), 5);
const gemmPeak = (2 * G * G * G) / gemmT.ms / 1e6;
const gemmCpu = (2 * G * G * G) / gemmT.cpu / 1e6;

console.log(`threads ${threads}, isa ${q.isa().current}, qarm matmul ${G}^3: ${gemmPeak.toFixed(1)} GFLOP/s, ${gemmCpu.toFixed(1)} GFLOP per CPU-second`);
// numpy sgemm once; then each configuration runs FAISS and qarm back to back, so both see the
// same load on this shared machine. Times are the best of `reps` runs on both sides.
const peer = runPeer('faiss_quant.py', ['faiss', 'numpy'], { threads, dir, gemm: { M: G, N: G, K: G } }, threads);
if (peer.gemm) console.log(`numpy sgemm ${G}^3: ${peer.gemm.gflops.toFixed(1)} GFLOP/s`);

const rows = [];
search.forEach((s) => {
  const x = X.get(`${s.N}_${s.D}`),
    c = CB.get(`${s.K}_${s.D}`);
  const pr = peer.missing ? null : runPeer('faiss_quant.py', ['faiss', 'numpy'], { threads, dir, search: [s] }, threads);
  const f = pr && pr.search ? pr.search[0] : null;
  const { ms, cpu } = best(() => {
    const r = q.nearest(x, c, { k: s.k, metric: s.metric });
    r.indices.dispose();
    r.distances.dispose();
  }, s.reps);
  const gfCpu = (2 * s.N * s.K * s.D) / cpu / 1e6;
  const gf = (2 * s.N * s.K * s.D) / ms / 1e6;
  let agree = '';
  if (f) {
    const mine = q.nearest(q.tensor(x.toTypedArray().slice(0, 64 * s.D), [64, s.D]), c, { k: 1, metric: s.metric }).indices.toTypedArray();
    agree = `${mine.reduce((a, v, j) => a + (v === f.I0[j] ? 1 : 0), 0)}/64`;
  }
  const row = {
    metric: s.metric,
    N: s.N,
    K: s.K,
    D: s.D,
    k: s.k,
    'qarm ms': ms,
    'qarm GFLOP/s': gf,
    'qarm GFLOP/cpu-s': gfCpu,
    '% qarm GEMM': (100 * gf) / gemmPeak,
    '% qarm GEMM (cpu-s)': (100 * gfCpu) / gemmCpu,
    '% numpy GEMM': peer.gemm ? (100 * gf) / peer.gemm.gflops : NaN,
    'FAISS ms': f ? f.ms : NaN,
    'FAISS GFLOP/s': f ? (2 * s.N * s.K * s.D) / f.ms / 1e6 : NaN,
    'speedup vs FAISS': f ? f.ms / ms : NaN,
    'top-1 agree': agree,
  };
  rows.push(row);
  console.log(
    Object.values(row)
      .map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v))
      .join('\t'),
  );
});

const kmRows = [];
kmeansCfgs.forEach((cfg) => {
  const x = X.get(`${cfg.N}_${cfg.D}`);
  const pr = peer.missing ? null : runPeer('faiss_quant.py', ['faiss', 'numpy'], { threads, dir, kmeans: [cfg] }, threads);
  const f = pr && pr.kmeans ? pr.kmeans[0] : null;
  const t0 = performance.now();
  const res = q.kmeans(x, { k: cfg.K, iterations: cfg.iters, seed: 1, init: 'random', maxPointsPerCentroid: 256 });
  const ms = performance.now() - t0;
  // The same final assignment of all N rows again, timed alone, to separate it from Lloyd.
  const t1 = performance.now();
  const fin = q.nearest(x, res.centroids, { k: 1 });
  const finalMs = performance.now() - t1;
  fin.indices.dispose();
  fin.distances.dispose();
  const lloyd = (ms - finalMs) / cfg.iters;
  const row = {
    N: cfg.N,
    K: cfg.K,
    D: cfg.D,
    iters: cfg.iters,
    'qarm ms/iter (all)': ms / cfg.iters,
    'qarm ms/iter (Lloyd)': lloyd,
    'FAISS ms/iter': f ? f.msPerIter : NaN,
    'speedup (all)': f ? f.msPerIter / (ms / cfg.iters) : NaN,
    'speedup (Lloyd)': f ? f.msPerIter / lloyd : NaN,
    'qarm final obj': res.history[res.history.length - 1],
    'FAISS final obj': f ? f.obj[f.obj.length - 1] : NaN,
    'qarm inertia (all rows)': res.inertia,
    'FAISS inertia (all rows)': f ? f.inertia : NaN,
    'inertia diff %': f ? (100 * (res.inertia - f.inertia)) / f.inertia : NaN,
  };
  kmRows.push(row);
  console.log(
    Object.values(row)
      .map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v))
      .join('\t'),
  );
});
fs.rmSync(dir, { recursive: true, force: true });

const cmd = `node bench/suites/quant.js${quick ? ' --quick' : ''}${ti >= 0 ? ` --threads ${threads}` : ''}`;
const md = [
  '# Quantisation benchmark: qarm vs FAISS',
  '',
  `Command: \`${cmd}\` (also \`npm run bench quant\`). Machine: ${machineLine()}. Threads: ${threads} (both sides). ISA: ${q.isa().current}.`,
  `Peers: ${peer.missing ? peer.missing : `FAISS ${peer.faiss}, numpy ${peer.numpy} (Debian /usr/bin/python3)`}.`,
  `Date: ${new Date().toISOString()}. The machine is shared with other engineers' builds and tests: each configuration runs FAISS and qarm back to back, times are the best of 1–3 runs (after a warm-up), compare ratios rather than absolute times.`,
  '',
  `GEMM peak in this run: qarm matmul ${G}x${G}x${G}: **${gemmPeak.toFixed(1)} GFLOP/s** wall (${gemmCpu.toFixed(1)} GFLOP per CPU-second); numpy sgemm (OpenBLAS): ${peer.gemm ? `**${peer.gemm.gflops.toFixed(1)} GFLOP/s**` : 'n/a'}.`,
  '"% qarm GEMM" / "% numpy GEMM": qarm nearest GFLOP/s (2NKD per search) over those GEMM figures, wall clock.',
  '"GFLOP/cpu-s": 2NKD over the process CPU time of all threads (user + sys): the kernel efficiency, which a loaded machine',
  'disturbs much less than wall time (one core of this Zen 4 CPU peaks near 32 FLOP/cycle, ~110-120 GFLOP/s);',
  '"% qarm GEMM (cpu-s)" compares that with the qarm matmul measured the same way.',
  '',
  '## Nearest-codeword search (FAISS IndexFlatL2 / IndexFlatIP)',
  '',
  markdownTable(rows),
  '',
  '"top-1 agree": first 64 rows, qarm top-1 index equal to FAISS top-1 (near-ties may differ).',
  '',
  '## k-means (faiss.Kmeans, random init, max 256 points per centroid, same data)',
  '',
  '"all": qarm kmeans() wall time / iterations, including subsampling, init and the final assignment of all N rows (FAISS train() does not do that last step). "Lloyd": the same minus a separately timed assignment of all N rows. Objectives: sum of squared distances; "final obj" on the training sample (different samples on the two sides when N > 256·K), "inertia" on all N rows with the final centroids.',
  '',
  markdownTable(kmRows),
  '',
].join('\n');
fs.mkdirSync(new URL('../results/', import.meta.url).pathname, { recursive: true });
fs.writeFileSync(new URL(`../results/quant${quick ? '_quick' : ''}.md`, import.meta.url).pathname, md);
console.log(`wrote bench/results/quant${quick ? '_quick' : ''}.md`);
