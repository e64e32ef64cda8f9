// The protocol (lib/pipeline/protocol.ts, protocol_split.ts) field by field against the plain
// reference of test/support/protocol_ref.js, on seeded awkward logs of 1 to 1000+ events, plus the
// edges of the split options, dates and input checks. Kept small: Stryker runs this file once per
// mutant.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { assertThrowsTyped } from './helpers.js';
import { awkwardLog, checkProtocol, checkWarnings, filterLog, fromRows, refUserCut } from './support/protocol_ref.js';

import { iso, perUserShares } from '../dist/pipeline/protocol_split.js';

const { buildProtocol, resolveSplit, parseTimePoint, userCut, perUserCuts, sliceMask } = q.pipeline;
const DAY = 86400;
const T0 = 1e9;

/** Typed error naming `arg`, whose message also says `detail` (the offending value or key). */
function throwsNaming(fn, Cls, arg, detail) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.argument ?? arg, arg);
    assert.ok(e.message.startsWith(`${arg}:`), `message '${e.message}' starts with '${arg}:'`);
    if (detail !== undefined) assert.ok(e.message.includes(String(detail)), `message '${e.message}' mentions ${detail}`);
    return true;
  });
}

describe('pipeline protocol against the reference', () => {
  const cases = [
    {
      name: '1 user, 9 baskets, per-user',
      log: { users: 1, items: 7, baskets: 9, seed: 1 },
      opts: { split: { mode: 'per-user' }, negatives: 5, historyLength: 4 },
    },
    {
      name: '3 users, per-user with shares',
      log: { users: 3, baskets: 40, seed: 2 },
      opts: { split: { mode: 'per-user', validationShare: 0.25, testShare: 0.3 }, negatives: 3, historyLength: 2, seed: 5 },
    },
    {
      name: '17 users, time split by fractions',
      log: { users: 17, baskets: 150, seed: 5 },
      opts: { split: { trainFraction: 0.4, testFraction: 0.7 }, negatives: 4, historyLength: 3 },
    },
    {
      name: '17 users, fractional times, default fractions',
      log: { users: 17, baskets: 150, seed: 6, fractional: true },
      opts: { negatives: 2, historyLength: 50, seed: 9 },
    },
    {
      name: '40 users, 1000+ events, per-user, trainUserFraction 0.5',
      log: { users: 40, items: 150, baskets: 700, seed: 9 },
      opts: { split: { mode: 'per-user' }, negatives: 4, historyLength: 5, trainUserFraction: 0.5 },
    },
    {
      name: '40 users, time split by dates, userFraction 0.6',
      log: { users: 40, baskets: 400, seed: 4 },
      opts: { split: { trainEnd: T0 + 12 * DAY, testStart: T0 + 21 * DAY }, negatives: 3, historyLength: 3, userFraction: 0.6, seed: 2 },
    },
    {
      name: '17 users, 6 items (tight pools), per-user',
      log: { users: 17, items: 6, baskets: 120, seed: 8 },
      opts: { split: { mode: 'per-user', validationShare: 0.25, testShare: 0.3 }, negatives: 4, seed: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const log = awkwardLog(c.log);
      const P = buildProtocol(log, c.opts);
      const r = checkProtocol(log, c.opts, P);
      assert.ok(P.train.positives > 0, 'fixture has training positives');
      if (c.log.users > 1) assert.ok(P.validation.positives > 0 && P.test.positives > 0, 'fixture has validation and test positives');
      if (c.log.items === 6) assert.ok(r.short > 0 && r.later > 0, 'tight pools: short negative lists and later purchases as negatives');
      if (c.log.baskets >= 700) assert.ok(r.ref.fp.size >= 1000, `${r.ref.fp.size} first-purchase events`);
      if (c.opts.userFraction) assert.ok(P.stats.users < log.numUsers && P.stats.users > 0);
    });
  }

  it('a one-event log trains only', () => {
    const log = fromRows(2, 3, [[1, 2, 5, -1]]);
    const opts = { split: { mode: 'per-user' }, negatives: 2 };
    const P = buildProtocol(log, opts);
    checkProtocol(log, opts, P);
    assert.equal(P.train.positives, 1);
  });

  it('falls back to enumerating the allowed items when the user owns almost the whole pool', () => {
    // Fillers buy all 60 items in every period (full pools); each collector owns 40 items from the
    // start and buys the other 20 one basket at a time, so its allowed items shrink to 1.
    const rows = [];
    for (let f = 0; f < 3; f++) for (let it = 0; it < 60; it++) for (const t of [1, 150, 250]) rows.push([f, it, t, -1]);
    for (let c = 3; c < 9; c++) {
      const order = Array.from({ length: 60 }, (_, j) => (j * (7 + 2 * c)) % 60);
      for (let j = 0; j < 40; j++) rows.push([c, order[j], 10, 100 + c]);
      for (let j = 40; j < 60; j++) rows.push([c, order[j], 10 + (j - 39) * 12, -1]);
    }
    const log = fromRows(9, 60, rows, 3);
    const opts = { split: { trainEnd: 100, testStart: 200 }, negatives: 4, seed: 4 };
    const r = checkProtocol(log, opts, buildProtocol(log, opts));
    assert.ok(r.short > 0, 'some request has fewer allowed items than k');
  });

  it('falls back with several allowed items left in a large pool', () => {
    // A pool of 400 items, collectors owning 390 (item 0 among them) who buy the other 10 one
    // basket at a time: 160 rejection tries at 10/400 leave most draws to the enumeration, which
    // then has to draw several times from its shrinking list.
    const rows = [];
    for (let it = 0; it < 400; it++) rows.push([0, it, 1, -1]);
    for (let c = 1; c < 6; c++) {
      const order = Array.from({ length: 400 }, (_, j) => (j * (11 + 6 * c)) % 400);
      for (let j = 0; j < 390; j++) rows.push([c, order[j], 2, -1]);
      for (let j = 390; j < 400; j++) rows.push([c, order[j], 3 + j, -1]);
    }
    rows.push([0, 0, 500, -1], [0, 1, 600, -1]);
    const log = fromRows(6, 400, rows, 9);
    const opts = { split: { trainEnd: 450, testStart: 550 }, negatives: 8, seed: 6 };
    const r = checkProtocol(log, opts, buildProtocol(log, opts));
    assert.ok(r.negatives > 100 && r.short > 0);
  });

  it('does not depend on the order of the log rows', () => {
    const log = awkwardLog({ users: 17, baskets: 200, seed: 12 });
    const perm = Array.from({ length: log.user.length }, (_, k) => k).reverse();
    const rev = {
      ...log,
      user: log.user.slice().reverse(),
      item: log.item.slice().reverse(),
      time: log.time.slice().reverse(),
      basket: log.basket.slice().reverse(),
    };
    for (const split of [{}, { mode: 'per-user' }]) {
      const opts = { split, negatives: 3, historyLength: 4 };
      const a = buildProtocol(log, opts);
      const b = buildProtocol(rev, opts);
      for (const name of ['train', 'validation', 'test']) assert.deepEqual(b[name], a[name], name);
      for (let p = 0; p < 3; p++)
        assert.deepEqual(
          Array.from(b.periodInteractions[p], (k) => perm[k]).sort((x, y) => x - y),
          Array.from(a.periodInteractions[p]),
        );
    }
  });

  it('keeps basket-less events at fractional or negative times apart from other baskets (regression)', () => {
    // 100.2 and 100.7 are two (user, time) baskets: the earlier is history of the later.
    let log = fromRows(1, 6, [
      [0, 1, 100.2, -1],
      [0, 2, 100.7, -1],
      [0, 3, 101, -1],
      [0, 4, 102, -1],
    ]);
    let opts = { split: { trainEnd: 100.5, testStart: 101.5 }, negatives: 0 };
    let P = buildProtocol(log, opts);
    checkProtocol(log, opts, P);
    assert.deepEqual(Array.from(P.validation.hist.subarray(P.validation.histOffsets[0], P.validation.histOffsets[1])), [1]);
    // At time -6 the basket-less event and basket 5 are two requests.
    log = fromRows(1, 6, [
      [0, 1, -10, -1],
      [0, 2, -6, -1],
      [0, 3, -6, 5],
      [0, 4, -1, -1],
      [0, 5, 0, -1],
    ]);
    opts = { split: { trainEnd: -8, testStart: -0.5 }, negatives: 0 };
    P = buildProtocol(log, opts);
    checkProtocol(log, opts, P);
    assert.equal(P.validation.numGroups, 3);
  });

  it('keeps baskets apart at one instant, across times and across neighbouring users', () => {
    // Rows in this order (no shuffle), so that basket-less events come first in the log.
    const rows = [
      // User 0: at t=5 a basket-less event and baskets 0 and 1; at t=7 again without basket and
      // basket 0; invoice 7 at t=8 and again at t=9; a last basket-less event at t=12.
      [0, 1, 5, -1],
      [0, 2, 5, 0],
      [0, 3, 5, 1],
      [0, 4, 7, -1],
      [0, 5, 7, 0],
      [0, 6, 8, 7],
      [0, 7, 9, 7],
      [0, 8, 12, -1],
      // User 1's first basket is at user 0's last instant, also without basket.
      [1, 9, 12, -1],
      [1, 10, 13, -1],
      // User 2 owns items 11..16 from t=2 on: never negatives of user 2, but allowed for user 1,
      // whose requests have fewer allowed items than k.
      ...[11, 12, 13, 14, 15, 16].map((it) => [2, it, 2, 3]),
      [2, 17, 20, -1],
      [3, 17, 30, -1],
      [3, 0, 40, -1],
    ];
    const log = fromRows(4, 18, rows, null);
    const opts = { split: { trainEnd: 15, testStart: 35 }, negatives: 20, historyLength: 50 };
    const P = buildProtocol(log, opts);
    const r = checkProtocol(log, opts, P);
    assert.ok(r.short > 0);
    // Spelled out for user 0: seven baskets, seven requests.
    const times = Array.from(P.train.groupTime).slice(0, 7);
    assert.deepEqual(times, [5, 5, 5, 7, 7, 8, 9]);
    // Invoice 7 at t=9: t=8's item is from the same invoice, so not history.
    const g9 = 6;
    assert.deepEqual(Array.from(P.train.hist.subarray(P.train.histOffsets[g9], P.train.histOffsets[g9 + 1])), [1, 2, 3, 4, 5]);
  });

  it('resamples negatives for every other seed', () => {
    const log = awkwardLog({ users: 17, baskets: 150, seed: 5 });
    const runs = [1, 2, 3, 4, 5].map((seed) => buildProtocol(log, { split: { mode: 'per-user' }, negatives: 4, seed }));
    for (let a = 0; a < runs.length; a++)
      for (let b = a + 1; b < runs.length; b++)
        for (const name of ['train', 'validation', 'test']) {
          assert.deepEqual(runs[a][name].label, runs[b][name].label);
          assert.notDeepEqual(runs[a][name].item, runs[b][name].item, `seeds ${a + 1} and ${b + 1}, ${name}`);
        }
  });

  describe('userFraction and trainUserFraction', () => {
    const log = awkwardLog({ users: 1000, items: 40, baskets: 2500, seed: 21 });

    it('keeps about the given share of users, as if the others were not in the log', () => {
      for (const f of [0.3, 0.7]) {
        const opts = { userFraction: f, negatives: 2, historyLength: 3, seed: 7 };
        const P = buildProtocol(log, opts);
        const kept = P.keptUsers.reduce((s, x) => s + x, 0);
        assert.ok(Math.abs(kept / log.numUsers - f) < 0.06, `kept ${kept} of ${log.numUsers} at ${f}`);
        assert.equal(P.stats.users, kept);
        const only = buildProtocol(
          filterLog(log, (k) => P.keptUsers[log.user[k]] === 1),
          { ...opts, userFraction: 1 },
        );
        for (const name of ['train', 'validation', 'test']) assert.deepEqual(P[name], only[name], name);
        assert.deepEqual(P.split, only.split);
        assert.deepEqual(P.warm, only.warm);
      }
    });

    it('draws training users among the kept ones, about the given share', () => {
      const P = buildProtocol(log, { userFraction: 0.8, trainUserFraction: 0.25, negatives: 0 });
      let kept = 0,
        train = 0;
      for (let u = 0; u < log.numUsers; u++) {
        if (P.trainKeptUsers[u]) assert.equal(P.keptUsers[u], 1);
        kept += P.keptUsers[u];
        train += P.trainKeptUsers[u];
      }
      assert.ok(Math.abs(train / kept - 0.25) < 0.06, `${train} of ${kept}`);
    });

    it('judges dates against the kept users’ time range', () => {
      // Which users are kept depends on the seed and numUsers only, so a dropped user can be given
      // the log's earliest and latest events.
      const opts = { userFraction: 0.5, negatives: 0 };
      const kept = buildProtocol(log, opts).keptUsers;
      let first = Infinity,
        last = -Infinity;
      for (let k = 0; k < log.user.length; k++) {
        if (!kept[log.user[k]]) continue;
        first = Math.min(first, log.time[k]);
        last = Math.max(last, log.time[k]);
      }
      const dropped = kept.indexOf(0);
      const rows = Array.from(log.user, (u, k) => [u, log.item[k], log.time[k], log.basket[k]]);
      rows.push([dropped, 0, first - DAY, -1], [dropped, 1, last + DAY, -1]);
      const wide = fromRows(log.numUsers, log.numItems, rows);
      // Edges inside the kept range: trainEnd just after its first time, testStart at its last.
      const ok = { ...opts, split: { trainEnd: first + 1, testStart: last } };
      const P = buildProtocol(wide, ok);
      assert.deepEqual(P.keptUsers, kept);
      checkProtocol(wide, ok, P);
      throwsNaming(() => buildProtocol(wide, { ...opts, split: { trainEnd: first, testStart: last } }), q.ValueError, 'split', 'outside the data');
      throwsNaming(() => buildProtocol(wide, { ...opts, split: { trainEnd: first + 1, testStart: last + 1 } }), q.ValueError, 'split', 'outside the data');
    });

    it('names userFraction when no user is left', () => {
      throwsNaming(() => buildProtocol(fromRows(3, 2, [[0, 0, 1, -1]]), { userFraction: 1e-9 }), q.ValueError, 'userFraction', 'no user left');
    });
  });

  it('warns below 100 users with training and test events, not at 100', () => {
    const log = (users) => {
      const rows = [];
      for (let u = 0; u < users; u++) for (const t of [10, 20, 30]) rows.push([u, t / 10, t, -1]);
      return fromRows(users, 4, rows);
    };
    for (const users of [99, 100]) {
      const time = buildProtocol(log(users), { split: { trainEnd: 15, testStart: 25 }, negatives: 0 });
      checkWarnings(time.stats.warnings, users, 'time');
      assert.equal(time.stats.trainTestUsers, users);
      const perUser = buildProtocol(log(users), { split: { mode: 'per-user' }, negatives: 0 });
      checkWarnings(perUser.stats.warnings, users, 'per-user');
    }
  });

  it('reports the split it used', () => {
    const log = awkwardLog({ users: 17, baskets: 150, seed: 5 });
    const P = buildProtocol(log, { split: { mode: 'per-user', validationShare: 0.3, testShare: 0.4 }, negatives: 0 });
    assert.deepEqual(P.split, { mode: 'per-user', trainEnd: NaN, testStart: NaN, source: 'per-user', validationShare: 0.3, testShare: 0.4 });
    const D = buildProtocol(log, { split: { mode: 'per-user' }, negatives: 0 });
    assert.equal(D.split.validationShare, 0.1, 'documented default');
    assert.equal(D.split.testShare, 0.2, 'documented default');
    assert.deepEqual(q.pipeline.DEFAULT_SHARES, { validation: 0.1, test: 0.2 });
    assert.deepEqual(P.options, { negatives: 0, historyLength: 50, seed: 17, userFraction: 1, trainUserFraction: 1 });
  });
});

