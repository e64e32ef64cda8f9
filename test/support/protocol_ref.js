// A plain restatement of the evaluation protocol (README "Protocol", the TSDoc of
// lib/pipeline/protocol.ts and protocol_split.ts) over Maps and loops, for the protocol tests to
// compare against. It shares no code with the library: first purchases, cuts, periods, requests,
// histories, pools and counts are recomputed here from the raw log. Only the negatives (seeded
// draws) are not recomputed; `checkSamples` checks them by the rule instead.
import assert from 'node:assert/strict';
import * as q from '../../dist/index.js';

/**
 * A log with every awkward case the protocol has to handle, from a seeded stream: times on a
 * coarse grid (ties within and across users), baskets with ids (0 included), without (-1), and an
 * id reused by one user at a later time, the same item in two baskets at one instant, duplicate
 * rows, repeat purchases, skewed users (some with 1-2 events, the last one with none) and items
 * that only sell in the last quarter of the span (cold). `fractional`: times off the integer grid.
 */
export function awkwardLog({ users = 17, items = 23, baskets = 150, days = 30, seed = 5, fractional = false } = {}) {
  const g = new q.Generator(seed);
  const rows = [];
  const DAY = 86400;
  const t0 = 1e9;
  for (let b = 0; b < baskets; b++) {
    const u = Math.min(users - 1, Math.floor(users * Math.pow(g.uniform(), 2)));
    let t = t0 + g.int(days) * DAY + (g.uniform() < 0.3 ? 3600 * g.int(3) : 0);
    if (fractional) t += g.int(4) * 0.25;
    const r = g.uniform();
    const id = r < 0.2 ? -1 : r < 0.25 ? 0 : r < 0.3 ? g.int(3) : b;
    const size = 1 + g.int(4);
    for (let j = 0; j < size; j++) {
      let it = g.int(items);
      // The top quarter of the ids only sells in the last quarter of the span.
      if (it >= items - Math.ceil(items / 4) && t < t0 + 0.75 * days * DAY) it -= Math.ceil(items / 4);
      rows.push([u, it, t, id]);
      if (g.uniform() < 0.1) rows.push([u, it, t, id]);
      // The same item in another basket at the same instant.
      if (g.uniform() < 0.05) rows.push([u, it, t, id === -1 ? b : -1]);
    }
  }
  // Users with exactly one and exactly two events, one with three events at one instant, and
  // (the last id) one without events.
  rows.push([users, 0, t0 + DAY, -1]);
  rows.push([users + 1, 1, t0 + DAY, -1], [users + 1, 2, t0 + 2 * DAY, -1]);
  rows.push([users + 2, 3, t0 + 4 * DAY, 9999], [users + 2, 4, t0 + 4 * DAY, 9999], [users + 2, 5 % items, t0 + 4 * DAY, 9999]);
  return fromRows(users + 4, items, rows, seed);
}

/** Columnar log from [user, item, time, basket] rows, shuffled by `seed` (row order must not matter), or in order for seed null. */
export function fromRows(numUsers, numItems, rows, seed = 1) {
  const g = new q.Generator(seed ?? 0);
  const r = rows.slice();
  for (let i = seed === null ? 0 : r.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [r[i], r[j]] = [r[j], r[i]];
  }
  return {
    numUsers,
    numItems,
    user: Int32Array.from(r, (x) => x[0]),
    item: Int32Array.from(r, (x) => x[1]),
    time: Float64Array.from(r, (x) => x[2]),
    basket: Int32Array.from(r, (x) => x[3]),
  };
}

/** Log restricted to the rows for which keep(row index) is true. */
export function filterLog(log, keep) {
  const idx = [];
  for (let k = 0; k < log.user.length; k++) if (keep(k)) idx.push(k);
  const pick = (a) => a.constructor.from(idx, (k) => a[k]);
  return { numUsers: log.numUsers, numItems: log.numItems, user: pick(log.user), item: pick(log.item), time: pick(log.time), basket: pick(log.basket) };
}

/**
 * Basket order at one instant: a basket without id (-1, the (user, time) pair) first, then by id.
 * A request is (user, time, basket): `${u}|${t}|${basketName}`.
 */
const basketRank = (b) => (b >= 0 ? b : -1);
const requestKey = (u, t, b) => `${u}|${t}|${b >= 0 ? b : 'none'}`;

