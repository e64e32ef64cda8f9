// GEMM at ranker shapes: qarm's packed SIMD sgemm vs OpenBLAS sgemm (numpy), GFLOP/s and
// ratio, on 1 and 2 threads. The peer runs as a long-lived process and the two sides
// alternate call by call, so both are timed under the same (shared, noisy) machine load.
// Writes bench/results/gemm.md. Shapes are M×N×K: C[M,N] = A[M,K]·B[K,N]
// (Aᵀ: A stored [K,M]; Bᵀ: B stored [N,K], the Linear-weight and codebook layout).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as q from '../../dist/index.js';
import { native } from '../../dist/tensor/native.js';
import { machineLine, markdownTable, serveProcess, startPeer } from '../lib/peers.js';

const SHAPES = [
  [1024, 256, 256, false, false],
  [4096, 128, 64, false, false],
  [256, 64, 8192, false, false],
  [2048, 2048, 2048, false, false],
  [256, 8192, 64, false, true], // scores of 256 queries against 8192 codewords (d = 64)
  [1024, 256, 256, true, false], // weight-gradient layout (Aᵀ·dY)
];
const PAIRS = Number(process.env.QARM_BENCH_PAIRS ?? 31);

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
};

// Our side also runs as an idle line server in its own process (same role as the peer),
// so neither side is favoured by the scheduler on a loaded machine.
if (process.argv[2] === '--serve') {
  const { createInterface } = await import('node:readline');
  q.setNumThreads(Number(process.argv[3]));
  let cached = null;
  for await (const line of createInterface({ input: process.stdin })) {
    const { shape } = JSON.parse(line);
    const [M, N, K, ta, tb] = shape;
    const key = shape.join();
    if (!cached || cached.key !== key) {
      const g = new q.Generator(0);
      cached = { key, a: new Float32Array(M * K).map(() => g.normal()), b: new Float32Array(K * N).map(() => g.normal()), c: new Float32Array(M * N) };
      native.sgemm(ta, tb, M, N, K, 1, cached.a, cached.b, 0, cached.c); // warm-up
    }
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    native.sgemm(ta, tb, M, N, K, 1, cached.a, cached.b, 0, cached.c);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ seconds: [wall], cpuSeconds: [(cpu.user + cpu.system) / 1e6] }) + '\n');
  }
  process.exit(0);
}

const load0 = os.loadavg()[0];
const rows = [];
const isaName = q.isa().current;
let peerNote = '';
for (const threads of [1, 2]) {
  const peer = startPeer('gemm_numpy.py', ['numpy'], threads);
  const self = serveProcess(process.execPath, [new URL(import.meta.url).pathname, '--serve', String(threads)], process.env, 'qarm gemm server');
  if (!peer) peerNote = ' (peer missing: python3-numpy)';
  for (const shape of SHAPES) {
    const [M, N, K, ta, tb] = shape;
    const flops = 2 * M * N * K;
    const mine = [],
      theirs = [],
      ratios = [],
      mineCpu = [],
      theirsCpu = [];
    const pairs = flops > 4e9 ? Math.max(5, PAIRS >> 1) : PAIRS;
    for (let i = 0; i < pairs; i++) {
      const o = await self.request({ shape });
      const [t, tc] = [o.seconds[0], o.cpuSeconds[0]];
      mine.push(t);
      mineCpu.push(tc);
      if (peer) {
        const r = await peer.request({ shape, reps: 1 });
        theirs.push(r.seconds[0]);
        theirsCpu.push(r.cpuSeconds[0]);
        ratios.push(r.seconds[0] / t);
        // OpenBLAS workers spin for a while after a call; let them park before our call.
        if (threads > 1) await new Promise((res) => setTimeout(res, 100));
      }
    }
    rows.push({
      'M×N×K': `${M}×${N}×${K}${ta ? ' (Aᵀ)' : ''}${tb ? ' (Bᵀ)' : ''}`,
      threads,
      'qarm GFLOP/s': flops / median(mine) / 1e9,
      'OpenBLAS GFLOP/s': peer ? flops / median(theirs) / 1e9 : 'missing',
      ratio: peer ? median(ratios) : '-',
      // CPU-time view: GFLOP per CPU-second per thread, immune to time slicing by other
      // processes (not to cache contention); on 2 threads it also hides idle waiting.
      'qarm GFLOP/s per core (CPU time)': flops / median(mineCpu) / 1e9,
      'OpenBLAS GFLOP/s per core (CPU time)': peer ? flops / median(theirsCpu) / 1e9 : 'missing',
    });
    console.log(
      `  ${rows[rows.length - 1]['M×N×K']} t=${threads}: ${rows[rows.length - 1]['qarm GFLOP/s'].toFixed(1)} vs ${peer ? rows[rows.length - 1]['OpenBLAS GFLOP/s'].toFixed(1) : '-'}`,
    );
  }
  peer?.close();
  self.close();
}
q.setNumThreads(0);

const table = markdownTable(rows);
console.log(table);
const md = `# GEMM: qarm sgemm vs OpenBLAS (numpy)

Command: \`npm run bench gemm\` (bench/suites/gemm.js; peer bench/peers/gemm_numpy.py in Debian /usr/bin/python3, numpy → OpenBLAS sgemm)${peerNote}
Machine: ${machineLine()}; qarm ISA ${isaName}; 1-min load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end
Method: after a warm-up, ${PAIRS} pairs of single timed calls per shape (fewer for 2048²), ours and the peer's alternating call by call, each side a long-lived, otherwise idle process timing inside itself (so the scheduler treats both alike); GFLOP/s from the median time of each side; ratio = median over pairs of (peer time / our time), i.e. >1 means qarm is faster. The last two columns divide the FLOPs by the CPU time each side consumed (GFLOP per CPU-second), a noise-robust view of kernel efficiency. The machine is shared with other builds and tests, so absolute numbers move with load; the paired ratio is the figure to read.
Date: ${new Date().toISOString()}

${table}
`;
writeFileSync(new URL('../results/gemm.md', import.meta.url), md);