describe('pipeline protocol options and input checks', () => {
  const log = awkwardLog({ users: 5, baskets: 30, seed: 3 });
  const split = { mode: 'per-user' };

  it('accepts the smallest valid values', () => {
    for (const opts of [
      { split, negatives: 0, historyLength: 1 },
      { split, negatives: 1, historyLength: 1, userFraction: 1, trainUserFraction: 1 },
    ]) {
      const P = buildProtocol(log, opts);
      checkProtocol(log, opts, P);
    }
  });

  it('rejects bad options naming them', () => {
    for (const v of [-1, 1.5, NaN]) throwsNaming(() => buildProtocol(log, { split, negatives: v }), q.ValueError, 'negatives', v);
    for (const v of [0, -2, 2.5, NaN]) throwsNaming(() => buildProtocol(log, { split, historyLength: v }), q.ValueError, 'historyLength', v);
    for (const v of [0, -0.5, 1.01, NaN]) throwsNaming(() => buildProtocol(log, { split, userFraction: v }), q.ValueError, 'userFraction', v);
    for (const v of [0, 1.5, NaN]) throwsNaming(() => buildProtocol(log, { split, trainUserFraction: v }), q.ValueError, 'trainUserFraction', v);
  });

  it('rejects bad logs naming the column', () => {
    const empty = { numUsers: 0, numItems: 0, user: new Int32Array(0), item: new Int32Array(0), time: new Float64Array(0), basket: new Int32Array(0) };
    throwsNaming(() => buildProtocol(empty), q.ValueError, 'interactions', 'empty');
    for (const f of ['item', 'time', 'basket']) throwsNaming(() => buildProtocol({ ...log, [f]: log[f].subarray(1) }), q.ShapeError, f, log.user.length - 1);
    for (const v of [-1, 2.5, NaN]) {
      throwsNaming(() => buildProtocol({ ...log, numUsers: v }), q.ValueError, 'numUsers', v);
      throwsNaming(() => buildProtocol({ ...log, numItems: v }), q.ValueError, 'numItems', v);
    }
    const bad = (col, k, v) => {
      const a = log[col].slice();
      a[k] = v;
      return { ...log, [col]: a };
    };
    const k = 7;
    throwsNaming(() => buildProtocol(bad('user', k, log.numUsers)), q.IndexError, 'user', `entry ${k} is ${log.numUsers}`);
    throwsNaming(() => buildProtocol(bad('user', k, -1)), q.IndexError, 'user', `entry ${k} is -1`);
    throwsNaming(() => buildProtocol(bad('item', k, log.numItems)), q.IndexError, 'item', `entry ${k} is ${log.numItems}`);
    throwsNaming(() => buildProtocol(bad('item', k, -1)), q.IndexError, 'item', `entry ${k} is -1`);
    for (const t of [NaN, Infinity]) throwsNaming(() => buildProtocol(bad('time', k, t)), q.ValueError, 'time', `entry ${k}`);
  });

  it('sliceMask selects all, warm-target and cold-target samples', () => {
    const P = buildProtocol(awkwardLog({ users: 17, baskets: 150, seed: 5 }), { negatives: 3 });
    const s = P.test;
    assert.deepEqual(sliceMask(s, P.warm, 'all'), new Uint8Array(s.size).fill(1));
    const warm = sliceMask(s, P.warm, 'warm');
    const cold = sliceMask(s, P.warm, 'cold');
    for (let i = 0; i < s.size; i++) {
      assert.equal(warm[i], P.warm[s.item[i]]);
      assert.equal(cold[i], 1 - P.warm[s.item[i]]);
    }
    assert.ok(cold.includes(1) && warm.includes(1));
  });
});

