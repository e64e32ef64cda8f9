#!/usr/bin/env node
// Markdown tables for the semantic-ID evaluation (issue 14) from `qarm run` results.json files:
// test AUC by slice (mean ± std over seeds), paired per-seed differences qarm − every other
// variant, ablations, and the data-efficiency curve.
//
//   node scripts/semantic-id-tables.mjs results.json [more results.json ...] > tables.md
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fmtDiff, fmtStat, stat } from '../dist/pipeline/results.js';

const SLICES = ['all', 'warm', 'longtail', 'cold'];
const f = fmtStat;
const sgn = fmtDiff;
const row = (cells) => `| ${cells.join(' | ')} |`;
const head = (cells) => `${row(cells)}\n${row(cells.map(() => '---'))}`;

/** Paired mean ± std of qarm − other on a slice, from per-seed values (recomputed, not trusted). */
const paired = (a, b) => (!a || !b || a.values.length !== b.values.length ? null : stat(a.values.map((v, i) => v - b.values[i])));
const verdict = (p) => (!p ? '' : p.mean > 2 * p.std ? ' (> 2 std)' : p.mean < -p.std ? ' (< −1 std)' : '');

for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`## ${file}\n\n(missing: not run)\n`);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const all = { ...r.variants, ...(r.ablations ?? {}) };
  const ds = r.dataset ?? {};
  console.log(`## ${basename(file, '.json')} (dataset "${ds.name ?? '?'}")\n`);
  console.log(
    `\`${r.command}\` — ${r.seeds.length} seeds (${r.seeds.join(', ')}), qarm ${r.qarm}, ${r.wallSeconds?.toFixed(1)} s wall, ` +
      `${r.machine?.cpus} cpus, load at start ${r.machine?.loadAverage?.start?.map((x) => x.toFixed(2)).join('/')}; file \`${file}\`\n`,
  );
  console.log('Test AUC, mean ± std over seeds:\n');
  console.log(head(['variant', ...SLICES]));
  for (const [name, v] of Object.entries(all)) console.log(row([name, ...SLICES.map((s) => f(v[s]?.auc))]));
  console.log('\nPaired per-seed test AUC difference, qarm − variant (mean ± std; "> 2 std" marks a lead of more than two std):\n');
  console.log(head(['qarm − …', ...SLICES]));
  for (const [name, v] of Object.entries(all)) {
    if (name === 'qarm') continue;
    console.log(
      row([
        name,
        ...SLICES.map((s) => {
          const p = paired(all.qarm?.[s]?.auc, v[s]?.auc);
          return p ? sgn(p) + verdict(p) : 'n/a';
        }),
      ]),
    );
  }
  // Issue 14's goal is stated against the better (by mean AUC on the slice) of the two frozen-
  // embedding baselines, so that row picks per slice.
  const better = (s) => ['id+content', 'id+aligned'].filter((n) => all[n]?.[s]?.auc).sort((a, b) => all[b][s].auc.mean - all[a][s].auc.mean)[0];
  if (all.qarm && better('all')) {
    console.log(
      row([
        'better of id+content / id+aligned',
        ...SLICES.map((s) => {
          const n = better(s);
          const p = n ? paired(all.qarm[s]?.auc, all[n][s].auc) : null;
          return p ? `${sgn(p)}${verdict(p)} (${n})` : 'n/a';
        }),
      ]),
    );
  }
  if (Array.isArray(r.curve) && r.curve.length) {
    console.log('\nData-efficiency curve (test AUC, mean ± std; training users kept = fraction):\n');
    const names = Object.keys(r.curve[0].variants);
    for (const s of ['all', 'longtail', 'cold']) {
      console.log(`\n${s}:\n`);
      console.log(head(['fraction', ...names, ...names.filter((n) => n !== 'qarm').map((n) => `qarm − ${n}`)]));
      for (const c of r.curve) {
        const q = c.variants.qarm?.[s]?.auc;
        console.log(
          row([
            String(c.fraction),
            ...names.map((n) => f(c.variants[n]?.[s]?.auc)),
            ...names.filter((n) => n !== 'qarm').map((n) => sgn(paired(q, c.variants[n]?.[s]?.auc))),
          ]),
        );
      }
    }
  }
  console.log('');
}
