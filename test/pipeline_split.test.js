// The protocol's split modes and negative rule on awkward logs: per-user leave-last-out cuts
// (baskets and same-time events never split, repeat purchases, users with 1..2 events),
// event-count quantiles of the time split, per-period raw interactions, the warning line.
// Every property is checked against a plain-JS recomputation from the raw log.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { assertThrowsTyped } from './helpers.js';

const { buildProtocol, userCut } = q.pipeline;
const DAY = 86400;

/**
 * A log with ties everywhere: times on a coarse day grid (several baskets of one user on one
 * day), some events without a basket (-1: the (user, time) pair is the basket), repeat purchases
 * of an item later and inside the same basket, users with 1 or 2 events.
 */
function awkwardLog({ users = 17, items = 23, baskets = 150, days = 12, seed = 5 } = {}) {
  const g = new q.Generator(seed);
  const user = [],
    item = [],
    time = [],
    basket = [];
  for (let b = 0; b < baskets; b++) {
    // Skewed users: low ids are heavy, high ids light (some end up with 1-2 events).
    const u = Math.min(users - 1, Math.floor(users * Math.pow(g.uniform(), 2)));
    const t = 1e9 + g.int(days) * DAY;
    const key = g.uniform() < 0.2 ? -1 : b;
    const size = 1 + g.int(4);
    for (let j = 0; j < size; j++) {
      const it = g.int(items);
      user.push(u);
      item.push(it);
      time.push(t);
      basket.push(key);
      if (g.uniform() < 0.1) {
        user.push(u);
        item.push(it);
        time.push(t);
        basket.push(key);
      } // the same row twice
    }
  }
  // A user with exactly one and one with exactly two events, and one with 3 events at one time.
  const add = (u, it, t, b) => {
    user.push(u);
    item.push(it);
    time.push(1e9 + t * DAY);
    basket.push(b);
  };
  add(users, 0, 1, -1);
  add(users + 1, 1, 1, -1);
  add(users + 1, 2, 2, -1);
  add(users + 2, 3, 4, 9999);
  add(users + 2, 4, 4, 9999);
  add(users + 2, 5, 4, 9999);
  return {
    numUsers: users + 4, // the last user has no events at all
    numItems: items,
    user: Int32Array.from(user),
    item: Int32Array.from(item),
    time: Float64Array.from(time),
    basket: Int32Array.from(basket),
  };
}

/** Per user, the first-purchase times (one per (user, item)), sorted ascending. */
function firstTimes(log) {
  const first = new Map();
  for (let k = 0; k < log.user.length; k++) {
    const key = `${log.user[k]},${log.item[k]}`;
    if (!first.has(key) || log.time[k] < first.get(key)) first.set(key, log.time[k]);
  }
  const per = new Map();
  for (const [key, t] of first) {
    const u = Number(key.split(',')[0]);
    if (!per.has(u)) per.set(u, []);
    per.get(u).push(t);
  }
  for (const l of per.values()) l.sort((a, b) => a - b);
  return { first, per };
}

/**
 * Reference per-user cuts, stated over groups of equal times rather than positions: the test is
 * the suffix of whole time groups (leaving at least 2 groups before it) whose size is closest to
 * max(1, round(testShare · m)), ties to the smaller; the validation likewise just before it
 * (leaving at least one group for training). Fewer than 3 events or 3 distinct times: train only.
 */
function refCut(times, vShare, tShare) {
  const m = times.length;
  const groups = [];
  for (const t of times) {
    if (groups.length && groups[groups.length - 1].t === t) groups[groups.length - 1].c++;
    else groups.push({ t, c: 1 });
  }
  if (m < 3 || groups.length < 3) return [Infinity, Infinity];
  const best = (cands, target) =>
    cands.reduce((a, b) =>
      Math.abs(b.size - target) < Math.abs(a.size - target) || (Math.abs(b.size - target) === Math.abs(a.size - target) && b.size < a.size) ? b : a,
    );
  const suffix = (from, to) => groups.slice(from, to).reduce((s, x) => s + x.c, 0);
  const tests = [];
  for (let j = 2; j < groups.length; j++) tests.push({ j, size: suffix(j, groups.length) });
  const T = best(tests, Math.max(1, Math.round(tShare * m)));
  const vals = [];
  for (let i = 1; i < T.j; i++) vals.push({ i, size: suffix(i, T.j) });
  const V = best(vals, Math.max(1, Math.round(vShare * m)));
  return [groups[V.i].t, groups[T.j].t];
}

