#!/usr/bin/env node
// GPU benchmark (`npm run bench:cuda [-- --out DIR] [-- --quick]`), one script, a few minutes
// on an H100/H200-class GPU. Prints and writes (DIR/cuda.md, DIR/cuda.json) a table of:
//   1. device-to-device copy bandwidth (the roofline for the memory-bound kernels)
//   2. scatter-add (embedding backward) GB/s, sorted and atomic, as a share of the copy
//   3. fused nearest codeword at N = 1M, K = 8192, D = 256: TFLOP/s (2NKD / time), fp32 and
//      TF32 kernels, k = 1 and k = 25, against PyTorch `x @ c.T` + argmin/topk on the same GPU
//      (chunked) and against qarm's own unfused GEMM + argmin (materialises the N x K tiles)
//   4. one dense ranker-like training step (gather + MLP + BCE + Adam) against PyTorch
// Every section is independent: a failure is recorded in its row and the run goes on. A
// missing PyTorch (or a PyTorch without CUDA) is reported, not fatal. Without a GPU it
// prints why and exits 0 without measuring anything.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as q from '../../dist/index.js';
import { cudaRuntime } from '../../dist/tensor/cuda/index.js';
import { machineLine, markdownTable, runPeer } from '../lib/peers.js';

const t0 = Date.now();
const argv = process.argv.slice(2);
const outDir = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
const quick = argv.includes('--quick');

if (!q.cuda.isAvailable()) {
  console.log(`bench:cuda: CUDA unavailable: ${q.cuda.unavailableReason()}; nothing measured.`);
  process.exit(0);
}
const { addon } = cudaRuntime;
const info = q.cuda.deviceInfo();
console.log(
  `GPU: ${info.name} (sm_${info.computeCapability.replace('.', '')}, ${info.multiprocessors} SMs, ${(info.totalBytes / 2 ** 30).toFixed(0)} GiB); GEMM: ${q.cuda.gemmBackend()}`,
);

/** Median wall time (ms) of fn, device work included. */
function timeGpu(fn, reps = 5, warmup = 1) {
  // Results are dropped (tidy returns nothing), so repeated runs do not pile up memory.
  const run = () =>
    q.tidy(() => {
      fn();
    });
  for (let i = 0; i < warmup; i++) run();
  q.cuda.synchronize();
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    run();
    q.cuda.synchronize();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** Fast deterministic fill (xorshift), uniform in [-0.5, 0.5). */
function uniform(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}
function ints(n, hi, seed) {
  const a = new Int32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s % hi;
  }
  return a;
}

const rows = [];
const record = (row) => {
  rows.push(row);
  console.log(JSON.stringify(row));
};
const section = (name, fn) => {
  try {
    fn();
  } catch (e) {
    record({ measure: name, value: 'FAILED', unit: '', vs: String(e && e.message).slice(0, 160) });
  }
};
const json = {};

// 1. Copy bandwidth.
let copyGBs = NaN;
section('device copy', () => {
  const bytes = (quick ? 256 : 1024) * 2 ** 20;
  const a = q.runKernel('fill', {}, { shape: [bytes / 4], value: 1, device: 'cuda' });
  const b = q.runKernel('fill', {}, { shape: [bytes / 4], value: 0, device: 'cuda' });
  const pa = a.storage().ptr,
    pb = b.storage().ptr;
  const ms = timeGpu(() => addon.copy(pb, pa, bytes), 10, 2);
  copyGBs = (2 * bytes) / (ms / 1000) / 1e9; // read + write
  a.dispose();
  b.dispose();
  record({ measure: `device copy ${bytes / 2 ** 20} MiB (read+write)`, value: +copyGBs.toFixed(0), unit: 'GB/s', vs: '' });
  json.copyGBs = copyGBs;
});