/** Reference per-user cut (README "Per-user split"), over groups of equal times. */
export function refUserCut(times, vShare, tShare) {
  const m = times.length;
  const groups = [];
  for (const t of times) {
    if (groups.length && groups[groups.length - 1].t === t) groups[groups.length - 1].c++;
    else groups.push({ t, c: 1 });
  }
  if (m < 3 || groups.length < 3) return [Infinity, Infinity];
  const count = (from, to) => {
    let s = 0;
    for (let k = from; k < to; k++) s += groups[k].c;
    return s;
  };
  // Closest size to the target; a tie goes to the smaller (later) period.
  const pick = (cands, target) => {
    let best = null;
    for (const c of cands) {
      const d = Math.abs(c.size - target);
      if (best === null || d < best.d || (d === best.d && c.size < best.size)) best = { ...c, d };
    }
    return best;
  };
  const tests = [];
  // At least two time groups (one training, one validation) before the test period.
  for (let j = 2; j < groups.length; j++) tests.push({ j, size: count(j, groups.length) });
  const T = pick(tests, Math.max(1, Math.round(tShare * m)));
  const vals = [];
  for (let i = 1; i < T.j; i++) vals.push({ i, size: count(i, T.j) });
  const V = pick(vals, Math.max(1, Math.round(vShare * m)));
  return [groups[V.i].t, groups[T.j].t];
}

/**
 * The whole protocol except the negatives' draws, for `log` and buildProtocol's `opts`. The kept
 * users (userFraction, trainUserFraction) are seeded draws whose stream is not specified: they are
 * taken from `P` and checked separately (fractions, nesting, equivalence with a filtered log).
 */
export function refProtocol(log, opts, P) {
  const n = log.user.length;
  const H = opts.historyLength ?? 50;
  const kept = (u) => P.keptUsers[u] === 1;
  const trainKept = (u) => P.trainKeptUsers[u] === 1;
  // First purchase per (user, item): earliest time, then the first basket at that instant.
  const fp = new Map();
  for (let k = 0; k < n; k++) {
    const u = log.user[k];
    if (!kept(u)) continue;
    const key = `${u},${log.item[k]}`;
    const cur = fp.get(key);
    const t = log.time[k],
      b = log.basket[k];
    if (!cur || t < cur.t || (t === cur.t && basketRank(b) < basketRank(cur.b))) fp.set(key, { u, it: log.item[k], t, b });
  }
  const events = [...fp.values()];
  const perUser = new Map();
  for (const e of events) {
    if (!perUser.has(e.u)) perUser.set(e.u, []);
    perUser.get(e.u).push(e);
  }
  // Oldest first; at one instant by basket, then item.
  for (const l of perUser.values()) l.sort((a, b) => a.t - b.t || basketRank(a.b) - basketRank(b.b) || a.it - b.it);

  // Cuts.
  const split = opts.split ?? {};
  let cutOf;
  let splitDates;
  if (split.mode === 'per-user') {
    const vs = split.validationShare ?? 0.1,
      ts = split.testShare ?? 0.2;
    const cuts = new Map();
    for (const [u, l] of perUser)
      cuts.set(
        u,
        refUserCut(
          l.map((e) => e.t),
          vs,
          ts,
        ),
      );
    cutOf = (u) => cuts.get(u) ?? [Infinity, Infinity];
    splitDates = { trainEnd: 'per-user', testStart: 'per-user' };
  } else {
    const times = events.map((e) => e.t).sort((a, b) => a - b);
    const E = times.length;
    // The event of rank round(f · E), the last one if that rank is past the end.
    const at = (f) => times[Math.min(E - 1, Math.round(f * E))];
    // Dates as unix seconds only (parsing is tested on its own); the default fractions are the
    // README's 61.0 % and 76.5 %, to the precision of the bundled data's counts.
    const date = (d) => {
      assert.equal(typeof d, 'number', 'reference takes unix seconds');
      return d;
    };
    const te = split.trainEnd !== undefined ? date(split.trainEnd) : at(split.trainFraction ?? 162430 / 266226);
    const ts = split.testStart !== undefined ? date(split.testStart) : at(split.testFraction ?? 203537 / 266226);
    cutOf = () => [te, ts];
    splitDates = { trainEnd: new Date(te * 1000).toISOString(), testStart: new Date(ts * 1000).toISOString() };
  }
  const period = (u, t) => {
    const [a, b] = cutOf(u);
    return t < a ? 0 : t < b ? 1 : 2;
  };

  const trainUsers = new Set(events.filter((e) => period(e.u, e.t) === 0).map((e) => e.u));
  const testUsers = new Set(events.filter((e) => period(e.u, e.t) === 2).map((e) => e.u));
  const warm = new Uint8Array(log.numItems);
  const trainCount = new Int32Array(log.numItems);
  const vocabUsers = new Set();
  const eventsPerPeriod = [0, 0, 0];
  for (const e of events) {
    const p = period(e.u, e.t);
    if (p === 0 && !trainKept(e.u)) continue;
    if (p === 0) {
      warm[e.it] = 1;
      trainCount[e.it]++;
      vocabUsers.add(e.u);
    }
    eventsPerPeriod[p]++;
  }

  // Raw interactions and pools per period.
  const periodInteractions = [[], [], []];
  const pools = [new Set(), new Set(), new Set()];
  for (let k = 0; k < n; k++) {
    const u = log.user[k];
    if (!kept(u)) continue;
    const p = period(u, log.time[k]);
    if (p === 0 && !trainKept(u)) continue;
    periodInteractions[p].push(k);
    pools[p].add(log.item[k]);
  }

  // Requests per period, in (user, time, basket) order; positives by item id.
  const requests = [[], [], []];
  for (const u of [...perUser.keys()].sort((a, b) => a - b)) {
    const l = perUser.get(u);
    const byKey = new Map();
    for (const e of l) {
      const p = period(u, e.t);
      if (p === 0 ? !trainKept(u) : !trainUsers.has(u)) continue;
      const key = requestKey(u, e.t, e.b);
      if (!byKey.has(key)) {
        // History: the newest H events strictly before the request's time, never from its basket.
        const before = l.filter((x) => x.t < e.t && !(e.b >= 0 && x.b === e.b)).map((x) => x.it);
        const r = { u, t: e.t, b: e.b, p, items: [], hist: before.slice(Math.max(0, before.length - H)) };
        byKey.set(key, r);
        requests[p].push(r);
      }
      byKey.get(key).items.push(e.it);
    }
  }
  let trainTestUsers = 0;
  for (const u of trainUsers) if (testUsers.has(u)) trainTestUsers++;
  let users = 0;
  for (let u = 0; u < log.numUsers; u++) if (kept(u)) users++;
  return {
    fp,
    perUser,
    cutOf,
    period,
    trainUsers,
    warm,
    trainCount,
    vocabUsers,
    eventsPerPeriod,
    periodInteractions,
    pools,
    requests,
    trainTestUsers,
    users,
    splitDates,
  };
}

