// results.json aggregation and the self-contained HTML report.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { fakeResults } from './fixtures/pipeline/fake-results.js';

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
    for (const v of VARIANTS) for (const s of SLICES) for (const m of METRICS) {
      const st = r.variants[v][s][m];
      assert.equal(st.values.length, 3);
      assert.ok(Math.abs(st.mean - st.values.reduce((a, b) => a + b) / 3) < 1e-12);
    }
    const one = aggregateRuns([{ seed: 1, test: { all: { auc: 1, gauc: 1, logloss: 0 }, warm: { auc: 1, gauc: 1, logloss: 0 }, cold: { auc: 0.5, gauc: 0.5, logloss: 1 } }, validation: { all: { auc: 1, gauc: 1, logloss: 0 }, warm: { auc: 1, gauc: 1, logloss: 0 }, cold: { auc: 1, gauc: 1, logloss: 0 } }, curve: [], bestEpoch: 1, seconds: 1 }]);
    assert.equal(one.cold.auc.mean, 0.5);
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
      history: [{ epoch: 1, loss: 5.6889, validation: 0.0777 }, { epoch: 2, loss: 5.41, validation: 0.081 }],
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

  it('renders a run without alignment or code statistics', () => {
    const r = fakeResults({ seeds: [1] });
    delete r.alignment;
    delete r.codes;
    const html = renderReport(r);
    assert.match(html, /No alignment statistics/);
    assert.match(html, /No code statistics/);
  });
});
