// Ranker training throughput (samples/s, batch 1024, history 50) of qarm's trainer vs the same
// architecture in PyTorch at the same thread count (bench/peers/ranker_torch.py).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as q from '../../dist/index.js';
import { machineLine, markdownTable, runPeer } from '../lib/peers.js';
const load0 = os.loadavg()[0];

const cfg = { items: 100_000, users: 10_000, levels: 3, codebook: 256, vq: 25, history: 50, dim: 16, batch: 1024 };
const steps = Number(process.env.RANKER_STEPS ?? 12),
  warmup = 2;
const threads = q.numThreads();
const g = new q.Generator(0);
const N = cfg.items,
  H = cfg.history,
  B = cfg.batch;
const rq = new Int32Array(N * cfg.levels).map(() => g.int(cfg.codebook));
const vq = new Int32Array(N * cfg.vq).map(() => g.int(N));
const items = { numItems: N, rq: { codes: rq, levels: cfg.levels, codebookSize: cfg.codebook }, vq: { codes: vq, k: cfg.vq, poolSize: N } };
const n = (steps + warmup) * B;
const samples = {
  size: n,
  maxHistory: H,
  user: new Int32Array(n).map(() => g.int(cfg.users)),
  item: new Int32Array(n).map(() => g.int(N)),
  label: new Float32Array(n).map(() => g.int(2)),
  history: new Int32Array(n * H).fill(-1),
  historyLength: new Int32Array(n),
};
for (let i = 0; i < n; i++) {
  const len = 1 + g.int(H);
  samples.historyLength[i] = len;
  for (let h = 0; h < len; h++) samples.history[i * H + h] = g.int(N);
}
async function ours(nThreads) {
  q.setNumThreads(nThreads);
  const ranker = new q.rank.Ranker(
    {
      numUsers: cfg.users,
      embeddingDim: cfg.dim,
      attentionHidden: [36],
      hidden: [200, 80],
      features: { userId: true, itemId: true, rq: true, vq: true, history: true, historyCodes: true, cross: true, dense: false },
      seed: 0,
    },
    items,
  );
  let tStart = 0,
    tEnd = 0,
    cStart = 0,
    cEnd = 0;
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e3;
  };
  await q.rank.trainRanker(
    ranker,
    samples,
    { ...samples, size: 0 },
    {
      epochs: 1,
      batchSize: B,
      lr: 1e-3,
      seed: 0,
      onProgress: (p) => {
        if (p.batch === warmup) {
          tStart = performance.now();
          cStart = cpuMs();
        }
        if (p.batch === warmup + steps) {
          tEnd = performance.now();
          cEnd = cpuMs();
        }
      },
    },
  );
  ranker.dispose();
  return { wall: (steps * B) / ((tEnd - tStart) / 1000), cpu: (steps * B) / ((cEnd - cStart) / 1000) };
}

// Both sides at 1 thread (no scheduling effects) and at the machine's thread count.
const rows = [];
let peerLine = '';
for (const th of [...new Set([1, threads])]) {
  const mine = await ours(th);
  const peer = process.env.NO_PEER
    ? { missing: 'skipped (NO_PEER)' }
    : runPeer('ranker_torch.py', ['torch', 'numpy'], { ...cfg, threads: th, steps, warmup, modes: ['concat', 'decomposed'] }, th);
  peerLine = peer.missing ? peer.missing : `torch ${peer.torch}`;
  const sps = peer.samplesPerSecond ?? {};
  const cps = peer.samplesPerCpuSecond ?? {};
  rows.push({
    threads: th,
    'qarm samples/s': mine.wall,
    'torch concat samples/s': sps.concat ?? NaN,
    'torch split samples/s': sps.decomposed ?? NaN,
    'qarm / torch concat': mine.wall / sps.concat,
    'qarm / torch split': mine.wall / sps.decomposed,
    'qarm / torch concat (CPU time)': mine.cpu / cps.concat,
    'qarm / torch split (CPU time)': mine.cpu / cps.decomposed,
  });
}
q.setNumThreads(threads);
const t = markdownTable(rows);
console.log(t);
writeFileSync(
  new URL('../results/ranker.md', import.meta.url),
  `# ranker: training throughput

Batch ${B}, history ${H} (uniform lengths 1..${H}), d = ${cfg.dim}, ${cfg.items.toLocaleString('en')} items, ${cfg.users.toLocaleString('en')} users, RQ ${cfg.levels}×${cfg.codebook},
VQ bag of ${cfg.vq}, DIN attention [36] over history items = [item emb, Σ RQ embs], cross features (level-1 and level-1+2 matches: pooled + counts),
tower [200, 80]; sparse embeddings with lazy Adam, Adam for dense layers. Same thread count on both sides (each row); ${steps} timed steps after ${warmup} warm-up steps.
The 'split first layer' peer evaluates the attention MLP's first layer as qarm does (W·[q,k,q−k,q⊙k] = (Wq+Wd)q + (Wk−Wd)k + Wp(q⊙k)); 'DIN concat' builds the concatenation.
Ratios are wall-clock samples/s; the "(CPU time)" columns compare samples per CPU-second of each process (less sensitive to other jobs on this shared machine).
qarm time includes the trainer's batch assembly (shuffled gather); the PyTorch peer's batches are prebuilt tensors.
Peer: ${peerLine}.

${t}

Command: \`npm run bench ranker\`
Machine: ${machineLine()}; 1-min load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end
`,
);