// 2. Scatter-add (embedding backward).
section('scatter-add', () => {
  const R = 1 << 20,
    dim = 64,
    n = (quick ? 1 : 4) << 20;
  const target = q.runKernel('fill', {}, { shape: [R, dim], value: 0, device: 'cuda' });
  const src = q.runKernel('fill', {}, { shape: [n, dim], value: 0.5, device: 'cuda' });
  const idxHost = ints(n, R, 7);
  const idx = q.tensor(idxHost, [n], 'int32').to('cuda');
  const touched = new Set(idxHost).size;
  const bytes = n * dim * 4 + n * 4 + 2 * touched * dim * 4;
  for (const mode of ['sorted', 'atomic']) {
    const prev = q.cuda.configure({ scatter: mode });
    const ms = timeGpu(() => q.runKernel('scatterAddRows', { target, indices: idx, source: src }), 5, 1);
    q.cuda.configure(prev);
    const gbs = bytes / (ms / 1000) / 1e9;
    record({
      measure: `scatter-add ${mode}: ${n >> 20}M rows x ${dim} into ${R >> 20}M`,
      value: +gbs.toFixed(0),
      unit: 'GB/s',
      vs: `${((100 * gbs) / copyGBs).toFixed(0)} % of copy (goal >= 60 %)`,
    });
    json[`scatter_${mode}_GBs`] = gbs;
  }
  // Context: the same random rows read by a gather (no atomics, no sort): the practical ceiling
  // for traffic to random 256-byte rows on this GPU.
  const gms = timeGpu(() => q.runKernel('gatherRows', { table: target, indices: idx }), 5, 1);
  const gbytes = 2 * n * dim * 4 + n * 4;
  const ggbs = gbytes / (gms / 1000) / 1e9;
  record({
    measure: `gather ${n >> 20}M random rows x ${dim} (same ids; context)`,
    value: +ggbs.toFixed(0),
    unit: 'GB/s',
    vs: `${((100 * ggbs) / copyGBs).toFixed(0)} % of copy`,
  });
  json.gather_GBs = ggbs;
  target.dispose();
  src.dispose();
  idx.dispose();
});

// 3. Nearest codeword.
const NN = { N: quick ? 1 << 17 : 1 << 20, K: 8192, D: 256, chunk: 1 << 16, reps: 3 };
const flop = 2 * NN.N * NN.K * NN.D;
const tflops = (ms) => flop / (ms / 1000) / 1e12;
const qarmNearest = {};
section('nearest', () => {
  const xh = uniform(NN.N * NN.D, 11),
    ch = uniform(NN.K * NN.D, 12);
  const x = q.tensor(xh, [NN.N, NN.D]).to('cuda');
  const c = q.tensor(ch, [NN.K, NN.D]).to('cuda');
  for (const [variant, k] of [
    ['fp32', 1],
    ['tf32', 1],
    ['fp32', 25],
    ['tf32', 25],
  ]) {
    section(`nearest ${variant} k=${k}`, () => {
      const prev = q.cuda.configure({ nearest: variant });
      const ms = timeGpu(() => q.nearest(x, c, { k }), NN.reps, 1);
      q.cuda.configure(prev);
      qarmNearest[`${variant}_k${k}`] = ms;
      json[`nearest_${variant}_k${k}_ms`] = ms;
      record({
        measure: `nearest ${variant} k=${k} (N=${NN.N}, K=${NN.K}, D=${NN.D})`,
        value: +tflops(ms).toFixed(1),
        unit: 'TFLOP/s',
        vs: `${ms.toFixed(1)} ms`,
      });
    });
  }
  // Spot check against the CPU on the first rows (exactness of the fast paths).
  section('nearest spot check', () => {
    const m = 512;
    const xs = q.tensor(xh.subarray(0, m * NN.D), [m, NN.D]);
    const cs = q.tensor(ch, [NN.K, NN.D]);
    const want = q.nearest(xs, cs, { k: 1 }).indices.toTypedArray();
    for (const variant of ['fp32', 'tf32']) {
      const prev = q.cuda.configure({ nearest: variant });
      const got = q.tidy(() => q.nearest(q.slice(x, 0, 0, m), c, { k: 1 }).indices.toTypedArray());
      q.cuda.configure(prev);
      let same = 0;
      for (let i = 0; i < m; i++) same += got[i] === want[i] ? 1 : 0;
      record({ measure: `nearest ${variant} k=1 agreement with the CPU (${m} rows)`, value: +((100 * same) / m).toFixed(2), unit: '%', vs: '' });
    }
  });
  // Unfused baseline with qarm's own kernels: GEMM into an N-chunk x K block, then argmin.
  section('unfused gemm+argmin', () => {
    const ct = q.transpose(c);
    const ms = timeGpu(
      () => {
        for (let r0 = 0; r0 < NN.N; r0 += NN.chunk) {
          q.tidy(() => q.argmin(q.matmul(q.slice(x, 0, r0, Math.min(NN.chunk, NN.N - r0)), ct)));
        }
      },
      NN.reps,
      1,
    );
    ct.dispose();
    json.unfused_ms = ms;
    record({
      measure: `qarm unfused ${q.cuda.gemmBackend()} GEMM + argmin (chunks of ${NN.chunk})`,
      value: +tflops(ms).toFixed(1),
      unit: 'TFLOP/s',
      vs: `fused fp32 k=1 is ${(ms / qarmNearest.fp32_k1).toFixed(2)}x faster`,
    });
  });
  x.dispose();
  c.dispose();
});