/** Reference negative rule (see pipeline_protocol.test.js for the time split). */
function checkNegatives(log, P, periodOfRaw, k) {
  const pools = [new Set(), new Set(), new Set()];
  const raw = new Map();
  for (let j = 0; j < log.user.length; j++) {
    const u = log.user[j];
    if (!raw.has(u)) raw.set(u, []);
    raw.get(u).push({ it: log.item[j], t: log.time[j] });
    if (!P.keptUsers[u]) continue;
    const p = periodOfRaw(u, log.time[j]);
    if (p === 0 && !P.trainKeptUsers[u]) continue;
    pools[p].add(log.item[j]);
  }
  let later = 0,
    short = 0,
    checked = 0;
  [P.train, P.validation, P.test].forEach((s, p) => {
    let i = 0;
    while (i < s.size) {
      assert.equal(s.label[i], 1);
      const u = s.user[i],
        t = s.groupTime[s.group[i]];
      let j = i + 1;
      while (j < s.size && s.label[j] === 0) j++;
      const negs = Array.from(s.item.subarray(i + 1, j));
      const owned = new Set(
        raw
          .get(u)
          .filter((e) => e.t <= t)
          .map((e) => e.it),
      );
      const allowed = [...pools[p]].filter((it) => !owned.has(it));
      assert.equal(negs.length, Math.min(k, allowed.length), 'min(k, allowed) negatives');
      if (allowed.length < k) short++;
      assert.equal(new Set(negs).size, negs.length, 'distinct');
      for (const it of negs) {
        assert.ok(pools[p].has(it), `negative ${it} has an event in period ${p}`);
        assert.ok(!owned.has(it), `negative ${it} not owned by user ${u} at ${t}`);
        if (raw.get(u).some((e) => e.it === it)) later++;
      }
      checked += negs.length;
      i = j;
    }
  });
  return { later, short, checked };
}