describe('pipeline protocol split', () => {
  // Sorted event times with ties: n events on a grid of `span` instants.
  const times = (n, span, seed) => {
    const g = new q.Generator(seed);
    return Float64Array.from({ length: n }, () => 1000 + g.int(span)).sort();
  };

  it('userCut cuts seeded users of 1..60 events with ties like the reference', () => {
    const g = new q.Generator(31);
    let split = 0;
    for (let trial = 0; trial < 400; trial++) {
      const m = 1 + g.int(60);
      const t = times(m, 1 + g.int(2 * m), trial);
      const shares = { validation: 0.05 + 0.3 * g.uniform(), test: 0.05 + 0.4 * g.uniform() };
      const got = userCut(t, shares);
      assert.deepEqual(got, refUserCut(Array.from(t), shares.validation, shares.test), `trial ${trial}: ${t} ${JSON.stringify(shares)}`);
      if (Number.isFinite(got[0])) split++;
    }
    assert.ok(split > 300);
    // Short users with many ties and large shares: the targets then fall left of every allowed
    // position, where the nearest-position search has no candidate at the target itself.
    for (let trial = 0; trial < 400; trial++) {
      const m = 3 + g.int(10);
      const t = times(m, 2 + g.int(m), 1000 + trial);
      const shares = { validation: 0.05 + 0.4 * g.uniform(), test: 0.05 + 0.45 * g.uniform() };
      if (shares.validation + shares.test >= 0.95) continue;
      assert.deepEqual(userCut(t, shares), refUserCut(Array.from(t), shares.validation, shares.test), `trial ${trial}: ${t} ${JSON.stringify(shares)}`);
    }
    // Two such users by hand: 2 validation events wanted but only one time left before the test
    // cut; 4 wanted with the first 4 events at one instant.
    assert.deepEqual(userCut([1, 1, 2, 3, 4], { validation: 0.35, test: 0.4 }), [2, 3]);
    assert.deepEqual(userCut([1, 1, 1, 1, 2, 3, 4, 5, 6, 7], { validation: 0.4, test: 0.5 }), [2, 3]);
    // The smallest users: 3 distinct times split one each; fewer train only.
    assert.deepEqual(userCut([5, 6, 7], { validation: 0.1, test: 0.2 }), [6, 7]);
    assert.deepEqual(userCut([5, 6, 6, 7], { validation: 0.1, test: 0.2 }), [6, 7]);
    for (const t of [[], [5], [5, 6], [5, 5, 6], [5, 6, 6, 6]]) assert.deepEqual(userCut(t, { validation: 0.1, test: 0.2 }), [Infinity, Infinity], String(t));
  });

  it('perUserCuts cuts each user of an event list sorted by (user, time)', () => {
    const g = new q.Generator(8);
    const user = [],
      time = [];
    const numUsers = 30;
    for (let u = 0; u < numUsers; u++) {
      if (u % 7 === 3) continue; // users without events
      const m = 1 + g.int(u % 5 === 0 ? 40 : 8);
      for (const t of times(m, 2 * m, 100 + u)) {
        user.push(u);
        time.push(t);
      }
    }
    // Events index the columns out of order.
    const N = user.length;
    const perm = Array.from({ length: N }, (_, k) => (k * 17 + 5) % N);
    assert.equal(new Set(perm).size, N);
    const colUser = new Int32Array(N),
      colTime = new Float64Array(N);
    perm.forEach((col, k) => {
      colUser[col] = user[k];
      colTime[col] = time[k];
    });
    const shares = { validation: 0.15, test: 0.25 };
    const cuts = perUserCuts(numUsers, Int32Array.from(perm), colUser, colTime, shares);
    for (let u = 0; u < numUsers; u++) {
      const t = time.filter((_, k) => user[k] === u);
      assert.deepEqual([cuts.trainEnd[u], cuts.testStart[u]], refUserCut(t, shares.validation, shares.test), `user ${u}`);
    }
  });

  it('cuts at the event of rank round(f · events), the last one past the end', () => {
    for (const E of [1, 3, 17, 1000]) {
      const t = times(E, Math.max(2, E >> 1), E);
      for (const [tf, sf] of [
        [0.3, 0.6],
        [0.01, 0.99],
        [0.5, 0.99],
        [0.5, 0.9],
      ]) {
        const at = (f) => t[Math.min(E - 1, Math.round(f * E))];
        const want = { mode: 'time', trainEnd: at(tf), testStart: at(sf), source: 'fractions' };
        let got;
        try {
          got = resolveSplit({ trainFraction: tf, testFraction: sf }, t);
        } catch (e) {
          // Valid only when the cuts are ordered and inside the data.
          assert.ok(!(want.trainEnd < want.testStart && want.trainEnd > t[0]), `E ${E} ${tf} ${sf}: ${e.message}`);
          assert.ok(e instanceof q.ValueError);
          continue;
        }
        assert.deepEqual(got, want, `E ${E}, fractions ${tf} ${sf}`);
      }
    }
    // Defaults: the README's 61.0 % and 76.5 %.
    assert.ok(Math.abs(q.pipeline.DEFAULT_FRACTIONS.train - 0.61) < 0.0005);
    assert.ok(Math.abs(q.pipeline.DEFAULT_FRACTIONS.test - 0.765) < 0.0005);
    const t = Float64Array.from({ length: 1000 }, (_, k) => k);
    assert.deepEqual(resolveSplit({}, t), { mode: 'time', trainEnd: 610, testStart: 765, source: 'fractions' });
  });

  it('takes dates as given, checks them against the data and says where the cut came from', () => {
    const t = Float64Array.from([10, 20, 30, 40]);
    assert.deepEqual(resolveSplit({ trainEnd: 11, testStart: 40 }, t), { mode: 'time', trainEnd: 11, testStart: 40, source: 'dates' });
    assert.deepEqual(resolveSplit({ trainEnd: 11, testFraction: 0.75 }, t), { mode: 'time', trainEnd: 11, testStart: 40, source: 'fractions' });
    assert.deepEqual(resolveSplit({ trainFraction: 0.25, testStart: 35 }, t), { mode: 'time', trainEnd: 20, testStart: 35, source: 'fractions' });
    // The range comes from first/last when given (the raw log's), else from the events.
    assert.deepEqual(resolveSplit({ trainEnd: 5, testStart: 45 }, t, 4, 45).trainEnd, 5);
    throwsNaming(() => resolveSplit({ trainEnd: 10, testStart: 40 }, t), q.ValueError, 'split', 'outside the data');
    throwsNaming(() => resolveSplit({ trainEnd: 11, testStart: 41 }, t), q.ValueError, 'split', 'outside the data');
    throwsNaming(() => resolveSplit({ trainEnd: 20, testStart: 20 }, t), q.ValueError, 'split', 'must be before testStart');
    throwsNaming(() => resolveSplit({ trainEnd: 30, testStart: 20 }, t), q.ValueError, 'split', iso(30));
    throwsNaming(() => resolveSplit({}, new Float64Array(0)), q.ValueError, 'split', 'no events');
    throwsNaming(() => resolveSplit({ mode: 'per-user' }, t), q.ValueError, 'split.mode', 'perUserCuts');
    for (const k of ['validationShare', 'testShare']) throwsNaming(() => resolveSplit({ [k]: 0.1 }, t), q.ValueError, `split.${k}`, 'per-user');
    for (const k of ['trainFraction', 'testFraction'])
      for (const v of [0, 1, -0.5, 1.5, NaN]) throwsNaming(() => resolveSplit({ [k]: v }, t), q.ValueError, `split.${k}`, `got ${v}`);
    throwsNaming(() => resolveSplit({ trainEnd: 'soon' }, t), q.ValueError, 'split.trainEnd', 'soon');
    throwsNaming(() => resolveSplit({ trainEnd: 11, testStart: 'later' }, t), q.ValueError, 'split.testStart', 'later');
  });

  it('checks the per-user shares', () => {
    assert.deepEqual(perUserShares({}), { validation: 0.1, test: 0.2 });
    assert.deepEqual(perUserShares({ mode: 'per-user', validationShare: 0.45, testShare: 0.5 }), { validation: 0.45, test: 0.5 });
    for (const k of ['trainEnd', 'testStart', 'trainFraction', 'testFraction'])
      throwsNaming(() => perUserShares({ [k]: 0.5 }), q.ValueError, `split.${k}`, 'per-user');
    for (const k of ['validationShare', 'testShare'])
      for (const v of [0, 1, -0.1, 1.2, NaN]) throwsNaming(() => perUserShares({ [k]: v }), q.ValueError, `split.${k}`, `got ${v}`);
    throwsNaming(() => perUserShares({ validationShare: 0.5, testShare: 0.5 }), q.ValueError, 'split', `got ${0.5 + 0.5}`);
    throwsNaming(() => perUserShares({ validationShare: 0.7, testShare: 0.4 }), q.ValueError, 'split', `got ${0.7 + 0.4}`);
  });

  it('parses unix seconds and ISO-8601 dates, UTC unless a zone is given, whatever the local zone', () => {
    const tz = process.env.TZ;
    // A local zone far from UTC, so that a date read as local time would show.
    process.env.TZ = 'Asia/Kolkata';
    try {
      assert.equal(new Date(0).getTimezoneOffset(), -330, 'the zone change took effect');
      const utc = (...a) => Date.UTC(...a) / 1000;
      assert.equal(parseTimePoint(1234.5, 'x'), 1234.5);
      assert.equal(parseTimePoint(-3, 'x'), -3);
      assert.equal(parseTimePoint('2011-09-01', 'x'), utc(2011, 8, 1));
      assert.equal(parseTimePoint('2011-09-01T10:30', 'x'), utc(2011, 8, 1, 10, 30));
      assert.equal(parseTimePoint('2011-09-01T10:30:15', 'x'), utc(2011, 8, 1, 10, 30, 15));
      assert.equal(parseTimePoint('2011-09-01T10:30:00Z', 'x'), utc(2011, 8, 1, 10, 30));
      assert.equal(parseTimePoint('2011-09-01T10:30:00z', 'x'), utc(2011, 8, 1, 10, 30));
      assert.equal(parseTimePoint('2011-09-01T10:30:00+02:00', 'x'), utc(2011, 8, 1, 8, 30));
      assert.equal(parseTimePoint('2011-09-01T10:30:00+0200', 'x'), utc(2011, 8, 1, 8, 30));
      assert.equal(parseTimePoint('2011-09-01T10:30:00-05:30', 'x'), utc(2011, 8, 1, 16, 0));
      // An extended (six-digit) year: its sign is not a zone offset.
      assert.equal(parseTimePoint('+002011-09-01T10:30', 'x'), utc(2011, 8, 1, 10, 30));
      for (const v of [NaN, Infinity, -Infinity]) throwsNaming(() => parseTimePoint(v, 'split.trainEnd'), q.ValueError, 'split.trainEnd', String(v));
      throwsNaming(() => parseTimePoint('1st of May', 'split.testStart'), q.ValueError, 'split.testStart', '1st of May');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('bundled split: the documented dates, inside the bundled data’s 2010-12 .. 2011-12 span', () => {
    const B = q.pipeline.BUNDLED_SPLIT;
    assert.equal(B.trainEnd, parseTimePoint('2011-09-01', 'x'));
    assert.equal(B.testStart, parseTimePoint('2011-10-15', 'x'));
    assert.ok(B.first >= parseTimePoint('2010-12-01', 'x') && B.first < parseTimePoint('2010-12-02', 'x'), iso(B.first));
    assert.ok(B.last >= parseTimePoint('2011-12-01', 'x') && B.last < parseTimePoint('2012-01-01', 'x'), iso(B.last));
  });

  it('iso', () => {
    assert.equal(iso(0), '1970-01-01T00:00:00.000Z');
    assert.equal(iso(parseTimePoint('2011-09-01T10:30:00Z', 'x')), '2011-09-01T10:30:00.000Z');
    assert.equal(iso(Infinity), 'Infinity');
    assert.equal(iso(NaN), 'NaN');
  });
});
