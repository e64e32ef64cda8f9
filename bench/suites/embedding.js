// indexAdd (deterministic scatter-add into an embedding table) vs PyTorch index_add_, plus
// the memory-bandwidth floor: the bytes the operation must move (read the source rows, read and
// write each touched table row once, read the indices) over the copy bandwidth measured in this
// same run (a large typed-array copy: bytes read + written per second).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as q from '../../dist/index.js';
import { machineLine, markdownTable, runPeer, timeMs } from '../lib/peers.js';
const load0 = os.loadavg()[0];

const R = 1_000_000,
  D = 64,
  B = 65_536,
  reps = 15;
const threads = q.numThreads();
const g = new q.Generator(0);

function indices(kind) {
  const a = new Int32Array(B);
  for (let i = 0; i < B; i++) a[i] = kind === 'uniform' ? g.int(R) : Math.min(R - 1, Math.floor(Math.pow(R + 1, g.uniform())) - 1);
  return a;
}

// Copy bandwidth: 256 MiB copied between two buffers (median of 7), counting read + write bytes
// (a single-threaded copy: the floor it gives is for a one-stream copy of the same bytes).
const big = 64 << 20;
const a = new Float32Array(big).fill(1),
  b = new Float32Array(big);
const copyMs = timeMs(() => b.set(a), { reps: 7, warmup: 2 });
const copyGBs = (2 * big * 4) / (copyMs / 1e3) / 1e9;
console.log(`copy bandwidth ${copyGBs.toFixed(1)} GB/s (read+write), threads ${threads}`);

const table = q.zeros([R, D]);
// Touch every page in order, as initialising a real table does (and as torch.zeros' memset does):
// a lazily zero-mapped buffer would leave the rows scattered over physical memory.
table.toTypedArray().fill(0);
const src = q.randn([B, D], { seed: 1 });
const kinds = ['uniform', 'zipf'];
const idxByKind = Object.fromEntries(kinds.map((k) => [k, indices(k)]));
const rows = [];
let peerLine = '';
// Both sides at 1 thread and at the machine's thread count (same run, same data sizes).
for (const th of [...new Set([1, threads])]) {
  q.setNumThreads(th);
  const peer = runPeer('embedding_torch.py', ['torch', 'numpy'], { rows: R, dim: D, batch: B, reps, threads: th, kinds }, th);
  peerLine = peer.missing ? peer.missing : `torch ${peer.torch}`;
  for (const kind of kinds) {
    const idx = idxByKind[kind];
    const idxT = q.tensor(idx);
    const ms = timeMs(() => q.indexAdd(table, idxT, src), { reps, warmup: 2 });
    const unique = new Set(idx).size;
    const bytes = B * D * 4 + 2 * unique * D * 4 + B * 4;
    const floorMs = (bytes / (copyGBs * 1e9)) * 1e3;
    const torchMs = peer.ms ? peer.ms[kind] : NaN;
    rows.push({
      threads: th,
      indices: kind,
      'unique rows': unique,
      'qarm ms': ms,
      'torch index_add_ ms': torchMs,
      'speed-up vs torch': torchMs / ms,
      'floor ms': floorMs,
      'qarm / floor': ms / floorMs,
    });
  }
}
q.setNumThreads(threads);
const table_ = markdownTable(rows);
console.log(table_);
const md = `# embedding: indexAdd vs PyTorch index_add_

${B.toLocaleString('en')} rows × ${D} float32 added into a ${R.toLocaleString('en')} × ${D} table; qarm and torch at the same thread count (each row), median of ${reps}.
Floor = (source bytes + 2 × touched-row bytes + index bytes) / copy bandwidth; copy bandwidth measured in the same run: ${copyGBs.toFixed(1)} GB/s (read + write).
Peer: ${peerLine}. Indices: uniform over the table, or Zipf-like (log-uniform ranks: heavy duplicates on low rows).

${table_}

Command: \`npm run bench embedding\`
Machine: ${machineLine()}; 1-min load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end
`;
writeFileSync(new URL('../results/embedding.md', import.meta.url), md);