describe('pipeline split modes', () => {
  describe('per-user split', () => {
    for (const [users, baskets, seed] of [
      [1, 9, 1],
      [3, 40, 2],
      [17, 150, 5],
      [40, 700, 9],
    ]) {
      describe(`${users} users, ${baskets} baskets`, () => {
        const log = awkwardLog({ users, baskets, seed, items: users === 1 ? 7 : 23 });
        const shares = { validationShare: 0.1, testShare: 0.2 };
        const P = buildProtocol(log, { split: { mode: 'per-user' }, negatives: 5, historyLength: 4, seed: 3 });
        const { first, per } = firstTimes(log);
        const cut = new Map();
        for (let u = 0; u < log.numUsers; u++) cut.set(u, per.has(u) ? refCut(per.get(u), shares.validationShare, shares.testShare) : [Infinity, Infinity]);
        const periodRef = (u, t) => (t < cut.get(u)[0] ? 0 : t < cut.get(u)[1] ? 1 : 2);

        it('cuts every user as the reference does; fewer than 3 events (or times) train only', () => {
          for (let u = 0; u < log.numUsers; u++) {
            assert.deepEqual([P.cuts.trainEnd[u], P.cuts.testStart[u]], cut.get(u), `user ${u}`);
          }
          for (const u of [users, users + 1, users + 2, users + 3]) assert.equal(P.cuts.trainEnd[u], Infinity, `user ${u} trains only`);
          assert.equal(P.split.mode, 'per-user');
          assert.equal(P.stats.splitDates.trainEnd, 'per-user');
        });

        it('gives users with 3+ distinct times at least one training, validation and test event, in time order', () => {
          let split = 0;
          for (const [u, times] of per) {
            if (new Set(times).size < 3) continue;
            split++;
            const ps = times.map((t) => periodRef(u, t));
            for (const p of [0, 1, 2]) assert.ok(ps.includes(p), `user ${u} has period ${p}`);
            for (let k = 1; k < ps.length; k++) assert.ok(ps[k] >= ps[k - 1], 'periods follow time');
          }
          if (users > 1) assert.ok(split > 0);
        });

        it('never splits a basket or events at one instant across periods', () => {
          const seen = new Map();
          for (let k = 0; k < log.user.length; k++) {
            const key = `${log.user[k]},${log.time[k]}`;
            const p = P.periodOf(log.user[k], log.time[k]);
            if (seen.has(key)) assert.equal(p, seen.get(key), key);
            seen.set(key, p);
          }
        });

        it('assigns positives, raw interactions (repeats too) and warm items by the user cuts', () => {
          const expect = [[], [], []];
          const trainUsers = new Set();
          for (const [key, t] of first) {
            const u = Number(key.split(',')[0]);
            if (periodRef(u, t) === 0) trainUsers.add(u);
          }
          for (const [key, t] of first) {
            const u = Number(key.split(',')[0]);
            const p = periodRef(u, t);
            if (p === 0 || trainUsers.has(u)) expect[p].push(key);
          }
          [P.train, P.validation, P.test].forEach((s, p) => {
            const got = [];
            for (let i = 0; i < s.size; i++) if (s.label[i] === 1) got.push(`${s.user[i]},${s.item[i]}`);
            assert.deepEqual(got.sort(), expect[p].sort(), `period ${p} positives`);
          });
          for (let p = 0; p < 3; p++) {
            const idx = [];
            for (let k = 0; k < log.user.length; k++) if (periodRef(log.user[k], log.time[k]) === p) idx.push(k);
            assert.deepEqual(Array.from(P.periodInteractions[p]), idx, `period ${p} raw interactions`);
          }
          assert.equal(P.trainInteractions, P.periodInteractions[0]);
          const warm = new Set(expect[0].map((key) => Number(key.split(',')[1])));
          for (let it = 0; it < log.numItems; it++) assert.equal(P.warm[it], warm.has(it) ? 1 : 0, `item ${it}`);
          let trainTest = 0;
          for (const u of trainUsers) if (expect[2].some((key) => Number(key.split(',')[0]) === u)) trainTest++;
          assert.equal(P.stats.trainTestUsers, trainTest);
        });

        it('draws negatives by the same rule in every period (owned at or before the request: never)', () => {
          const r = checkNegatives(log, P, periodRef, 5);
          assert.ok(r.checked > 0);
        });

        it('warns when fewer than 100 users have training and test events', () => {
          assert.equal(P.stats.warnings.length, 1);
          assert.match(P.stats.warnings[0], new RegExp(`only ${P.stats.trainTestUsers} users`));
        });
      });
    }

    it('on a log with tight pools: short negative lists, later purchases as negatives', () => {
      const log = awkwardLog({ users: 17, items: 6, baskets: 120, seed: 8 });
      const P = buildProtocol(log, { split: { mode: 'per-user', validationShare: 0.25, testShare: 0.3 }, negatives: 4, seed: 1 });
      const { per } = firstTimes(log);
      const cut = new Map([...per].map(([u, t]) => [u, refCut(t, 0.25, 0.3)]));
      const r = checkNegatives(log, P, (u, t) => (t < cut.get(u)[0] ? 0 : t < cut.get(u)[1] ? 1 : 2), 4);
      assert.ok(r.short > 0, 'some positive has fewer than k allowed items');
      assert.ok(r.later > 0, 'some negative is bought by the user later');
    });

    it('has no warning with 100+ users with training and test events, and cuts 1000+ users like the reference', () => {
      const log = awkwardLog({ users: 1100, items: 300, baskets: 12000, days: 60, seed: 4 });
      const P = buildProtocol(log, { split: { mode: 'per-user' }, negatives: 1 });
      assert.ok(P.stats.trainTestUsers >= 100, String(P.stats.trainTestUsers));
      assert.deepEqual(P.stats.warnings, []);
      const { per } = firstTimes(log);
      for (const [u, times] of per) assert.deepEqual([P.cuts.trainEnd[u], P.cuts.testStart[u]], refCut(times, 0.1, 0.2), `user ${u}`);
    });

    it('keeps validation and test identical under trainUserFraction', () => {
      const log = awkwardLog({ users: 40, baskets: 700, seed: 9 });
      const opts = { split: { mode: 'per-user' }, negatives: 3, seed: 2 };
      const full = buildProtocol(log, opts);
      const part = buildProtocol(log, { ...opts, trainUserFraction: 0.4 });
      for (const name of ['validation', 'test'])
        for (const f of ['user', 'item', 'label', 'group', 'hist', 'histOffsets', 'groupTime']) assert.deepEqual(part[name][f], full[name][f], `${name}.${f}`);
      assert.ok(part.train.size < full.train.size);
      assert.deepEqual(part.cuts, full.cuts);
    });

    it('userCut: awkward single users', () => {
      const s = { validation: 0.1, test: 0.2 };
      assert.deepEqual(userCut([], s), [Infinity, Infinity]);
      assert.deepEqual(userCut([5], s), [Infinity, Infinity]);
      assert.deepEqual(userCut([5, 6], s), [Infinity, Infinity]);
      assert.deepEqual(userCut([5, 6, 7], s), [6, 7]);
      assert.deepEqual(userCut([5, 5, 7], s), [Infinity, Infinity]);
      assert.deepEqual(userCut([1, 2, 3, 3, 3, 3, 3, 3, 3, 3], s), [2, 3]); // the last basket is 8 of 10 events
      assert.deepEqual(userCut([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], s), [2, 3]);
      // 20 distinct times: test 4, validation 2, training 14.
      const t20 = Array.from({ length: 20 }, (_, k) => k);
      assert.deepEqual(userCut(t20, s), [14, 16]);
    });

    it('rejects bad per-user options with typed errors naming the key', () => {
      const log = awkwardLog();
      assertThrowsTyped(() => buildProtocol(log, { split: { mode: 'per-user', testShare: 0 } }), q.ValueError, 'split.testShare');
      assertThrowsTyped(() => buildProtocol(log, { split: { mode: 'per-user', validationShare: 1.2 } }), q.ValueError, 'split.validationShare');
      assertThrowsTyped(() => buildProtocol(log, { split: { mode: 'per-user', validationShare: 0.5, testShare: 0.5 } }), q.ValueError, 'split');
      assertThrowsTyped(() => buildProtocol(log, { split: { mode: 'per-user', trainEnd: '2001-01-01' } }), q.ValueError, 'split.trainEnd');
      assertThrowsTyped(() => buildProtocol(log, { split: { testShare: 0.2 } }), q.ValueError, 'split.testShare');
    });
  });

  describe('time split', () => {
    it('cuts at event-count quantiles of the first-purchase events by default', () => {
      const log = awkwardLog({ users: 40, baskets: 700, days: 90, seed: 9 });
      const P = buildProtocol(log, { negatives: 0 });
      const times = [...firstTimes(log).first.values()].sort((a, b) => a - b);
      const E = times.length;
      assert.equal(P.split.trainEnd, times[Math.round(q.pipeline.DEFAULT_FRACTIONS.train * E)]);
      assert.equal(P.split.testStart, times[Math.round(q.pipeline.DEFAULT_FRACTIONS.test * E)]);
      const f = buildProtocol(log, { negatives: 0, split: { trainFraction: 0.3, testFraction: 0.6 } });
      assert.equal(f.split.trainEnd, times[Math.round(0.3 * E)]);
      assert.equal(f.split.testStart, times[Math.round(0.6 * E)]);
      // Raw interactions per period by the global cut.
      for (let p = 0; p < 3; p++) {
        const idx = [];
        for (let k = 0; k < log.user.length; k++) {
          const t = log.time[k];
          if ((t < f.split.trainEnd ? 0 : t < f.split.testStart ? 1 : 2) === p) idx.push(k);
        }
        assert.deepEqual(Array.from(f.periodInteractions[p]), idx);
      }
      checkNegatives(
        log,
        buildProtocol(log, { negatives: 3, split: { trainFraction: 0.3, testFraction: 0.6 } }),
        (_u, t) => (t < f.split.trainEnd ? 0 : t < f.split.testStart ? 1 : 2),
        3,
      );
    });

    it('gives the bundled data the periods of its fixed dates with the default fractions', async function () {
      this.timeout(120000);
      const ds = await q.loadDataset(q.bundledDatasetDir());
      const log = q.pipeline.interactionLog(ds);
      const byFractions = buildProtocol(log, { negatives: 0 });
      const byDates = buildProtocol(log, { negatives: 0, split: { trainEnd: '2011-09-01', testStart: '2011-10-15' } });
      assert.deepEqual(byFractions.stats.eventsPerPeriod, byDates.stats.eventsPerPeriod);
      assert.deepEqual(byFractions.stats.eventsPerPeriod, [162430, 203537 - 162430, 266226 - 203537]);
      for (const name of ['train', 'validation', 'test']) assert.equal(byFractions[name].positives, byDates[name].positives);
      // The quantile cut is the first event's time after the date, so raw repeat purchases between
      // midnight and that event may change period; first purchases cannot.
      const inDates = new Set(byDates.periodInteractions[0]);
      const moved = Array.from(byFractions.periodInteractions[0]).filter((k) => !inDates.has(k));
      assert.ok(moved.length < 10, `${moved.length} raw interactions moved`);
      for (const k of moved) {
        const earlier = ds.interactions.some((e) => e.user === log.user[k] && e.item === log.item[k] && e.time < log.time[k]);
        assert.ok(earlier, `raw interaction ${k} that changed period is a repeat purchase`);
      }
    });
  });
});
