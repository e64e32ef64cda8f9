// The evaluation protocol: first-purchase events, time split, negatives, history, vocabularies.
// Every property is checked against an independent recomputation from the raw log.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { assertThrowsTyped } from './helpers.js';

const { buildProtocol, sliceMask, resolveSplit, parseTimePoint } = q.pipeline;
const DAY = 86400;

/** A random purchase log: baskets of 1..5 items at one time per basket, repeats included. */
function makeLog({ users = 60, items = 50, baskets = 400, days = 100, seed = 3 } = {}) {
  const g = new q.Generator(seed);
  const user = [],
    item = [],
    time = [],
    basket = [];
  for (let b = 0; b < baskets; b++) {
    const u = g.int(users);
    const t = 1e9 + Math.floor(g.uniform() * days * DAY);
    const size = 1 + g.int(5);
    // Item popularity skewed so some items appear only late (cold).
    for (let j = 0; j < size; j++) {
      const it = Math.min(items - 1, Math.floor(items * Math.pow(g.uniform(), 1.5)));
      // Late items: the top 10 ids only sell in the last 30 days.
      const itemId = it >= items - 10 && t < 1e9 + (days - 30) * DAY ? it - 10 : it;
      user.push(u);
      item.push(itemId);
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

const SPLIT = { trainEnd: 1e9 + 60 * DAY, testStart: 1e9 + 80 * DAY };
const period = (t) => (t < SPLIT.trainEnd ? 0 : t < SPLIT.testStart ? 1 : 2);
const periodUT = (_u, t) => period(t);

/** Reference first-purchase events: Map "u,i" -> {t, b}. */
function firstPurchases(log) {
  const m = new Map();
  for (let k = 0; k < log.user.length; k++) {
    const key = `${log.user[k]},${log.item[k]}`;
    const cur = m.get(key);
    if (!cur || log.time[k] < cur.t || (log.time[k] === cur.t && log.basket[k] < cur.b)) m.set(key, { t: log.time[k], b: log.basket[k] });
  }
  return m;
}

/** Reference GAUC: per group AUC with averaged ranks for ties, groups with one class skipped, weighted by size. */
function gaucRef(labels, scores, groups, mask) {
  const by = new Map();
  for (let i = 0; i < labels.length; i++) {
    if (!mask[i]) continue;
    if (!by.has(groups[i])) by.set(groups[i], []);
    by.get(groups[i]).push(i);
  }
  let num = 0,
    den = 0;
  for (const idx of by.values()) {
    let pos = 0,
      neg = 0,
      s = 0;
    for (const i of idx)
      for (const j of idx) {
        if (labels[i] === 1 && labels[j] === 0) s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    for (const i of idx) labels[i] === 1 ? pos++ : neg++;
    if (pos === 0 || neg === 0) continue;
    num += idx.length * (s / (pos * neg));
    den += idx.length;
  }
  return num / den;
}

/**
 * Reference check of the negative rule on every positive of every period: its negatives are
 * distinct, drawn from the items with a raw interaction in the period (`period(user, time)`),
 * never an item the user interacted with at or before the request time (any period, repeat
 * purchases and the request's own basket included), and as many as min(k, allowed items).
 * Returns how many negatives the user bought only later (allowed by the rule).
 */
function checkNegatives(log, P, periodOfRaw, k) {
  const pools = [new Set(), new Set(), new Set()];
  for (let j = 0; j < log.user.length; j++) {
    if (!P.keptUsers[log.user[j]]) continue;
    const p = periodOfRaw(log.user[j], log.time[j]);
    if (p === 0 && !P.trainKeptUsers[log.user[j]]) continue;
    pools[p].add(log.item[j]);
  }
  const raw = new Map();
  for (let j = 0; j < log.user.length; j++) {
    if (!raw.has(log.user[j])) raw.set(log.user[j], []);
    raw.get(log.user[j]).push({ it: log.item[j], t: log.time[j] });
  }
  let later = 0,
    checked = 0;
  [P.train, P.validation, P.test].forEach((s, p) => {
    let i = 0;
    while (i < s.size) {
      assert.equal(s.label[i], 1, 'a positive opens each run');
      const u = s.user[i],
        t = s.groupTime[s.group[i]];
      let j = i + 1;
      while (j < s.size && s.label[j] === 0) j++;
      const negs = Array.from(s.item.subarray(i + 1, j));
      for (let x = i + 1; x < j; x++) assert.equal(s.group[x], s.group[i]);
      const owned = new Set(
        raw
          .get(u)
          .filter((e) => e.t <= t)
          .map((e) => e.it),
      );
      const allowed = [...pools[p]].filter((it) => !owned.has(it));
      assert.equal(negs.length, Math.min(k, allowed.length), 'min(k, allowed) negatives');
      assert.equal(new Set(negs).size, negs.length, 'distinct');
      for (const it of negs) {
        assert.ok(pools[p].has(it), `negative ${it} sold in period ${p}`);
        assert.ok(!owned.has(it), `negative ${it} not owned by user ${u} at ${t}`);
        if (raw.get(u).some((e) => e.it === it)) later++;
      }
      checked += negs.length;
      i = j;
    }
  });
  assert.ok(checked > 0);
  return later;
}

describe('pipeline protocol', () => {
  const log = makeLog();
  const P = buildProtocol(log, { split: SPLIT, negatives: 4, historyLength: 5, seed: 11 });
  const fp = firstPurchases(log);
  const sets = [P.train, P.validation, P.test];

  it('splits first-purchase events by period and keeps only known users after training', () => {
    const trainUsers = new Set();
    for (const [key, { t }] of fp) if (period(t) === 0) trainUsers.add(Number(key.split(',')[0]));
    const expected = [0, 0, 0];
    for (const [key, { t }] of fp) {
      const p = period(t);
      if (p === 0 || trainUsers.has(Number(key.split(',')[0]))) expected[p]++;
    }
    assert.deepEqual(
      sets.map((s) => s.positives),
      expected,
    );
    assert.ok(expected[1] > 0 && expected[2] > 0, 'fixture has validation and test events');
    sets.forEach((s, p) => {
      for (let i = 0; i < s.size; i++) {
        if (s.label[i] !== 1) continue;
        const ev = fp.get(`${s.user[i]},${s.item[i]}`);
        assert.ok(ev, 'positive is a purchase');
        assert.equal(ev.t, s.groupTime[s.group[i]], 'positive time is the first purchase time');
        assert.equal(period(ev.t), p);
        if (p > 0) assert.ok(trainUsers.has(s.user[i]), 'validation/test users have a training event');
      }
    });
  });

  it('draws distinct negatives from items sold in the period, never owned by the user at the request time', () => {
    assert.ok(checkNegatives(log, P, periodUT, 4) > 0, 'some negative is an item the user buys later');
  });

  it('history holds only earlier events, never the same basket, newest <= H, oldest first', () => {
    // Reference: per user, the list of first-purchase events sorted by time.
    const perUser = new Map();
    for (const [key, ev] of fp) {
      const [u, it] = key.split(',').map(Number);
      if (!perUser.has(u)) perUser.set(u, []);
      perUser.get(u).push({ it, ...ev });
    }
    for (const l of perUser.values()) l.sort((a, b) => a.t - b.t || a.b - b.b || a.it - b.it);
    let checked = 0;
    for (const s of sets) {
      for (let i = 0; i < s.size; i++) {
        const g = s.group[i];
        const t = s.groupTime[g];
        const hist = Array.from(s.hist.subarray(s.histOffsets[g], s.histOffsets[g + 1]));
        const earlier = perUser
          .get(s.user[i])
          .filter((e) => e.t < t)
          .map((e) => e.it);
        assert.deepEqual(hist, earlier.slice(Math.max(0, earlier.length - 5)));
        // No item of the sample's own basket in its history.
        if (s.label[i] === 1) assert.ok(!hist.includes(s.item[i]), 'target not in its own history');
        checked++;
      }
    }
    assert.ok(checked > 100);
  });

  it('builds vocabularies from the training period only', () => {
    const warm = new Set();
    for (let k = 0; k < log.user.length; k++) if (period(log.time[k]) === 0) warm.add(log.item[k]);
    for (let it = 0; it < log.numItems; it++) {
      assert.equal(P.warm[it], warm.has(it) ? 1 : 0);
      assert.equal(P.itemVocab[it] > 0, warm.has(it));
    }
    const ids = Array.from(P.itemVocab)
      .filter((v) => v > 0)
      .sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      Array.from({ length: warm.size }, (_, k) => k + 1),
    );
    assert.ok(P.stats.coldItemsInTest > 0, 'fixture has cold items in test');
    for (const k of P.trainInteractions) assert.equal(period(log.time[k]), 0);
  });

  it('an id-only scorer gets cold-item GAUC of exactly 0.5, but not on warm items', () => {
    // Any function of (user id, item id, history ids) with cold items mapped to id 0.
    const hash = (xs) => {
      let h = 2166136261;
      for (const x of xs) h = Math.imul(h ^ (x + 7), 16777619) >>> 0;
      return h / 4294967296;
    };
    const s = P.test;
    const scores = new Float64Array(s.size);
    for (let i = 0; i < s.size; i++) {
      const g = s.group[i];
      const hist = Array.from(s.hist.subarray(s.histOffsets[g], s.histOffsets[g + 1]), (it) => P.itemVocab[it]);
      scores[i] = hash([P.userVocab[s.user[i]], P.itemVocab[s.item[i]], ...hist]);
    }
    const cold = sliceMask(s, P.warm, 'cold');
    const warm = sliceMask(s, P.warm, 'warm');
    assert.equal(gaucRef(s.label, scores, s.group, cold), 0.5);
    assert.notEqual(gaucRef(s.label, scores, s.group, warm), 0.5);
  });

  it('counts training events per item (trainCount) as a plain recount of training first purchases', () => {
    const count = new Int32Array(log.numItems);
    for (const [key, { t }] of fp) if (period(t) === 0) count[Number(key.split(',')[1])]++;
    assert.deepEqual(P.trainCount, count);
    // The training positives are exactly these events.
    const pos = new Int32Array(log.numItems);
    for (let i = 0; i < P.train.size; i++) if (P.train.label[i] === 1) pos[P.train.item[i]]++;
    assert.deepEqual(pos, count);
  });

  describe('trainUserFraction', () => {
    const opts = { split: SPLIT, negatives: 4, historyLength: 5, seed: 11 };
    const fractions = [0.5, 0.3, 1 / 17];
    const runs = fractions.map((f) => buildProtocol(log, { ...opts, trainUserFraction: f }));
    const fields = ['size', 'user', 'item', 'label', 'group', 'numGroups', 'histOffsets', 'hist', 'groupTime', 'positives'];

    it('leaves validation and test samples exactly as at fraction 1', () => {
      for (const R of runs) {
        for (const name of ['validation', 'test']) for (const f of fields) assert.deepEqual(R[name][f], P[name][f], `${name}.${f}`);
      }
    });

    it('takes training samples, warm items, vocabularies, trainCount and trainInteractions from kept users only', () => {
      runs.forEach((R, r) => {
        const kept = R.trainKeptUsers;
        let keptTrainUsers = 0,
          droppedTrainUsers = 0;
        const trainUsers = new Set();
        for (const [key, { t }] of fp) if (period(t) === 0) trainUsers.add(Number(key.split(',')[0]));
        for (const u of trainUsers) kept[u] ? keptTrainUsers++ : droppedTrainUsers++;
        assert.ok(keptTrainUsers > 0 && droppedTrainUsers > 0, `fraction ${fractions[r]} keeps some and drops some`);
        // Reference: the fraction-1 training events of kept users.
        const count = new Int32Array(log.numItems);
        const expectPos = [];
        for (const [key, { t }] of fp) {
          const [u, it] = key.split(',').map(Number);
          if (period(t) === 0 && kept[u]) {
            count[it]++;
            expectPos.push(key);
          }
        }
        const gotPos = [];
        for (let i = 0; i < R.train.size; i++) {
          assert.equal(kept[R.train.user[i]], 1, 'training sample of a kept user');
          if (R.train.label[i] === 1) gotPos.push(`${R.train.user[i]},${R.train.item[i]}`);
        }
        assert.deepEqual(gotPos.sort(), expectPos.sort());
        assert.deepEqual(R.trainCount, count);
        for (let it = 0; it < log.numItems; it++) {
          assert.equal(R.warm[it], count[it] > 0 ? 1 : 0, `item ${it} warm iff a kept user trained on it`);
          assert.equal(R.itemVocab[it] > 0, count[it] > 0);
        }
        for (let u = 0; u < log.numUsers; u++) assert.equal(R.userVocab[u] > 0, trainUsers.has(u) && kept[u] === 1);
        const rawTrain = [];
        for (let k = 0; k < log.user.length; k++) if (period(log.time[k]) === 0 && kept[log.user[k]]) rawTrain.push(k);
        assert.deepEqual(Array.from(R.trainInteractions), rawTrain);
        assert.ok(R.numWarmItems <= P.numWarmItems);
        // Negatives of training samples come from items the kept users bought in training.
        for (let i = 0; i < R.train.size; i++) if (R.train.label[i] === 0) assert.equal(R.warm[R.train.item[i]], 1);
      });
    });

    it('turns items only dropped users trained on cold', () => {
      assert.ok(runs[2].numWarmItems < P.numWarmItems, `${runs[2].numWarmItems} of ${P.numWarmItems} warm at 1/17`);
    });

    it('nests: a user kept at a smaller fraction is kept at every larger one', () => {
      const [half, third] = runs;
      for (let u = 0; u < log.numUsers; u++) if (third.trainKeptUsers[u]) assert.equal(half.trainKeptUsers[u], 1);
    });

    it('rejects fractions outside (0, 1]', () => {
      for (const f of [0, -0.1, 1.5, NaN]) assertThrowsTyped(() => buildProtocol(log, { ...opts, trainUserFraction: f }), q.ValueError, 'trainUserFraction');
    });
  });

  it('is deterministic for a seed and resamples negatives for another', () => {
    const again = buildProtocol(log, { split: SPLIT, negatives: 4, historyLength: 5, seed: 11 });
    assert.deepEqual(again.test.item, P.test.item);
    const other = buildProtocol(log, { split: SPLIT, negatives: 4, historyLength: 5, seed: 12 });
    assert.notDeepEqual(other.test.item, P.test.item);
    assert.deepEqual(other.test.label, P.test.label);
  });

  it('resolves split dates and default event-count fractions', () => {
    assert.equal(parseTimePoint('2011-09-01', 'x'), Date.UTC(2011, 8, 1) / 1000);
    assert.equal(parseTimePoint('2011-09-01T12:00:00', 'x'), Date.UTC(2011, 8, 1, 12) / 1000);
    // Quantiles of the events, not of the time span: 1000 events, 900 of them in [0, 100).
    const times = Float64Array.from({ length: 1000 }, (_, k) => (k < 900 ? k / 9 : 100 + k)).sort();
    const s = resolveSplit({ trainFraction: 0.5, testFraction: 0.95 }, times);
    assert.equal(s.trainEnd, times[500]);
    assert.equal(s.testStart, times[950]);
    const d = resolveSplit({}, times);
    assert.equal(d.trainEnd, times[Math.round(q.pipeline.DEFAULT_FRACTIONS.train * 1000)]);
    assert.equal(d.testStart, times[Math.round(q.pipeline.DEFAULT_FRACTIONS.test * 1000)]);
    assert.equal(d.mode, 'time');
  });

  it('rejects bad input with typed errors naming the argument', () => {
    assertThrowsTyped(() => resolveSplit({ trainEnd: 'not a date' }, 0, 1e9), q.ValueError, 'split.trainEnd');
    assertThrowsTyped(() => buildProtocol(log, { split: { trainEnd: SPLIT.testStart, testStart: SPLIT.trainEnd } }), q.ValueError, 'split');
    assertThrowsTyped(() => buildProtocol({ ...log, item: log.item.subarray(1) }), q.ShapeError, 'item');
    const bad = { ...log, user: Int32Array.from(log.user) };
    bad.user[3] = 999;
    assertThrowsTyped(() => buildProtocol(bad), q.IndexError, 'user');
    assertThrowsTyped(() => buildProtocol(log, { negatives: -1 }), q.ValueError, 'negatives');
  });
});
