// GEMM at ranker shapes: qarm's packed SIMD sgemm vs OpenBLAS sgemm (numpy), GFLOP/s and
// ratio, on 1 and 2 threads, measured in the same run. Writes bench/results/gemm.md.
// Shapes are M×N×K: C[M,N] = A[M,K]·B[K,N] (transB: B stored [N,K], as Linear weights).
import { writeFileSync } from 'node:fs';
import * as q from '../../dist/index.js';
import { native } from '../../dist/tensor/native.js';
import { machineLine, markdownTable, runPeer } from '../lib/peers.js';

const SHAPES = [
  [1024, 256, 256, false, false],
  [4096, 128, 64, false, false],
  [256, 64, 8192, false, false],
  [2048, 2048, 2048, false, false],
  [256, 8192, 64, false, true], // scores of 256 queries against 8192 codewords (d = 64)
  [1024, 256, 256, true, false], // weight gradient layout (Aᵀ·dY)
];
const ROUNDS = Number(process.env.QARM_BENCH_ROUNDS ?? 3);
const REPS = 7;

function ours([M, N, K, ta, tb]) {
  const g = new q.Generator(0);
  const a = new Float32Array(M * K).map(() => g.normal());
  const b = new Float32Array(K * N).map(() => g.normal());
  const c = new Float32Array(M * N);
  native.sgemm(ta, tb, M, N, K, 1, a, b, 0, c);
  const ts = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint();
    native.sgemm(ta, tb, M, N, K, 1, a, b, 0, c);
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  ts.sort((x, y) => x - y);
  return (2 * M * N * K) / ts[REPS >> 1] / 1e9;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
};

const rows = [];
const isaName = q.isa().current;
for (const threads of [1, 2]) {
  q.setNumThreads(threads);
  const mine = SHAPES.map(() => []);
  const peer = SHAPES.map(() => []);
  let peerMissing = null;
  // Alternate ours and the peer round by round so machine noise hits both alike.
  for (let round = 0; round < ROUNDS; round++) {
    const p = runPeer('gemm_numpy.py', ['numpy'], { shapes: SHAPES, reps: REPS }, threads);
    if (p.missing) peerMissing = p.missing;
    else p.gflops.forEach((v, i) => peer[i].push(v));
    SHAPES.forEach((s, i) => mine[i].push(ours(s)));
  }
  SHAPES.forEach(([M, N, K, ta, tb], i) => {
    const o = median(mine[i]);
    const b = peerMissing ? NaN : median(peer[i]);
    rows.push({
      'M×N×K': `${M}×${N}×${K}${ta ? ' (Aᵀ)' : ''}${tb ? ' (Bᵀ)' : ''}`,
      threads,
      'qarm GFLOP/s': o,
      'OpenBLAS GFLOP/s': peerMissing ? 'missing' : b,
      ratio: peerMissing ? '-' : o / b,
    });
  });
}
q.setNumThreads(0);

const table = markdownTable(rows);
console.log(table);
const md = `# GEMM: qarm sgemm vs OpenBLAS (numpy)

Command: \`npm run bench gemm\` (bench/suites/gemm.js; peer bench/peers/gemm_numpy.py through Debian /usr/bin/python3)
Machine: ${machineLine()}; qarm ISA ${isaName}
Method: median of ${REPS} timed calls per round after one warm-up, median over ${ROUNDS} alternating rounds (ours, peer); ratio = qarm / OpenBLAS. The machine is shared, so absolute numbers move with load; ratios are the figure to read.
Date: ${new Date().toISOString()}

${table}
`;
writeFileSync(new URL('../results/gemm.md', import.meta.url), md);