/** Items user `u` interacted with at or before `t` (raw rows, any period, repeats included). */
function ownedAt(log, u, t) {
  const s = new Set();
  for (let k = 0; k < log.user.length; k++) if (log.user[k] === u && log.time[k] <= t) s.add(log.item[k]);
  return s;
}

/**
 * Checks one period's SampleSet against the reference requests: groups in order with their time
 * and history; per positive (item order) its negatives right after it: distinct, from the
 * period's pool, never owned at the request time, min(k, allowed) of them. Returns counts.
 */
export function checkSamples(log, ref, set, p, k) {
  const reqs = ref.requests[p];
  assert.equal(set.numGroups, reqs.length, `period ${p}: requests`);
  assert.equal(set.histOffsets.length, reqs.length + 1);
  assert.equal(set.histOffsets[0], 0);
  let i = 0;
  let short = 0,
    negatives = 0,
    later = 0;
  const positives = reqs.reduce((s, r) => s + r.items.length, 0);
  assert.equal(set.positives, positives, `period ${p}: positives`);
  reqs.forEach((r, g) => {
    assert.equal(set.groupTime[g], r.t, `period ${p} request ${g}: time`);
    assert.deepEqual(Array.from(set.hist.subarray(set.histOffsets[g], set.histOffsets[g + 1])), r.hist, `period ${p} request ${g}: history`);
    const owned = ownedAt(log, r.u, r.t);
    const allowed = [...ref.pools[p]].filter((it) => !owned.has(it));
    for (const it of [...r.items].sort((a, b) => a - b)) {
      assert.ok(i < set.size, `period ${p}: samples end early`);
      assert.deepEqual([set.user[i], set.item[i], set.label[i], set.group[i]], [r.u, it, 1, g], `period ${p} sample ${i}: positive`);
      i++;
      const negs = [];
      while (i < set.size && set.label[i] === 0) {
        assert.deepEqual([set.user[i], set.group[i]], [r.u, g], `period ${p} sample ${i}: negative's request`);
        negs.push(set.item[i++]);
      }
      assert.equal(negs.length, Math.min(k, allowed.length), `period ${p} request ${g}: min(k, allowed) negatives`);
      if (allowed.length < k) short++;
      assert.equal(new Set(negs).size, negs.length, 'distinct negatives');
      for (const x of negs) {
        assert.ok(ref.pools[p].has(x), `negative ${x} has an interaction in period ${p}`);
        assert.ok(!owned.has(x), `negative ${x} not owned by user ${r.u} at ${r.t}`);
        if (log.user.some((uu, kk) => uu === r.u && log.item[kk] === x)) later++;
      }
      negatives += negs.length;
    }
  });
  assert.equal(i, set.size, `period ${p}: sample count`);
  for (let j = 0; j < set.size; j++) assert.ok(set.label[j] === 0 || set.label[j] === 1);
  return { short, negatives, later };
}

