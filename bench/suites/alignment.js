// Alignment quality on the bundled Online Retail data (issue 7 protocol), or on another dataset
// folder with ALIGN_DATA=DIR ALIGN_SPLIT=YYYY-MM-DD,YYYY-MM-DD ALIGN_OUT=alignment-NAME.md.
//   npm run bench alignment            (or: node bench/suites/alignment.js [--quick])
// Time split (bundled data): train < 2011-09-01 <= validation < 2011-10-15 <= test. Pairs are mined the same
// way (co-occurrence + Swing + User2Item, top-N / cap) from each period's events alone.
// Recall@10/50 of test pairs by nearest-neighbour search over all items (query excluded),
// raw content space vs aligned space vs behaviour-only (training co-occurrence cosine), for
// all test pairs, pairs not mined from training, and pairs involving a cold item.
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import * as q from '../../dist/index.js';
import {
  contentEmbeddings,
  pairKeys,
  filterPairs,
  pairRecall,
  embeddingScorer,
  tableScorer,
  cachedScorer,
  mixedScorer,
  trainAligner,
  eventsBetween,
  minePairs,
  cooccurrence,
  cosineNormalize,
  itemUserCounts,
} from '../../dist/align/index.js';
import { machineLine, markdownTable } from '../lib/peers.js';

const quick = process.argv.includes('--quick');
const load0 = os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const t00 = performance.now();
const lap = (m) => console.log(`[${((performance.now() - t00) / 1000).toFixed(1)} s] ${m}`);
const SPLIT = (process.env.ALIGN_SPLIT ?? '2011-09-01,2011-10-15').split(',');
const [T1, T2] = SPLIT.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
const DATA = process.env.ALIGN_DATA ?? q.bundledDatasetDir();
const OUT = process.env.ALIGN_OUT ?? 'alignment.md';
const ds = await q.loadDataset(DATA);
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
console.log('pairs', {
  ...Object.fromEntries(Object.entries(mined.byMiner).map(([k, v]) => [k, v.a.length])),
  union: mined.pairs.a.length,
  valid: vPairs.a.length,
  validNew: vNew.a.length,
  validCold: vCold.a.length,
  testAll: sets.all.a.length,
  testNew: sets.new.a.length,
  testCold: sets.cold.a.length,
});

const behaviour = tableScorer(cosineNormalize(cooccurrence(train, n), itemUserCounts(train, n)));
const rawScorer = cachedScorer(embeddingScorer(rawNorm, n, D), n);
const evalScorer = (scorer) => Object.fromEntries(Object.entries(sets).map(([k, p]) => [k, pairRecall(scorer, n, p).recall]));
const rows = [];
const addRow = (name, r) => rows.push([name, ...['all', 'new', 'cold'].flatMap((s) => [r[s][10].toFixed(4), r[s][50].toFixed(4)])]);
const raw = evalScorer(rawScorer);
addRow(`raw content (${enc.modalities.join('+')}, ${D}-d)`, raw);
lap('raw evaluated');
addRow('behaviour-only (train co-occurrence cosine)', evalScorer(behaviour));

