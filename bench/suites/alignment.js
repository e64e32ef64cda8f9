// Alignment quality on the bundled Online Retail data (issue 7 protocol).
//   npm run bench alignment            (or: node bench/suites/alignment.js [--quick])
// Time split: train < 2011-09-01 <= validation < 2011-10-15 <= test. Pairs are mined the same
// way (co-occurrence + Swing + User2Item, top-N / cap) from each period's events alone.
// Recall@10/50 of test pairs by nearest-neighbour search over all items (query excluded),
// raw content space vs aligned space vs behaviour-only (training co-occurrence cosine), for
// all test pairs, pairs not mined from training, and pairs involving a cold item.
import { writeFileSync, mkdirSync } from 'node:fs';
import * as q from '../../dist/index.js';
import { projectAll, contentEmbeddings, pairKeys, filterPairs, pairRecall, embeddingScorer, tableScorer, trainAligner,
  eventsBetween, minePairs, cooccurrence, cosineNormalize, itemUserCounts } from '../../dist/align/index.js';
import { machineLine, markdownTable } from '../lib/peers.js';

const quick = process.argv.includes('--quick');
const t00 = performance.now();
const lap = (m) => console.log(`[${((performance.now() - t00) / 1000).toFixed(1)} s] ${m}`);
const T1 = Date.UTC(2011, 8, 1) / 1000;
const T2 = Date.UTC(2011, 9, 15) / 1000;
const ds = await q.loadDataset(q.bundledDatasetDir());
const n = ds.items.length;

// Encoders, timed without the cache.
const tEnc = performance.now();
const enc = await contentEmbeddings(ds, { cacheDir: false });
const encSeconds = (performance.now() - tEnc) / 1000;
lap('encoded');
const content = enc.content;
const D = content.shape[1];
const rawNorm = Float32Array.from(content.toTypedArray());
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let c = 0; c < D; c++) s += rawNorm[i * D + c] ** 2;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let c = 0; c < D; c++) rawNorm[i * D + c] *= inv;
}

const train = eventsBetween(ds.interactions, -Infinity, T1);
const valid = eventsBetween(ds.interactions, T1, T2);
const test = eventsBetween(ds.interactions, T2);
const tMine = performance.now();
const mined = minePairs(train, n);
const mineSeconds = (performance.now() - tMine) / 1000;
lap('mined train');
const vPairs = minePairs(valid, n).pairs;
const tPairs = minePairs(test, n).pairs;
lap('mined valid/test');
const trainKeys = pairKeys(mined.pairs, n);
const key = (a, b) => Math.min(a, b) * n + Math.max(a, b);
const seenItem = new Uint8Array(n);
for (const e of train) seenItem[e.item] = 1;
const sets = {
  all: tPairs,
  new: filterPairs(tPairs, (a, b) => !trainKeys.has(key(a, b))),
  cold: filterPairs(tPairs, (a, b) => !seenItem[a] || !seenItem[b]),
};
const vNew = filterPairs(vPairs, (a, b) => !trainKeys.has(key(a, b)));
const vCold = filterPairs(vPairs, (a, b) => !seenItem[a] || !seenItem[b]);
console.log('pairs', { ...Object.fromEntries(Object.entries(mined.byMiner).map(([k, v]) => [k, v.a.length])), union: mined.pairs.a.length,
  valid: vPairs.a.length, validNew: vNew.a.length, validCold: vCold.a.length, testAll: sets.all.a.length, testNew: sets.new.a.length, testCold: sets.cold.a.length });

const behaviour = tableScorer(cosineNormalize(cooccurrence(train, n), itemUserCounts(train, n)));
const evalScorer = (scorer) => Object.fromEntries(Object.entries(sets).map(([k, p]) => [k, pairRecall(scorer, n, p).recall]));
const rows = [];
const addRow = (name, r) => rows.push([name, ...['all', 'new', 'cold'].flatMap((s) => [r[s][10].toFixed(4), r[s][50].toFixed(4)])]);
const raw = evalScorer(embeddingScorer(rawNorm, n, D));
addRow(`raw content (${enc.modalities.join('+')}, ${D}-d)`, raw);
lap('raw evaluated');
addRow('behaviour-only (train co-occurrence cosine)', evalScorer(behaviour));

const EPOCHS = quick ? 3 : Number(process.env.ALIGN_EPOCHS ?? 10);
const base = { dims: 64, hidden: [256], temperature: 0.1, batchSize: 512, lr: 2e-3, epochs: EPOCHS, seed: 0,
  log: (m) => lap(m) };