// 4. Ranker-like training step.
const RK = { B: 4096, V: 100000, E: 64, F: 4, H1: 512, H2: 256, reps: 10 };
let qarmStepMs = NaN;
section('ranker step', () => {
  const { B, V, E, F, H1, H2 } = RK;
  const p = (data, shape) => {
    const t = q.tensor(data, shape).to('cuda');
    t.requiresGrad = true;
    return t;
  };
  const emb = p(
    uniform(V * E, 1).map((v) => v * 0.1),
    [V, E],
  );
  const w1 = p(
    uniform(F * E * H1, 2).map((v) => v * 0.1),
    [F * E, H1],
  );
  const b1 = p(new Float32Array(H1), [H1]);
  const w2 = p(
    uniform(H1 * H2, 3).map((v) => v * 0.1),
    [H1, H2],
  );
  const b2 = p(new Float32Array(H2), [H2]);
  const w3 = p(
    uniform(H2, 4).map((v) => v * 0.1),
    [H2, 1],
  );
  const ids = q.tensor(ints(B * F, V, 5), [B * F], 'int32').to('cuda');
  const y = q.tensor(Float32Array.from(ints(B, 2, 6)), [B, 1]).to('cuda');
  const opt = new q.optim.Adam([emb, w1, b1, w2, b2, w3], { lr: 1e-3 });
  const step = () => {
    const h0 = q.reshape(q.gather(emb, ids), [B, F * E]);
    const h1 = q.relu(q.add(q.matmul(h0, w1), b1));
    const h2 = q.relu(q.add(q.matmul(h1, w2), b2));
    const z = q.matmul(h2, w3);
    const loss = q.nn.bceWithLogits(z, y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
  qarmStepMs = timeGpu(step, RK.reps, 3);
  json.ranker_step_ms = qarmStepMs;
  record({
    measure: `ranker step qarm cuda (B=${B}, ${F}x${E} ids of ${V}, MLP ${F * E}-${H1}-${H2}-1, Adam)`,
    value: +qarmStepMs.toFixed(2),
    unit: 'ms',
    vs: '',
  });
});

// PyTorch peer on the same GPU (our cached device memory is returned to the driver first).
section('pytorch peer', () => {
  q.cuda.emptyCache();
  const peer = runPeer('torch_cuda.py', ['torch'], { nearest: NN, ranker: RK }, 4);
  json.torch = peer;
  if (peer.missing) {
    record({ measure: 'PyTorch on this GPU', value: 'missing', unit: '', vs: peer.missing });
    return;
  }
  const cmp = (label, ours, theirs) =>
    record({ measure: label, value: +tflops(theirs).toFixed(1), unit: 'TFLOP/s', vs: ours ? `qarm ${(theirs / ours).toFixed(2)}x faster (goal >= 2x)` : '' });
  cmp(`PyTorch ${peer.torch} fp32 addmm + argmin`, qarmNearest.fp32_k1, peer.nearest_fp32_k1_ms);
  cmp(`PyTorch TF32 addmm + argmin (vs qarm tf32)`, qarmNearest.tf32_k1, peer.nearest_tf32_k1_ms);
  cmp(`PyTorch fp32 addmm + topk(25)`, qarmNearest.fp32_k25, peer.nearest_fp32_k25_ms);
  record({
    measure: 'ranker step PyTorch (same shapes)',
    value: +peer.ranker_step_ms.toFixed(2),
    unit: 'ms',
    vs: `qarm ${(peer.ranker_step_ms / qarmStepMs).toFixed(2)}x PyTorch speed`,
  });
});

const table = markdownTable(rows);
const stats = q.cuda.memoryStats();
const text = `# CUDA benchmark

\`npm run bench:cuda${quick ? ' -- --quick' : ''}\`

GPU: ${info.name} (compute ${info.computeCapability}, ${info.multiprocessors} SMs, ${(info.totalBytes / 2 ** 30).toFixed(0)} GiB); GEMM backend: ${q.cuda.gemmBackend()}
Host: ${machineLine()}
Date: ${new Date().toISOString()}; whole run ${((Date.now() - t0) / 1000).toFixed(0)} s

${table}

TFLOP/s counts 2·N·K·D per search (the distance products; the l2 norm terms are ignored).
Scatter-add GB/s counts source rows + indices read and touched target rows read and written.
Allocator at the end: ${(stats.reservedBytes / 2 ** 20).toFixed(0)} MiB reserved, ${stats.hits} cache hits, ${stats.misses} misses.
`;
console.log(`\n${text}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'cuda.md'), text);
writeFileSync(join(outDir, 'cuda.json'), JSON.stringify({ info, rows, ...json }, null, 2));
console.log(`wrote ${join(outDir, 'cuda.md')}`);
