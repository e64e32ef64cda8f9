// Evaluation that can resolve small effects: the long-tail slice (membership and its metrics)
// and paired per-seed differences against qarm, each checked against a plain recomputation.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { sliceClasses, sliceMetrics, sliceSizes } from '../dist/pipeline/slice_metrics.js';
import { assertThrowsTyped } from './helpers.js';

const { buildProtocol, itemOrder, toRankSamples, aggregateRuns, pairedDifferences, pairedTable, SLICES } = q.pipeline;
const DAY = 86400;
const T0 = 1.2e9;
const SPLIT = { trainEnd: T0 + 70 * DAY, testStart: T0 + 85 * DAY };

/** Zipf-like item popularity, so many items sell once or twice (a long tail), plus repeats. */
function longTailLog({ users = 90, items = 120, baskets = 700, days = 100, seed = 21 } = {}) {
  const g = new q.Generator(seed);
  const user = [],
    item = [],
    time = [],
    basket = [];
  for (let b = 0; b < baskets; b++) {
    const u = g.int(users);
    const t = T0 + Math.floor(g.uniform() * days * DAY);
    for (let j = 1 + g.int(4); j > 0; j--) {
      user.push(u);
      item.push(Math.min(items - 1, Math.floor(1 / (0.02 + 0.98 * g.uniform()) - 1)));
      time.push(t);
      basket.push(b);
    }
  }
  return {
    numUsers: users,
    numItems: items,
    user: Int32Array.from(user),
    item: Int32Array.from(item),
    time: Float64Array.from(time),
    basket: Int32Array.from(basket),
  };
}

/** Reference: distinct users (of `keep`, default all) who bought each item before trainEnd, straight from the raw log. */
function trainBuyers(log, keep = () => true) {
  const sets = Array.from({ length: log.numItems }, () => new Set());
  for (let k = 0; k < log.user.length; k++) if (log.time[k] < SPLIT.trainEnd && keep(log.user[k])) sets[log.item[k]].add(log.user[k]);
  return sets.map((s) => s.size);
}

/** Reference AUC (Mann-Whitney, ties count one half), O(n²) on purpose. */
function aucRef(y, p) {
  let s = 0,
    pos = 0,
    neg = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) pos++;
    else neg++;
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) if (y[j] === 0) s += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
  }
  return pos && neg ? s / (pos * neg) : NaN;
}

/** Reference GAUC: per-group AUC weighted by group size, groups with one class skipped. */
function gaucRef(y, p, g) {
  const by = new Map();
  g.forEach((k, i) => (by.has(k) ? by.get(k).push(i) : by.set(k, [i])));
  let num = 0,
    den = 0;
  for (const idx of by.values()) {
    const a = aucRef(
      idx.map((i) => y[i]),
      idx.map((i) => p[i]),
    );
    if (Number.isNaN(a)) continue;
    num += a * idx.length;
    den += idx.length;
  }
  return num / den;
}