const EPOCHS = quick ? 3 : Number(process.env.ALIGN_EPOCHS ?? 8);
// Weights w of the aligned part in the retrieval space [sqrt(w) aligned, sqrt(1-w) raw] (trainAligner's default grid).
const MIXES = [1, 0.9, 0.8, 0.7, 0.6];
const base = { dims: 64, hidden: [512], batchSize: 512, lr: 2e-3, epochs: EPOCHS, seed: 0, contentMix: [1], log: (m) => lap(m) };
// One training trajectory per configuration (no early stopping inside: every epoch is kept).
// After every epoch the projector is scored on the validation pair sets for every mix weight,
// so each stopping rule can pick its (epoch, w) from validation only; test recall is computed
// per epoch (aligned alone, and mixed at the weight validation prefers) for the trade-off tables.
const times = [];
const trajectories = [];
function trajectory(label, extra, isDefault, trainPairs = mined.pairs) {
  const traj = [];
  const res = trainAligner(content, trainPairs, {
    ...base,
    ...extra,
    onEpoch: (epoch, _model, project) => {
      const z = project();
      const zs = cachedScorer(embeddingScorer(z.toTypedArray(), n, z.shape[1]), n);
      const val = {};
      for (const w of MIXES) {
        const sc = mixedScorer(zs, rawScorer, w);
        val[w] = {
          all: pairRecall(sc, n, vPairs, { ks: [50] }).recall[50],
          new: pairRecall(sc, n, vNew, { ks: [50] }).recall[50],
          cold: pairRecall(sc, n, vCold, { ks: [50] }).recall[50],
        };
      }
      const wAll = MIXES.reduce((b, w) => (val[w].all > val[b].all ? w : b), MIXES[0]);
      const row = {
        epoch,
        val,
        wAll,
        scorer: (w) => mixedScorer(zs, rawScorer, w),
        test: evalScorer(zs),
        testMix: evalScorer(mixedScorer(zs, rawScorer, wAll)),
      };
      z.dispose();
      traj.push(row);
      lap(
        `${label} epoch ${epoch}: val R@50 all ${val[1].all.toFixed(4)} new ${val[1].new.toFixed(4)} cold ${val[1].cold.toFixed(4)}; mixed (w ${wAll}) all ${val[wAll].all.toFixed(4)} | test R@10 all ${row.test.all[10].toFixed(4)} cold ${row.test.cold[10].toFixed(4)}; mixed all ${row.testMix.all[10].toFixed(4)} cold ${row.testMix.cold[10].toFixed(4)}`,
      );
    },
  });
  times.push([label, res.history.reduce((t, h) => t + h.seconds, 0), traj.length - 1]);
  trajectories.push([label, traj]);
  // A stopping rule = a validation pair set; with mixing it picks (epoch, w) jointly.
  const pick = (set, mixes) => {
    let best = { r: -Infinity };
    for (const row of traj) for (const w of mixes) if (row.val[w][set] > best.r) best = { r: row.val[w][set], row, w };
    return best;
  };
  for (const set of ['new', 'all']) {
    const p = pick(set, [1]);
    addRow(`${label}, early stop on ${set === 'all' ? 'all validation pairs' : 'validation pairs not mined from training'} (epoch ${p.row.epoch})`, p.row.test);
  }
  for (const set of ['new', 'all']) {
    const p = pick(set, MIXES);
    const r = p.w === 1 ? p.row.test : p.w === p.row.wAll ? p.row.testMix : evalScorer(p.row.scorer(p.w));
    addRow(
      `${label} ⊕ raw (w ${p.w}), epoch and w chosen on ${set === 'all' ? 'all validation pairs' : 'validation pairs not mined from training'} (epoch ${p.row.epoch})${set === 'all' && isDefault ? ' **[default]**' : ''}`,
      r,
    );
    if (set === 'all' && p.w !== 1) addRow(`${label} alone (${64 * (extra.ensemble ?? 1)}-d) at that epoch (${p.row.epoch})`, p.row.test);
  }
  writeResults();
}
function writeResults() {
  const header = ['space', 'all R@10', 'all R@50', 'new R@10', 'new R@50', 'cold R@10', 'cold R@50'];
  const table = markdownTable(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))));
  console.log(table);
  const counts = Object.entries(mined.byMiner)
    .map(([k, v]) => `${k} ${v.a.length}`)
    .join(', ');
  const fmt = (t) => new Date(t * 1000).toISOString().slice(0, 10);
  const md = `# Item alignment: Recall@K of held-out behaviour pairs (${ds.name})

Command: \`${['ALIGN_DATA', 'ALIGN_SPLIT', 'ALIGN_OUT', 'ALIGN_EPOCHS', 'ALIGN_CONFIGS']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`)
    .join(' ')} node bench/suites/alignment.js${quick ? ' --quick' : ''}\`
Machine: ${machineLine()}; load average at start ${load0}, at end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (shared with other engineers' jobs: wall times are noisy, recall is deterministic).

Split: train < ${fmt(T1)} <= validation < ${fmt(T2)} <= test (${train.length} / ${valid.length} / ${test.length} events).
Items: ${n} (${n - seenItem.reduce((s, x) => s + x, 0)} without training events = cold).
Content: ${enc.modalities.join(' + ')} fused (${D}-d); encoder wall time ${encSeconds.toFixed(1)} s (no cache).
Training pairs (top-20 per item, cap 50 per item): ${counts}; union ${mined.pairs.a.length} (mining ${mineSeconds.toFixed(1)} s).
Validation pairs: ${vPairs.a.length} (${vNew.a.length} not mined from training, ${vCold.a.length} with a cold item).
Test pairs: all ${sets.all.a.length}, not mined from training ${sets.new.a.length}, involving a cold item ${sets.cold.a.length}.
Recall@K: each pair queried both ways over all ${n} items (query excluded, ties ranked against the target).
Aligner: MLP ${D}-(hidden h as labelled)-64, L2-normalised, symmetric in-batch InfoNCE (temperature tau as labelled, batch 512, in-batch false negatives masked), Adam lr 2e-3, ${EPOCHS} epochs; "ensemble M": M projectors from different seeds trained side by side, aligned space = their outputs concatenated / √M (cosine = mean member cosine), all stopped at the same epoch.
Stopping rules keep the epoch with the best validation R@50 on their pair set (all validation pairs are scored). "⊕ raw (w)": the retrieval space [√w · aligned, √(1−w) · raw content] (cosine = w·cos_aligned + (1−w)·cos_raw), w from {${MIXES.join(', ')}} chosen together with the epoch on the same validation pairs; **[default]** marks what \`align()\` / \`trainAligner\` do by default.

${table}

Per-epoch trajectories (validation R@50 by pair set, aligned alone and mixed at the w that validation prefers on all pairs; test R@10):

${trajectories.map(([nm, tr]) => `${nm}:\n\n` + markdownTable(tr.map((r) => ({ epoch: r.epoch, 'val all R@50': r.val[1].all.toFixed(4), 'val new R@50': r.val[1].new.toFixed(4), 'val cold R@50': r.val[1].cold.toFixed(4), 'mix w': r.wAll, 'mixed val all R@50': r.val[r.wAll].all.toFixed(4), 'test all R@10': r.test.all[10].toFixed(4), 'test new R@10': r.test.new[10].toFixed(4), 'test cold R@10': r.test.cold[10].toFixed(4), 'mixed test all R@10': r.testMix.all[10].toFixed(4), 'mixed test cold R@10': r.testMix.cold[10].toFixed(4) })))).join('\n\n')}

Aligner training wall times (excluding the per-epoch scoring of the pair sets): ${times.map(([nm, s, ep]) => `${nm}: ${s.toFixed(0)} s for ${ep} epochs`).join('; ')}.
`;
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../results/${OUT}`, import.meta.url), md);
}
// Configurations (ALIGN_CONFIGS, default: lib/align's defaults 'h512-t0.2-e3'), '-'-separated
// fields: hN = hidden layer width N, tX = temperature X, eM = ensemble of M projectors.
const DEFAULT = { h: 512, t: 0.2, e: 3 };
for (const c of (process.env.ALIGN_CONFIGS ?? (quick ? 'h512-t0.2-e1' : 'h512-t0.2-e3')).split(',')) {
  const f = { ...DEFAULT, ...Object.fromEntries(c.split('-').map((x) => [x[0], Number(x.slice(1))])) };
  if (![f.h, f.t, f.e].every((v) => v > 0)) throw new Error(`bad ALIGN_CONFIGS entry '${c}'`);
  trajectory(
    `aligned (h ${f.h}, tau ${f.t}${f.e > 1 ? `, ensemble ${f.e}` : ''})`,
    { hidden: [f.h], temperature: f.t, ensemble: f.e },
    f.h === DEFAULT.h && f.t === DEFAULT.t && f.e === DEFAULT.e,
  );
}
