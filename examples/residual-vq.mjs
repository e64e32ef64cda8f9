// A residual-VQ training loop: learn semantic IDs end to end. An encoder maps item embeddings
// to a small space, a trainable ResidualVQ replaces each vector by a sum of codewords (one per
// level), and a decoder reconstructs the embedding from that sum. The codes an item ends up with
// are its semantic ID; the loss is reconstruction + the VQ's codebook and commitment terms.
//
//   node residual-vq.mjs
//
// To use your own embeddings, replace `makeItems()` with `readNpy('embeddings.npy')`.
import assert from 'node:assert/strict';
import { Generator, ResidualVQ, add, codeStats, mean, nn, optim, square, sub, tensor, tidy } from 'qarm';

const [D, H, LEVELS, CODES] = [32, 16, 2, 32];
const items = makeItems(4096, D); // Float32Array [4096 * 32]
const numItems = items.length / D;

const encoder = new nn.Linear(D, H, { seed: 1 });
const rvq = new ResidualVQ({ dim: H, levels: LEVELS, codebookSize: CODES, beta: 0.25, deadCodeThreshold: 0.5, seed: 1 });
const decoder = new nn.Linear(H, D, { seed: 2 });
const opt = new optim.Adam([...encoder.parameters(), ...rvq.parameters(), ...decoder.parameters()], { lr: 3e-3 });

const g = new Generator(3);
const batch = 256;
const xb = new Float32Array(batch * D);
const firstReconstruction = reconstructionError();
for (let step = 1; step <= 300; step++) {
  for (let i = 0; i < batch; i++) {
    const r = g.int(numItems);
    xb.set(items.subarray(r * D, (r + 1) * D), i * D);
  }
  // tidy() disposes every intermediate tensor of the step; the parameters live on.
  const [recon, vqLoss] = tidy(() => {
    const x = tensor(xb, [batch, D]);
    const { quantized, loss } = rvq.forward(encoder.forward(x)); // straight-through: gradients reach the encoder
    const reconLoss = mean(square(sub(decoder.forward(quantized), x)));
    opt.zeroGrad();
    add(reconLoss, loss).backward();
    opt.step();
    return [reconLoss.item(), loss.item()];
  });
  if (step % 50 === 0) console.log(`step ${step}: reconstruction ${recon.toFixed(4)}, vq loss ${vqLoss.toFixed(4)}`);
}

// Every item's semantic ID, and how well the learnt codebooks are used.
const ids = tidy(() => rvq.encode(encoder.forward(tensor(items, [numItems, D]))));
const stats = codeStats(ids, CODES);
stats.levels.forEach((l, i) => console.log(`level ${i + 1}: ${l.used}/${CODES} codes used, perplexity ${l.perplexity.toFixed(1)}`));
console.log(`restarted dead codes per level: ${rvq.restarts.join(', ')}`);
console.log(
  `item 0's semantic ID: (${Array.from(ids.toTypedArray().subarray(0, LEVELS)).join(', ')}); ` + `${stats.uniqueTuples} distinct IDs for ${numItems} items`,
);
const lastReconstruction = reconstructionError();
console.log(`mean squared reconstruction error over all items: ${firstReconstruction.toFixed(4)} -> ${lastReconstruction.toFixed(4)}`);

// Sanity checks, so that `npm run examples` fails if training does not train.
assert.ok(lastReconstruction < 0.5 * firstReconstruction, 'reconstruction should improve');
assert.ok(
  stats.levels.every((l) => l.used >= CODES / 2),
  'most codes should be in use',
);
ids.dispose();

function reconstructionError() {
  return tidy(() => {
    const x = tensor(items, [numItems, D]);
    return mean(square(sub(decoder.forward(rvq.forward(encoder.forward(x)).quantized), x))).item();
  });
}

/** Float32 embeddings with two-level structure: 16 groups, 8 subgroups each, plus noise. */
function makeItems(n, d) {
  const r = new Generator(7);
  const vec = () => Float32Array.from({ length: d }, () => r.normal());
  const groups = Array.from({ length: 16 }, () => ({ centre: vec(), subs: Array.from({ length: 8 }, vec) }));
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const grp = groups[r.int(16)];
    const sub = grp.subs[r.int(8)];
    for (let j = 0; j < d; j++) out[i * d + j] = grp.centre[j] + 0.4 * sub[j] + 0.05 * r.normal();
  }
  return out;
}
