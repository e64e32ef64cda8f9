/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no network) that
 * shows a `qarm run`: the results table, AUC by variant and slice, paired differences against
 * qarm, the data-efficiency curve, training curves, the alignment recall before/after, and the
 * code statistics.
 */
import { barChart, esc, lineChart, PALETTE } from './report_svg.js';
import { CURVE_SLICES, fmtDiff, fmtStat, METRICS, PAIRED_METRICS, SLICES, type Paired, type Results, type VariantMetrics } from './results.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:1280px;margin:0 auto;padding:20px 28px 60px;background:#fff}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.meta{color:#555;font-size:13px}.meta code{background:#f2f2f2;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:8px 0;font-size:12px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f4f4f4}th[colspan]{text-align:center}td:first-child,th:first-child{text-align:left}td.best{font-weight:700;background:#eef6ee}td.pos{background:#eef6ee}td.neg{background:#fbeeee}
.charts{display:flex;flex-wrap:wrap;gap:10px}
svg{background:#fff;border:1px solid #eee}
svg .ct{font-size:13px;font-weight:600;fill:#222}svg .tk{font-size:11px;fill:#555}svg .lg{font-size:11px;fill:#333}
svg .vl{font-size:9px;fill:#333}svg .grid{stroke:#eee}svg .axis{stroke:#999}svg .frame{fill:none;stroke:#ccc}svg .err{stroke:#222;stroke-width:1.2;fill:none}
pre{background:#f6f6f6;padding:10px;overflow:auto;font-size:12px;max-height:420px}
.note{color:#555;font-size:13px}
`;

/** Renders results.json as report.html. */
export function renderReport(r: Results): string {
  const out: string[] = [];
  out.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>qarm run — ${esc(r.dataset.name)}</title><style>${CSS}</style></head><body><main>`,
  );
  out.push(`<h1>qarm run — ${esc(r.dataset.name)}</h1>`);
  out.push(
    `<p class="meta">${esc(r.createdAt)} · qarm ${esc(r.qarm)} · <code>${esc(r.command)}</code><br>` +
      `wall time ${r.wallSeconds.toFixed(1)} s on ${r.machine.threads} thread(s) of ${r.machine.cpus} CPU(s)${r.machine.rankWorkers ? `, ${r.machine.rankWorkers} ranking worker(s)` : ''}${r.machine.loadAverage ? ` (load average ${r.machine.loadAverage.start[0].toFixed(1)} at start)` : ''}, node ${esc(r.machine.node)} · seeds ${esc(r.seeds.join(', '))}</p>`,
  );
  out.push(resultsSection(r));
  out.push(pairedSection(r));
  out.push(dataEfficiencySection(r));
  out.push(curvesSection(r));
  out.push(alignmentSection(r));
  out.push(codesSection(r));
  out.push(setupSection(r));
  out.push('</main></body></html>');
  return out.join('\n');
}

function metricTable(variants: Record<string, VariantMetrics>, caption: string): string {
  const names = Object.keys(variants);
  if (!names.length) return '';
  const best: Record<string, string> = {};
  for (const s of SLICES)
    for (const m of METRICS) {
      let bestName = '',
        bestVal = m === 'logloss' ? Infinity : -Infinity;
      for (const n of names) {
        const v = variants[n][s]?.[m]?.mean;
        if (!Number.isFinite(v)) continue;
        if (m === 'logloss' ? v < bestVal : v > bestVal) {
          bestVal = v;
          bestName = n;
        }
      }
      best[`${s}.${m}`] = bestName;
    }
  const h1 = `<tr><th rowspan="2">variant</th>${SLICES.map((s) => `<th colspan="${METRICS.length}">${s}</th>`).join('')}</tr>`;
  const h2 = `<tr>${SLICES.map(() => METRICS.map((m) => `<th>${m}</th>`).join('')).join('')}</tr>`;
  const rows = names.map((n) => {
    const cells = SLICES.map((s) =>
      METRICS.map((m) => {
        const st = variants[n][s]?.[m];
        const cls = best[`${s}.${m}`] === n ? ' class="best"' : '';
        return `<td${cls}>${st ? esc(fmtStat(st)) : 'n/a'}</td>`;
      }).join(''),
    ).join('');
    return `<tr><td>${esc(n)}</td>${cells}</tr>`;
  });
  return `<table><caption style="text-align:left;caption-side:top;color:#555">${esc(caption)}</caption>${h1}${h2}${rows.join('')}</table>`;
}

/** `evaluation.longTailMax` of the run's config (5 where absent). */
function longTailMax(r: Results): number {
  const c = r.config as { evaluation?: { longTailMax?: number } } | null;
  return c?.evaluation?.longTailMax ?? 5;
}

function resultsSection(r: Results): string {
  const out: string[] = ['<h2>Results (test split)</h2>'];
  out.push(
    metricTable(
      r.variants,
      `mean ± std over seeds; best per column in bold (lowest for logloss); long-tail = warm items with fewer than ${longTailMax(r)} training events`,
    ),
  );
  const names = Object.keys(r.variants);
  const charts: string[] = [];
  for (const m of ['auc', 'gauc'] as const) {
    charts.push(
      barChart({
        title: `Test ${m.toUpperCase()} by variant (± std over ${r.seeds.length} seeds)`,
        groups: [...SLICES],
        series: names.map((n) => ({
          name: n,
          values: SLICES.map((s) => r.variants[n][s]?.[m]?.mean ?? NaN),
          errors: SLICES.map((s) => r.variants[n][s]?.[m]?.std ?? NaN),
        })),
        yLabel: m,
        width: 620,
      }),
    );
  }
  out.push(`<div class="charts">${charts.join('')}</div>`);
  out.push('<h3>Validation split (used for early stopping and every choice)</h3>');
  const val: Record<string, VariantMetrics> = {};
  for (const n of names) val[n] = r.variants[n].validation;
  out.push(metricTable(val, 'validation metrics at the early-stopping epoch'));
  if (r.ablations && Object.keys(r.ablations).length) {
    out.push('<h3>Ablations (test split)</h3>');
    out.push(metricTable(r.ablations, 'same protocol and seeds'));
  }
  if (r.notes?.length) out.push(`<ul class="note">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return out.join('\n');
}

/**
 * `paired` as a table: mean ± std over seeds of qarm − variant; a cell is shaded when the mean
 * is more than 2 std from 0 (green: qarm ahead, red: behind), the issue's bar for an effect.
 */
function pairedTable(paired: Paired, caption: string): string {
  const names = Object.keys(paired);
  if (!names.length) return '';
  const h1 = `<tr><th rowspan="2">qarm − variant</th>${SLICES.map((s) => `<th colspan="${PAIRED_METRICS.length}">${s}</th>`).join('')}</tr>`;
  const h2 = `<tr>${SLICES.map(() => PAIRED_METRICS.map((m) => `<th>${m}</th>`).join('')).join('')}</tr>`;
  const rows = names.map((n) => {
    const cells = SLICES.map((s) =>
      PAIRED_METRICS.map((m) => {
        const st = paired[n][s]?.[m];
        const sig = st && Number.isFinite(st.mean) && st.values.length > 1 && Math.abs(st.mean) > 2 * st.std;
        const cls = sig ? (st.mean > 0 ? ' class="pos"' : ' class="neg"') : '';
        const title = st ? ` title="${esc(`per seed: ${st.values.map((v) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a')).join(', ')}`)}"` : '';
        return `<td${cls}${title}>${esc(fmtDiff(st))}</td>`;
      }).join(''),
    ).join('');
    return `<tr><td>${esc(n)}</td>${cells}</tr>`;
  });
  return `<table><caption style="text-align:left;caption-side:top;color:#555">${esc(caption)}</caption>${h1}${h2}${rows.join('')}</table>`;
}

function pairedSection(r: Results): string {
  if (!r.paired || !Object.keys(r.paired).length) return '';
  const out: string[] = ['<h2>Paired differences: qarm − variant (test split)</h2>'];
  out.push(
    pairedTable(
      r.paired,
      `per seed (same seed, same split), then mean ± sample std over ${r.seeds.length} seed(s); shaded where |mean| > 2 std (green: qarm ahead); hover a cell for the per-seed values`,
    ),
  );
  if (r.testSamples) {
    const s = r.testSamples;
    out.push(`<p class="note">Test samples per slice: ${SLICES.map((k) => `${esc(k)} ${s[k] ?? 'n/a'}`).join(', ')}.</p>`);
  }
  return out.join('\n');
}

/** AUC against the share of training users, one chart per slice of {@link CURVE_SLICES}, and its numbers. */
function dataEfficiencySection(r: Results): string {
  const curve = r.curve;
  if (!curve?.length) return '';
  const out: string[] = ['<h2>Data efficiency: test AUC against the share of training users</h2>'];
  out.push(
    '<p class="note">At each fraction the aligner, codes and ranker see that share of the training users; validation and test are the same. Markers: mean over seeds, whiskers ± std. Warm / long-tail / cold follow each fraction\'s own training events.</p>',
  );
  const names = [...new Set(curve.flatMap((c) => Object.keys(c.variants)))];
  const xs = curve.map((c) => c.fraction);
  const charts = CURVE_SLICES.map((s) =>
    lineChart({
      title: `${s}: test AUC`,
      series: names.map((n, vi) => ({
        name: n,
        x: xs,
        y: curve.map((c) => c.variants[n]?.[s]?.auc?.mean ?? NaN),
        errors: curve.map((c) => c.variants[n]?.[s]?.auc?.std ?? NaN),
        color: PALETTE[vi % PALETTE.length],
      })),
      xLabel: 'share of training users',
      yLabel: 'AUC',
      xTicks: xs,
      width: 400,
      height: 300,
    }),
  );
  out.push(`<div class="charts">${charts.join('')}</div>`);
  const head = `<tr><th rowspan="2">fraction</th><th rowspan="2">variant</th><th colspan="${CURVE_SLICES.length}">test AUC</th><th colspan="${CURVE_SLICES.length}">qarm − variant (AUC, per seed)</th></tr><tr>${CURVE_SLICES.map((s) => `<th>${s}</th>`).join('')}${CURVE_SLICES.map((s) => `<th>${s}</th>`).join('')}</tr>`;
  const rows = curve.flatMap((c) =>
    names.map((n) => {
      const v = c.variants[n];
      const p = c.paired?.[n];
      return `<tr><td>${c.fraction}</td><td>${esc(n)}</td>${CURVE_SLICES.map((s) => `<td>${esc(fmtStat(v?.[s]?.auc))}</td>`).join('')}${CURVE_SLICES.map((s) => `<td>${p ? esc(fmtDiff(p[s]?.auc)) : ''}</td>`).join('')}</tr>`;
    }),
  );
  out.push(`<table>${head}${rows.join('')}</table>`);
  const sizes = curve.map(
    (c) =>
      `<tr><td>${c.fraction}</td><td>${c.trainSamples}</td><td>${c.warmItems}</td>${SLICES.map((s) => `<td>${c.testSamples[s] ?? ''}</td>`).join('')}<td>${c.seconds ? `${c.seconds.toFixed(1)} s` : 'main run'}</td></tr>`,
  );
  out.push(
    `<table><tr><th>fraction</th><th>training samples</th><th>warm items</th>${SLICES.map((s) => `<th>test ${s}</th>`).join('')}<th>wall time</th></tr>${sizes.join('')}</table>`,
  );
  return out.join('\n');
}

function curvesSection(r: Results): string {
  const out: string[] = [
    '<h2>Ranker training curves</h2>',
    '<p class="note">Validation AUC (solid) per epoch for each seed; the run keeps the best epoch. Training loss on the right.</p>',
  ];
  const charts: string[] = [];
  const names = Object.keys(r.variants);
  charts.push(
    lineChart({
      title: 'Validation AUC per epoch (all seeds)',
      series: names
        .flatMap((n, vi) =>
          r.variants[n].curves.map((c, ci) => ({
            name: ci === 0 ? n : '',
            x: c.points.map((p) => p.epoch),
            y: c.points.map((p) => p.valAuc),
            color: PALETTE[vi % PALETTE.length],
            dashed: ci > 0,
          })),
        )
        .filter((s) => s.x.length),
      xLabel: 'epoch',
      yLabel: 'AUC',
      width: 620,
      height: 300,
    }),
  );
  charts.push(
    lineChart({
      title: 'Training loss per epoch (first seed)',
      series: names.map((n, vi) => {
        const c = r.variants[n].curves[0];
        return { name: n, x: c ? c.points.map((p) => p.epoch) : [], y: c ? c.points.map((p) => p.trainLoss) : [], color: PALETTE[vi % PALETTE.length] };
      }),
      xLabel: 'epoch',
      yLabel: 'BCE',
      width: 620,
      height: 300,
    }),
  );
  out.push(`<div class="charts">${charts.join('')}</div>`);
  const rows = names.map((n) => {
    const v = r.variants[n];
    return `<tr><td>${esc(n)}</td><td>${esc(v.bestEpochs.join(', '))}</td><td>${esc(v.trainSeconds.map((s) => s.toFixed(1)).join(', '))}</td></tr>`;
  });
  out.push(`<table><tr><th>variant</th><th>best epoch per seed</th><th>training seconds per seed</th></tr>${rows.join('')}</table>`);
  return out.join('\n');
}

function alignmentSection(r: Results): string {
  const a = r.alignment;
  const out: string[] = ['<h2>Alignment: held-out pair recall, raw content vs aligned</h2>'];
  if (!a || !a.recall?.length) return out.concat('<p class="note">No alignment statistics in this run.</p>').join('\n');
  const hasB = a.recall.some((x) => x.behaviour !== undefined);
  const hasM = a.recall.some((x) => x.mixed !== undefined);
  const opt = (has: boolean, v: number | undefined): string => (has ? `<td>${v !== undefined ? v.toFixed(4) : ''}</td>` : '');
  const rows = a.recall.map(
    (x) =>
      `<tr><td>${esc(x.set)}</td><td>${x.k}</td><td>${x.raw.toFixed(4)}</td><td>${x.aligned.toFixed(4)}</td><td>${(x.aligned / (x.raw || NaN)).toFixed(2)}×</td>${opt(hasM, x.mixed)}${opt(hasB, x.behaviour)}</tr>`,
  );
  out.push(
    `<table><tr><th>pair set</th><th>K</th><th>raw R@K</th><th>aligned R@K</th><th>ratio</th>${hasM ? '<th>aligned ⊕ content (codes)</th>' : ''}${hasB ? '<th>behaviour only</th>' : ''}</tr>${rows.join('')}</table>`,
  );
  const groups = a.recall.map((x) => `${x.set.split(' (')[0]} @${x.k}`);
  const series = [
    { name: 'raw content', values: a.recall.map((x) => x.raw) },
    { name: 'aligned', values: a.recall.map((x) => x.aligned) },
  ];
  if (hasM) series.push({ name: 'aligned ⊕ content', values: a.recall.map((x) => x.mixed ?? NaN) });
  if (hasB) series.push({ name: 'behaviour only', values: a.recall.map((x) => x.behaviour ?? NaN) });
  out.push(barChart({ title: 'Recall@K of held-out pairs', groups, series, yMin: 0, yLabel: 'recall', width: Math.max(540, 110 * groups.length) }));
  out.push(alignmentDetails(a));
  return out.join('\n');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const fmtNum = (v: unknown, digits = 4): string => (isNum(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : esc(String(v ?? '')));

/**
 * Pair counts, encoder and aligner epochs as tables; whatever else results.json holds under
 * `alignment` (written by a newer or older qarm) stays visible as JSON rather than being dropped.
 */
function alignmentDetails(a: NonNullable<Results['alignment']>): string {
  const out: string[] = [];
  const rest: Record<string, unknown> = {};
  const { recall: _recall, pairCounts, encoder, history, ...others } = a as Record<string, unknown>;
  if (pairCounts && typeof pairCounts === 'object') {
    const rows = Object.entries(pairCounts as Record<string, unknown>).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmtNum(v)}</td></tr>`);
    out.push(
      `<h3>Mined pairs (training miners, their union, and the validation pairs the aligner early-stops on)</h3><table><tr><th>miner</th><th>pairs</th></tr>${rows.join('')}</table>`,
    );
  } else if (pairCounts !== undefined) rest.pairCounts = pairCounts;
  const scalars = Object.entries(others).filter(([, v]) => v === null || typeof v !== 'object');
  for (const [k, v] of Object.entries(others)) if (v !== null && typeof v === 'object') rest[k] = v;
  if (encoder && typeof encoder === 'object') {
    const e = encoder as Record<string, unknown>;
    for (const [k, v] of Object.entries(e)) scalars.push([`encoder ${k}`, Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : v]);
  } else if (encoder !== undefined) rest.encoder = encoder;
  if (scalars.length) {
    const rows = scalars.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmtNum(v)}</td></tr>`);
    out.push(`<h3>Encoder and aligner</h3><table><tr><th>field</th><th>value</th></tr>${rows.join('')}</table>`);
  }
  if (Array.isArray(history) && history.length && history.every((h) => h && typeof h === 'object')) {
    const hs = history as Record<string, unknown>[];
    const cols = [...new Set(hs.flatMap((h) => Object.keys(h)))];
    const rows = hs.map((h) => `<tr>${cols.map((c) => `<td>${fmtNum(h[c])}</td>`).join('')}</tr>`);
    out.push(`<h3>Aligner epochs</h3><table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows.join('')}</table>`);
  } else if (history !== undefined) rest.history = history;
  if (Object.keys(rest).length) out.push(`<pre>${esc(JSON.stringify(rest, null, 2))}</pre>`);
  return out.join('\n');
}

function codesSection(r: Results): string {
  const out: string[] = ['<h2>Codes: utilisation per level and collisions</h2>'];
  const codes = r.codes ?? [];
  if (!codes.length) return out.concat('<p class="note">No code statistics in this run.</p>').join('\n');
  const maxL = Math.max(...codes.map((c) => c.levels));
  out.push(
    barChart({
      title: 'Code utilisation per level (share of codebook entries used)',
      groups: Array.from({ length: maxL }, (_, l) => `level ${l + 1}`),
      series: codes.map((c) => ({ name: c.name, values: Array.from({ length: maxL }, (_, l) => c.utilisation[l] ?? NaN) })),
      yMin: 0,
      yMax: 1,
      yLabel: 'utilisation',
      width: 720,
    }),
  );
  const rows = codes.map(
    (c) =>
      `<tr><td>${esc(c.name)}</td><td>${c.levels}</td><td>${esc(c.codebookSize.join(' × '))}</td><td>${esc(c.utilisation.map((u) => u.toFixed(3)).join(', '))}</td><td>${esc(c.perplexity.map((p) => p.toFixed(1)).join(', '))}</td><td>${(100 * c.collisionRate).toFixed(2)} %</td><td>${c.largestBucket ?? ''}</td><td>${c.untrainedRows ? esc(c.untrainedRows.join(', ')) : ''}</td></tr>`,
  );
  out.push(
    `<table><tr><th>codes</th><th>levels</th><th>codebook</th><th>utilisation per level</th><th>perplexity per level</th><th>collision rate</th><th>largest bucket</th><th>codes no training item uses, per level</th></tr>${rows.join('')}</table>`,
  );
  out.push(
    '<p class="note">Collision rate: share of items whose full code tuple is shared with another item. Codes that no training item uses have never received a gradient; the ranker treats them as described in the notes.</p>',
  );
  return out.join('\n');
}

function setupSection(r: Results): string {
  const out: string[] = ['<h2>Data, protocol and configuration</h2>'];
  const t = Object.entries(r.timings).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v.toFixed(1)} s</td></tr>`);
  out.push(`<h3>Timings</h3><table><tr><th>step</th><th>wall time</th></tr>${t.join('')}</table>`);
  out.push(`<h3>Dataset</h3><pre>${esc(JSON.stringify(r.dataset, null, 2))}</pre>`);
  out.push(`<h3>Configuration</h3><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>`);
  return out.join('\n');
}