describe('pipeline evaluation: long-tail slice and paired differences', () => {
  const log = longTailLog();
  const P = buildProtocol(log, { split: SPLIT, negatives: 3, historyLength: 4, seed: 5 });
  const order = itemOrder(P);
  const buyers = trainBuyers(log);

  it("the protocol's training events per item are the training users who bought it, i.e. its training positives", () => {
    const counts = P.trainCount;
    assert.deepEqual(Array.from(counts), buyers);
    const positives = new Array(P.numItems).fill(0);
    for (let i = 0; i < P.train.size; i++) if (P.train.label[i] === 1) positives[P.train.item[i]]++;
    assert.deepEqual(Array.from(counts), positives);
    for (let it = 0; it < P.numItems; it++) assert.equal(counts[it] > 0, P.warm[it] === 1, `item ${it}`);
    // The fixture has a real long tail: warm items with 1..4 buyers and items with many.
    assert.ok(buyers.filter((c) => c > 0 && c < 5).length >= 10 && buyers.some((c) => c >= 20), JSON.stringify(buyers));
  });

  for (const [longTailMax, trainUserFraction] of [
    [1, 1],
    [3, 1],
    [5, 1],
    [1000, 1],
    [5, 0.5],
  ]) {
    it(`puts each test and validation sample in cold / warm / long-tail by its target (longTailMax ${longTailMax}, trainUserFraction ${trainUserFraction})`, () => {
      // At a fraction < 1 the slices follow the training events that fraction keeps.
      const Pf = trainUserFraction === 1 ? P : buildProtocol(log, { split: SPLIT, negatives: 3, historyLength: 4, seed: 5, trainUserFraction });
      const buyers = trainUserFraction === 1 ? trainBuyers(log) : trainBuyers(log, (u) => Pf.trainKeptUsers[u] === 1);
      if (trainUserFraction < 1) assert.ok(buyers.reduce((a, b) => a + b) < trainBuyers(log).reduce((a, b) => a + b), 'fewer training events');
      const orderF = itemOrder(Pf);
      for (const set of [Pf.test, Pf.validation]) {
        const s = toRankSamples(set, Pf, orderF);
        const cls = sliceClasses(s, orderF, Pf.trainCount, longTailMax);
        const sizes = sliceSizes(cls);
        const ref = { all: 0, warm: 0, longtail: 0, cold: 0 };
        for (let i = 0; i < set.size; i++) {
          const c = buyers[set.item[i]];
          const want = c === 0 ? 0 : c < longTailMax ? 2 : 1;
          assert.equal(cls[i], want, `sample ${i}: item ${set.item[i]} with ${c} training buyers`);
          ref.all++;
          if (c > 0) ref.warm++;
          if (c > 0 && c < longTailMax) ref.longtail++;
          if (c === 0) ref.cold++;
        }
        assert.deepEqual(sizes, ref);
        if (longTailMax === 1) assert.equal(sizes.longtail, 0, 'every warm item has at least one event');
        if (longTailMax === 1000) assert.equal(sizes.longtail, sizes.warm, 'every warm item is long-tail');
        if (longTailMax === 5) assert.ok(sizes.longtail > 20 && sizes.longtail < sizes.warm && sizes.cold > 0, JSON.stringify(sizes));
      }
    });
  }

  it("scores every slice like a plain AUC / GAUC over that slice's samples (ties included)", () => {
    const counts = P.trainCount;
    const s = toRankSamples(P.test, P, order);
    const cls = sliceClasses(s, order, counts, 5);
    const g = new q.Generator(9);
    // Scores on a coarse grid so that ties occur, a little better than chance.
    const probs = Float64Array.from(s.label, (y) => Math.round(10 * Math.min(0.99, Math.max(0.01, 0.4 + 0.15 * y + 0.4 * (g.uniform() - 0.5)))) / 10);
    const m = sliceMetrics(s, probs, cls);
    const member = { all: () => true, warm: (c) => c > 0, longtail: (c) => c === 2, cold: (c) => c === 0 };
    for (const slice of SLICES) {
      const rows = [];
      for (let i = 0; i < s.size; i++) if (member[slice](cls[i])) rows.push(i);
      const y = rows.map((i) => s.label[i]),
        p = rows.map((i) => probs[i]),
        grp = rows.map((i) => s.group[i]);
      // Both NaN where no request of the slice has both classes (the cold slice here: a cold
      // positive's negatives are mostly warm items).
      const same = (a, b) => (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) < 1e-9;
      assert.ok(same(m[slice].auc, aucRef(y, p)), `${slice} auc ${m[slice].auc} vs ${aucRef(y, p)}`);
      assert.ok(same(m[slice].gauc, gaucRef(y, p, grp)), `${slice} gauc ${m[slice].gauc} vs ${gaucRef(y, p, grp)}`);
    }
    for (const slice of ['all', 'warm', 'longtail', 'cold']) assert.ok(Number.isFinite(m[slice].auc), `${slice} auc is measured`);
    for (const slice of ['all', 'warm', 'longtail']) assert.ok(Number.isFinite(m[slice].gauc), `${slice} gauc is measured`);
    // A 0/1 warm mask (older callers) scores the long-tail slice as empty: NaN, not a wrong number.
    const warmOnly = Uint8Array.from(cls, (c) => (c > 0 ? 1 : 0));
    const w = sliceMetrics(s, probs, warmOnly);
    assert.ok(Number.isNaN(w.longtail.auc));
    assert.equal(w.warm.auc, m.warm.auc);
  });

  it('rejects a bad longTailMax or a count table of the wrong size, naming the argument', () => {
    const s = toRankSamples(P.test, P, order);
    const counts = P.trainCount;
    assertThrowsTyped(() => sliceClasses(s, order, counts, 0), q.ValueError, 'longTailMax');
    assertThrowsTyped(() => sliceClasses(s, order, counts, 2.5), q.ValueError, 'longTailMax');
    assertThrowsTyped(() => sliceClasses(s, order, counts.subarray(1), 5), q.ValueError, 'trainCount');
  });

  /** Per-seed metric values of a made-up variant (seed order), every slice and metric. */
  function fakeRuns(seeds, offset, g, { nanLongtailSeed = -1 } = {}) {
    return seeds.map((seed, k) => {
      const m = {};
      for (const s of SLICES) {
        m[s] = {};
        for (const metric of ['auc', 'gauc', 'logloss']) m[s][metric] = k === nanLongtailSeed && s === 'longtail' ? NaN : 0.6 + offset + 0.03 * g.uniform();
      }
      return { seed, test: m, validation: m, curve: [], bestEpoch: 1, seconds: 1 };
    });
  }

  for (const seeds of [[4], [1, 2, 3], Array.from({ length: 17 }, (_, i) => i + 1)]) {
    it(`paired differences are the per-seed qarm − variant, mean and sample std (${seeds.length} seed${seeds.length > 1 ? 's' : ''})`, () => {
      const g = new q.Generator(seeds.length);
      const variants = {
        id: aggregateRuns(fakeRuns(seeds, 0, g)),
        qarm: aggregateRuns(fakeRuns(seeds, 0.01, g)),
        'id+aligned': aggregateRuns(fakeRuns(seeds, 0.012, g)),
      };
      const paired = pairedDifferences(variants);
      assert.deepEqual(Object.keys(paired).sort(), ['id', 'id+aligned']);
      for (const v of ['id', 'id+aligned'])
        for (const s of SLICES)
          for (const metric of ['auc', 'gauc']) {
            const d = [];
            for (let k = 0; k < seeds.length; k++) d.push(variants.qarm[s][metric].values[k] - variants[v][s][metric].values[k]);
            let sum = 0;
            for (const x of d) sum += x;
            const mean = sum / d.length;
            let ss = 0;
            for (const x of d) ss += (x - mean) * (x - mean);
            const std = d.length > 1 ? Math.sqrt(ss / (d.length - 1)) : 0;
            const got = paired[v][s][metric];
            assert.deepEqual(got.values, d, `${v}.${s}.${metric} values`);
            assert.ok(
              Math.abs(got.mean - mean) < 1e-12 && Math.abs(got.std - std) < 1e-12,
              `${v}.${s}.${metric}: ${got.mean} ± ${got.std} vs ${mean} ± ${std}`,
            );
          }
      assert.equal(paired.id.all.logloss, undefined, 'only AUC and GAUC are paired');
      const table = pairedTable(paired);
      assert.equal(table.split('\n').length, 4);
      const sign = paired.id.all.auc.mean >= 0 ? '\\+' : '−';
      assert.match(table, new RegExp(`\\| id \\| ${sign}${Math.abs(paired.id.all.auc.mean).toFixed(4)} ± ${paired.id.all.auc.std.toFixed(4)} \\|`));
    });
  }

  it('paired differences: an empty slice in one seed gives NaN (n/a), no qarm gives none, unequal seeds throw', () => {
    const g = new q.Generator(3);
    const variants = { qarm: aggregateRuns(fakeRuns([1, 2, 3], 0, g)), id: aggregateRuns(fakeRuns([1, 2, 3], 0, g, { nanLongtailSeed: 1 })) };
    const p = pairedDifferences(variants);
    assert.ok(Number.isNaN(p.id.longtail.auc.mean));
    assert.ok(Number.isFinite(p.id.cold.auc.mean));
    assert.match(pairedTable(p), /\| id \| [+−]0\.\d{4} ± 0\.\d{4} \| [+−]0\.\d{4} ± 0\.\d{4} \| n\/a \|/);
    assert.equal(pairedDifferences({ id: variants.id }), undefined);
    const short = { qarm: variants.qarm, id: aggregateRuns(fakeRuns([1, 2], 0, g)) };
    assertThrowsTyped(() => pairedDifferences(short), q.ShapeError, 'variants');
  });
});