/** Every field of `P` against the reference. Returns checkSamples' counts summed. */
export function checkProtocol(log, opts, P) {
  const ref = refProtocol(log, opts, P);
  const k = opts.negatives ?? 4;
  const total = { short: 0, negatives: 0, later: 0 };
  [P.train, P.validation, P.test].forEach((s, p) => {
    const r = checkSamples(log, ref, s, p, k);
    for (const f in total) total[f] += r[f];
  });
  for (let u = 0; u < log.numUsers; u++) {
    const [a, b] = ref.cutOf(u);
    assert.deepEqual([P.cuts.trainEnd[u], P.cuts.testStart[u]], [a, b], `user ${u} cuts`);
    for (const t of [a - 1, a, b - 0.5, b, b + 1]) if (Number.isFinite(t)) assert.equal(P.periodOf(u, t), ref.period(u, t), `periodOf(${u}, ${t})`);
  }
  for (let p = 0; p < 3; p++) assert.deepEqual(Array.from(P.periodInteractions[p]), ref.periodInteractions[p], `period ${p} interactions`);
  assert.equal(P.trainInteractions, P.periodInteractions[0]);
  assert.deepEqual(P.warm, ref.warm);
  assert.deepEqual(P.trainCount, ref.trainCount);
  // Vocabularies: warm items / users with kept training events onto 1..count, the rest 0.
  const warmItems = ref.warm.reduce((s, x) => s + x, 0);
  assert.equal(P.numWarmItems, warmItems);
  assert.deepEqual(
    Array.from(P.itemVocab)
      .filter((v) => v > 0)
      .sort((a, b) => a - b),
    Array.from({ length: warmItems }, (_, j) => j + 1),
  );
  for (let it = 0; it < log.numItems; it++) assert.equal(P.itemVocab[it] > 0, ref.warm[it] === 1);
  assert.equal(P.numTrainUsers, ref.vocabUsers.size);
  for (let u = 0; u < log.numUsers; u++) assert.equal(P.userVocab[u] > 0, ref.vocabUsers.has(u), `user ${u} vocabulary`);
  const coldInTest = new Set(Array.from(P.test.item).filter((it) => !ref.warm[it]));
  const mode = opts.split?.mode ?? 'time';
  checkWarnings(P.stats.warnings, ref.trainTestUsers, mode);
  assert.deepEqual(
    { ...P.stats, warnings: null },
    {
      interactions: log.user.length,
      events: ref.eventsPerPeriod[0] + ref.eventsPerPeriod[1] + ref.eventsPerPeriod[2],
      eventsPerPeriod: ref.eventsPerPeriod,
      users: ref.users,
      trainUsers: ref.vocabUsers.size,
      items: log.numItems,
      warmItems,
      coldItemsInTest: coldInTest.size,
      trainTestUsers: ref.trainTestUsers,
      splitMode: mode,
      splitDates: ref.splitDates,
      warnings: null,
    },
  );
  assert.equal(P.numUsers, log.numUsers);
  assert.equal(P.numItems, log.numItems);
  return { ref, ...total };
}

/**
 * The warning of README "qarm run logs a warning when fewer than 100 users have both training and
 * test events": one line naming the count, and in time mode pointing at the per-user split.
 */
export function checkWarnings(warnings, trainTestUsers, mode) {
  if (trainTestUsers >= 100) return assert.deepEqual(warnings, []);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].startsWith(`only ${trainTestUsers} users have both training and test events (fewer than 100)`), warnings[0]);
  if (mode === 'time') assert.match(warnings[0], /noisy; .*'per-user'/);
  else assert.match(warnings[0], /noisy$/);
}
