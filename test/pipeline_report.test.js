// results.json aggregation and the self-contained HTML report.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { fakeResults } from './fixtures/pipeline/fake-results.js';
import { lineChart, barChart } from '../dist/pipeline/report_svg.js';

const { stat, aggregateRuns, summaryTable, renderReport, VARIANTS, SLICES, METRICS } = q.pipeline;

describe('pipeline results and report', () => {
  it('stat gives the mean and the sample standard deviation', () => {
    const s = stat([0.6, 0.62, 0.64]);
    assert.ok(Math.abs(s.mean - 0.62) < 1e-12);
    assert.ok(Math.abs(s.std - 0.02) < 1e-12); // sqrt(((.02)^2*2)/2)
    assert.deepEqual(stat([0.7]), { mean: 0.7, std: 0, values: [0.7] });
  });

  it('aggregates per-seed runs into variants.<name>.<slice>.<metric>.mean/std', () => {
    const r = fakeResults();
    for (const v of VARIANTS)
      for (const s of SLICES)
        for (const m of METRICS) {
          const st = r.variants[v][s][m];
          assert.equal(st.values.length, 3);
          assert.ok(Math.abs(st.mean - st.values.reduce((a, b) => a + b) / 3) < 1e-12);
        }
    const one = aggregateRuns([
      {
        seed: 1,
        test: {
          all: { auc: 1, gauc: 1, logloss: 0 },
          warm: { auc: 1, gauc: 1, logloss: 0 },
          longtail: { auc: 0.75, gauc: 0.7, logloss: 0.5 },
          cold: { auc: 0.5, gauc: 0.5, logloss: 1 },
        },
        validation: { all: { auc: 1, gauc: 1, logloss: 0 }, warm: { auc: 1, gauc: 1, logloss: 0 }, cold: { auc: 1, gauc: 1, logloss: 0 } },
        curve: [],
        bestEpoch: 1,
        seconds: 1,
      },
    ]);
    assert.equal(one.cold.auc.mean, 0.5);
    assert.equal(one.longtail.gauc.mean, 0.7);
    // A run scored before the long-tail slice existed: NaN there, the other slices intact.
    assert.ok(Number.isNaN(one.validation.longtail.auc.mean));
    assert.equal(one.validation.cold.auc.mean, 1);
    const table = summaryTable(r.variants);
    assert.equal(table.split('\n').length, 2 + VARIANTS.length);
    assert.match(table, /\| qarm \| 0\.\d{4} ± 0\.\d{4} \|/);
  });

  it('renders one self-contained HTML page with every section', () => {
    const html = renderReport(fakeResults());
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|<link|src=|@import|url\(/i, 'no scripts or external resources');
    const urls = html.match(/https?:\/\/[^"'\s<]+/g) ?? [];
    assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg'], 'only the SVG namespace');
    for (const v of VARIANTS) assert.ok(html.includes(`<td>${v.replace('+', '+')}</td>`), v);
    for (const h of ['Results (test split)', 'training curves', 'Alignment', 'utilisation per level', 'collision rate']) assert.ok(html.includes(h), h);
    assert.ok((html.match(/<svg /g) ?? []).length >= 5, 'bar, curve, recall and code charts');
    assert.ok(html.includes('&lt;&amp;&gt; &quot;quotes&quot;'), 'text is escaped');
    assert.ok(html.includes('3.10 %'), 'collision rate shown');
  });

  it('shows pair counts, encoder and aligner epochs as tables and keeps unknown alignment fields', () => {
    const r = fakeResults();
    Object.assign(r.alignment, {
      pairCounts: { cooccurrence: 32620, swing: 26104 },
      encoder: { modalities: ['glove', 'chargram'], seconds: 9.15, cached: [] },
      bestEpoch: 3,
      history: [
        { epoch: 1, loss: 5.6889, validation: 0.0777 },
        { epoch: 2, loss: 5.41, validation: 0.081 },
      ],
      futureField: { note: 'a <field> this version does not know' },
    });
    const html = renderReport(r);
    const section = html.slice(html.indexOf('Alignment:'), html.indexOf('<h2>Codes'));
    assert.match(section, /<td>swing<\/td><td>26104<\/td>/);
    assert.match(section, /<td>encoder modalities<\/td><td>glove, chargram<\/td>/);
    assert.match(section, /<td>encoder cached<\/td><td>none<\/td>/);
    assert.match(section, /<td>bestEpoch<\/td><td>3<\/td>/);
    assert.match(section, /<th>epoch<\/th><th>loss<\/th><th>validation<\/th>/);
    assert.match(section, /<tr><td>2<\/td><td>5\.4100<\/td><td>0\.0810<\/td><\/tr>/);
    assert.match(section, /<pre>[^<]*futureField[^<]*&lt;field&gt;/, 'unknown fields stay visible, escaped');
    assert.doesNotMatch(section, /<pre>[^<]*cooccurrence/, 'known fields are not dumped as JSON');
  });

  it('shows the paired differences against qarm as a table, with the per-seed values', () => {
    const r = fakeResults();
    const html = renderReport(r);
    const a = html.indexOf('<h2>Paired differences');
    assert.ok(a > 0, 'paired section');
    const section = html.slice(a, html.indexOf('<h2>', a + 4));
    for (const v of VARIANTS.filter((n) => n !== 'qarm')) {
      const st = r.paired[v].longtail.auc;
      const cell = `${st.mean >= 0 ? '+' : '−'}${Math.abs(st.mean).toFixed(4)} ± ${st.std.toFixed(4)}`;
      assert.ok(section.includes(`<td>${v}</td>`), v);
      assert.ok(section.includes(cell), `${v} long-tail ${cell}`);
      assert.ok(section.includes(`per seed: ${st.values.map((x) => x.toFixed(4)).join(', ')}`), `${v} per-seed values`);
    }
    assert.doesNotMatch(section, /<td>qarm<\/td>/, 'no row for qarm itself');
    assert.match(section, /Test samples per slice: all 1000, warm 800, longtail 250, cold 200/);
    // Every slice has a column in the main table too.
    assert.match(html, /<th colspan="3">longtail<\/th>/);
    // No curve requested: no curve section.
    assert.doesNotMatch(html, /Data efficiency/);
  });

  it('plots the data-efficiency curve: AUC against the fraction on all / long-tail / cold, with its numbers', () => {
    const fractions = [1, 0.5, 0.25, 0.1];
    const r = fakeResults({ fractions });
    const html = renderReport(r);
    assert.doesNotMatch(html, /<script|<link|src=|@import|url\(/i, 'still self-contained');
    const a = html.indexOf('<h2>Data efficiency');
    assert.ok(a > 0, 'curve section');
    const section = html.slice(a, html.indexOf('<h2>', a + 4));
    const svgs = section.match(/<svg [\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 3, 'one chart per slice');
    for (const [svg, slice] of svgs.map((x, i) => [x, ['all', 'longtail', 'cold'][i]])) {
      assert.ok(svg.includes(`${slice}: test AUC`), slice);
      // The measured fractions label the x axis, and every variant has a line with a marker per fraction.
      for (const f of fractions) assert.match(svg, new RegExp(`class="tk">${f}</text>`), `${slice} tick ${f}`);
      for (const v of VARIANTS) {
        const pts = svg.match(new RegExp(`<title>${v.replace('+', '\\+')}: [0-9.]+, [0-9.]+ ± [0-9.e-]+</title>`, 'g')) ?? [];
        assert.equal(pts.length, fractions.length, `${slice} ${v} markers`);
      }
      // Whiskers: two per point (mean ± std) drawn as paths besides the lines.
      assert.ok((svg.match(/<path d="M[^"]+V[^"]+h6M[^"]+h6"/g) ?? []).length >= fractions.length);
    }
    // The numbers behind the plot, with qarm − variant at each fraction.
    const c = r.curve[2];
    const auc = c.variants['id+aligned'].cold.auc;
    const d = c.paired['id+aligned'].cold.auc;
    assert.ok(section.includes(`<tr><td>0.25</td><td>id+aligned</td>`));
    assert.ok(section.includes(`${auc.mean.toFixed(4)} ± ${auc.std.toFixed(4)}`));
    assert.ok(section.includes(`${d.mean >= 0 ? '+' : '−'}${Math.abs(d.mean).toFixed(4)} ± ${d.std.toFixed(4)}`));
    assert.match(section, /<tr><td>0\.5<\/td><td>2500<\/td><td>150<\/td><td>900<\/td><td>700<\/td><td>200<\/td><td>200<\/td><td>4\.3 s<\/td><\/tr>/);
    assert.match(section, /<td>main run<\/td>/);
  });

  it('renders a results.json written before the long-tail slice and paired differences existed', () => {
    const r = fakeResults();
    for (const v of Object.values(r.variants)) {
      delete v.longtail;
      delete v.validation.longtail;
    }
    delete r.paired;
    delete r.testSamples;
    const html = renderReport(r);
    assert.doesNotMatch(html, /Paired differences/);
    assert.match(html, /<th colspan="3">longtail<\/th>/);
    assert.ok(html.includes('<td>n/a</td>'), 'missing slice shown as n/a');
    assert.equal(summaryTable(r.variants).split('\n').length, 2 + VARIANTS.length);
  });

  it('chart legends wrap long names onto extra rows instead of overlapping them', () => {
    const names = ['id', 'id+content', 'id+aligned', 'id+rq-raw', 'qarm', 'id+random-codes', 'qarm-unaligned'];
    for (const [chart, width] of [
      [lineChart, 360],
      [barChart, 420],
      [lineChart, 1400],
    ]) {
      const svg =
        chart === lineChart
          ? lineChart({ title: 't', series: names.map((n, i) => ({ name: n, x: [1, 2], y: [i, i + 1] })), width, height: 240 })
          : barChart({ title: 't', groups: ['all'], series: names.map((n, i) => ({ name: n, values: [0.5 + 0.01 * i] })), width, height: 240 });
      const entries = [...svg.matchAll(/<text x="([0-9.]+)" y="([0-9.]+)" class="lg">([^<]+)<\/text>/g)].map((m) => ({ x: +m[1], y: +m[2], n: m[3] }));
      assert.deepEqual(
        entries.map((e) => e.n),
        names,
      );
      // At least 6 px per character of the 11 px font between neighbours in a row, and no entry past the right edge.
      for (let i = 1; i < entries.length; i++) {
        if (entries[i].y === entries[i - 1].y)
          assert.ok(entries[i].x - entries[i - 1].x >= 14 + 6 * entries[i - 1].n.length, `${entries[i - 1].n} overlaps ${entries[i].n}`);
        else assert.ok(entries[i].y > entries[i - 1].y && entries[i].x < entries[i - 1].x, 'a new row below');
      }
      for (const e of entries) assert.ok(e.x + 6 * e.n.length <= width, `${e.n} inside the chart`);
      const rows = new Set(entries.map((e) => e.y)).size;
      const h = +svg.match(/viewBox="0 0 [0-9.]+ ([0-9.]+)"/)[1];
      assert.equal(h, 240 + (rows - 1) * 14, 'the chart grows by the extra legend rows');
      if (width < 500) assert.ok(rows >= 2, 'seven names need two rows in a narrow chart');
      else assert.equal(rows, 1);
    }
  });

  it('renders a run without alignment or code statistics', () => {
    const r = fakeResults({ seeds: [1] });
    delete r.alignment;
    delete r.codes;
    const html = renderReport(r);
    assert.match(html, /No alignment statistics/);
    assert.match(html, /No code statistics/);
  });
});