// One training trajectory per configuration; after every epoch the projector is scored on the
// validation pairs (both candidate stopping sets) and on the test sets, so the table shows what
// each stopping rule would have kept, and the per-epoch trade-off.
const times = [];
const trajectories = [];
function trajectory(label, extra, trainPairs = mined.pairs) {
  const traj = [];
  const res = trainAligner(content, trainPairs, {
    ...base, ...extra,
    onEpoch: (epoch, model) => {
      const z = projectAll(model, content);
      const sc = embeddingScorer(z.toTypedArray(), n, 64);
      const row = { epoch, vAll: pairRecall(sc, n, vPairs, { ks: [50] }).recall[50], vNew: pairRecall(sc, n, vNew, { ks: [50] }).recall[50],
        vCold: pairRecall(sc, n, vCold, { ks: [50] }).recall[50], test: evalScorer(sc) };
      z.dispose();
      traj.push(row);
      lap(`${label} epoch ${epoch}: val all ${row.vAll.toFixed(4)} new ${row.vNew.toFixed(4)} cold ${row.vCold.toFixed(4)} | test R@10 all ${row.test.all[10].toFixed(4)} new ${row.test.new[10].toFixed(4)} cold ${row.test.cold[10].toFixed(4)}`);
    },
  });
  times.push([label, res.history.reduce((t, h) => t + h.seconds, 0), traj.length - 1]);
  trajectories.push([label, traj]);
  const pick = (key) => traj.reduce((b, r) => (r[key] > b[key] ? r : b), traj[0]);
  const bNew = pick('vNew');
  const bAll = pick('vAll');
  addRow(`${label}, early stop on validation pairs not mined from training (epoch ${bNew.epoch})`, bNew.test);
  addRow(`${label}, early stop on all validation pairs (epoch ${bAll.epoch})`, bAll.test);
  if (!quick) writeResults();
}
function writeResults() {
const header = ['space', 'all R@10', 'all R@50', 'new R@10', 'new R@50', 'cold R@10', 'cold R@50'];
const table = markdownTable(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))));
console.log(table);
const counts = Object.entries(mined.byMiner).map(([k, v]) => `${k} ${v.a.length}`).join(', ');
const md = `# Item alignment: Recall@K of held-out behaviour pairs (bundled Online Retail)

Command: \`${['ALIGN_EPOCHS', 'ALIGN_TAUS', 'ALIGN_TOPN', 'ALIGN_NB'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`).join(' ')} node bench/suites/alignment.js\` (\`npm run bench alignment\` = 10 epochs, tau 0.1 and 0.05)
Machine: ${machineLine()}

Split: train < 2011-09-01 <= validation < 2011-10-15 <= test (${train.length} / ${valid.length} / ${test.length} events).
Items: ${n} (${n - seenItem.reduce((s, x) => s + x, 0)} without training events = cold).
Content: ${enc.modalities.join(' + ')} fused (${D}-d); encoder wall time ${encSeconds.toFixed(1)} s (no cache).
Training pairs (top-20 per item, cap 50 per item): ${counts}; union ${mined.pairs.a.length} (mining ${mineSeconds.toFixed(1)} s).
Validation pairs: ${vPairs.a.length} (${vNew.a.length} not mined from training, ${vCold.a.length} with a cold item).
Test pairs: all ${sets.all.a.length}, not mined from training ${sets.new.a.length}, involving a cold item ${sets.cold.a.length}.
Recall@K: each pair queried both ways over all ${n} items (query excluded, ties ranked against the target).
Aligner: MLP ${D}-256-64, L2-normalised, symmetric in-batch InfoNCE (tau as labelled, batch 512, in-batch false negatives masked), Adam lr 2e-3, ${EPOCHS} epochs; each early-stopping rule keeps the epoch with the best validation R@50 on its pair set (all validation pairs are scored).

${table}

Per-epoch trajectories (validation R@50 by pair set; test R@10 by pair set):

${trajectories.map(([nm, tr]) => `${nm}:\n\n` + markdownTable(tr.map((r) => ({ epoch: r.epoch, 'val all R@50': r.vAll.toFixed(4), 'val new R@50': r.vNew.toFixed(4), 'val cold R@50': r.vCold.toFixed(4), 'test all R@10': r.test.all[10].toFixed(4), 'test new R@10': r.test.new[10].toFixed(4), 'test cold R@10': r.test.cold[10].toFixed(4) })))).join('\n\n')}

Aligner training wall times (excluding the per-epoch scoring of the pair sets; machine shared with other engineers' builds, load ~10-16 on 2 cores): ${times.map(([nm, s, ep]) => `${nm}: ${s.toFixed(0)} s for ${ep} epochs`).join('; ')}.
`;
mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/alignment.md', import.meta.url), md);
}
// Configurations: InfoNCE temperatures (ALIGN_TAUS, default 0.1,0.05); ALIGN_NB=w adds a run
// with the neighbourhood-keeping term at weight w (tau 0.1).
for (const tau of (process.env.ALIGN_TAUS ?? (quick ? '0.1' : '0.1,0.05')).split(',').map(Number)) trajectory(`aligned (tau ${tau})`, { temperature: tau });
if (process.env.ALIGN_TOPN) {
  // A larger training pair set (top-N per item and cap from ALIGN_TOPN=N,cap); held-out sets unchanged.
  const [topN, cap] = process.env.ALIGN_TOPN.split(',').map(Number);
  const more = minePairs(train, n, { topN, cap }).pairs;
  lap(`mined ${more.a.length} training pairs with topN ${topN}, cap ${cap}`);
  trajectory(`aligned (tau 0.1, ${more.a.length} training pairs: top-${topN}, cap ${cap})`, {}, more);
}
if (process.env.ALIGN_NB) trajectory(`aligned (tau 0.1) + neighbourhood term (w ${process.env.ALIGN_NB})`, { neighbourhoodWeight: Number(process.env.ALIGN_NB) });
if (quick) writeResults();
