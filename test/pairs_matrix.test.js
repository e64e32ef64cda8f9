// The fast pair-mining path (lib/align/score_matrix.ts, miners.ts) against the plain Map-based
// reference in support/pairs_ref.js: same tables (entries, row order, float bits), same pairs.
import { q, assert } from './helpers.js';
import * as P from '../dist/align/pairs.js';
import * as M from '../dist/align/miners.js';
import * as E from '../dist/align/pair_recall.js';
import { ScoreMatrix, PairAccumulator } from '../dist/align/score_matrix.js';
import * as R from './support/pairs_ref.js';

/**
 * A random log: users buying from a small catalogue (heavy overlap, so Swing sums many terms
 * per cell in varied orders), repeated items, shared timestamps, baskets with duplicates and
 * basket-less events; `whale` adds one user who buys `whale` distinct items.
 */
function randomLog(seed, { users = 40, items = 25, events = 600, whale = 0 } = {}) {
  const g = new q.Generator(seed);
  const out = [];
  for (let k = 0; k < events; k++) {
    const user = g.int(users);
    const time = 100 * g.int(30);
    // Hot items first: a skewed catalogue gives ties and long rows.
    const item = Math.min(g.int(items), g.int(items));
    out.push({ user, item, time, basket: g.uniform() < 0.1 ? -1 : user * 1000 + time / 100 });
  }
  for (let i = 0; i < whale; i++) out.push({ user: users, item: i, time: 10 * (i % 7), basket: users * 1000 + (i % 3) });
  return out;
}

/** Table as [row, [[col, value]...]] with values as exact bit strings (Map order kept). */
const entries = (t) => t.map((m, i) => [i, [...m].map(([j, v]) => [j, Object.is(v, -0) ? '-0' : String(v)])]);
const pairsOf = (p) => ({ a: [...p.a], b: [...p.b], score: [...p.score] });

const LOGS = [
  ['dense overlap', randomLog(1)],
  ['wide catalogue', randomLog(2, { users: 60, items: 300, events: 1500 })],
  ['a whale over the local-block limit', randomLog(3, { users: 30, items: 700, events: 2500, whale: 520 })],
];

describe('align: fast pair mining equals the Map-based reference', () => {
  for (const [name, log] of LOGS) {
    const n = Math.max(...log.map((e) => e.item)) + 1;
    const users = M.groupByUser(log, n);

    it(`co-occurrence, both backends, all modes (${name})`, () => {
      for (const o of [{}, { count: 'events' }, { window: 250 }, { window: 250, count: 'events', sameBasket: false }, { maxBasket: 3 }]) {
        const ref = entries(R.cooccurrence(log, n, o));
        assert.deepEqual(entries(P.cooccurrence(log, n, o)), ref, JSON.stringify(o));
        assert.deepEqual(entries(M.cooccurrenceScores(users, n, o, true).toTable()), ref, `sparse ${JSON.stringify(o)}`);
      }
    });

    it(`Swing sums bit for bit, both backends (${name})`, () => {
      for (const o of [{}, { alpha: 0.3, userAlpha: 2 }, { userWeight: false, maxItemsPerUser: 7 }]) {
        const ref = entries(R.swing(log, n, o));
        assert.ok(ref.some(([, r]) => r.length > 0));
        assert.deepEqual(entries(P.swing(log, n, o)), ref, JSON.stringify(o));
        assert.deepEqual(entries(M.swingScores(users, n, o, true).toTable()), ref, `sparse ${JSON.stringify(o)}`);
      }
    });

    it(`User2Item from a table, a dense and a sparse similarity (${name})`, () => {
      const sim = R.cosineNormalize(R.cooccurrence(log, n), R.itemUserCounts(log, n));
      for (const o of [{}, { historyLength: 3 }]) {
        const ref = entries(R.user2item(log, n, sim, o));
        assert.deepEqual(entries(P.user2item(log, n, sim, o)), ref);
        assert.deepEqual(entries(M.user2itemScores(users, n, ScoreMatrix.fromTable(sim, true), o).toTable()), ref);
        const cos = M.cosineScores(M.cooccurrenceScores(users, n), P.itemUserCounts(log, n));
        assert.deepEqual(entries(M.user2itemScores(users, n, cos, o).toTable()), ref);
      }
    });

    it(`minePairs: same pairs, order and scores (${name})`, () => {
      for (const o of [
        {},
        { topN: 3, cap: 4 },
        { miners: ['cooccurrence', 'user2item'], topN: 2, minScore: 1 },
        { miners: ['swing'], topN: 1000 },
        { miners: ['user2item', 'cooccurrence'] },
      ]) {
        const ref = R.minePairs(log, n, o);
        const got = P.minePairs(log, n, o);
        assert.deepEqual(pairsOf(got.pairs), pairsOf(ref.pairs), JSON.stringify(o));
        assert.deepEqual(Object.keys(got.byMiner), Object.keys(ref.byMiner));
        for (const m of Object.keys(ref.byMiner)) assert.deepEqual(pairsOf(got.byMiner[m]), pairsOf(ref.byMiner[m]), m);
        assert.ok(ref.pairs.a.length > 0);
      }
    });
  }

  it('selectPairs on hand-made tables: ties, asymmetric rows, unsorted rows, topN above n', () => {
    const g = new q.Generator(7);
    const n = 30;
    const t = Array.from({ length: n }, () => new Map());
    // Rows filled in random column order with few distinct scores (many ties), not symmetric.
    for (let k = 0; k < 400; k++) t[g.int(n)].set(g.int(n), g.int(4) - 1 + (g.uniform() < 0.1 ? Infinity : 0));
    for (const o of [{}, { topN: 2, cap: 3 }, { topN: 100, cap: 1 }, { minScore: -1 }, { minScore: 1.5 }]) {
      assert.deepEqual(pairsOf(P.selectPairs(t, o)), pairsOf(R.selectPairs(t, o)), JSON.stringify(o));
    }
    assert.throws(() => P.selectPairs(t, { topN: 0 }), q.ValueError);
    assert.throws(() => P.selectPairs(t, { cap: 1.5 }), q.ValueError);
  });

  it('pairRecall ranks as the sort-based reference: ties, -0/+0, -Infinity, NaN, many targets per query', () => {
    const g = new q.Generator(11);
    const n = 60;
    const values = [0, -0, 1, 2, 2, -Infinity, NaN, 0.5];
    const rows = Array.from({ length: n }, () => Float32Array.from({ length: n }, () => (g.uniform() < 0.5 ? values[g.int(values.length)] : g.int(5))));
    const scorer = (qs) => {
      const out = new Float32Array(qs.length * n);
      qs.forEach((i, r) => out.set(rows[i], r * n));
      return out;
    };
    // Hub items 0..2 get many partners (the one-pass path), the rest few (the direct count).
    const a = [],
      b = [];
    for (let k = 0; k < 200; k++) {
      a.push(k < 90 ? k % 3 : g.int(n));
      b.push(3 + g.int(n - 3));
    }
    const pairs = { a: Int32Array.from(a), b: Int32Array.from(b), score: new Float32Array(a.length) };
    for (const ks of [
      [1, 5, 10, 50],
      [59, 60],
    ]) {
      assert.deepEqual(E.pairRecall(scorer, n, pairs, { ks, chunk: 7 }), R.pairRecall(scorer, n, pairs, ks));
    }
  });
});

describe('align: ScoreMatrix', () => {
  it('dense and sparse accumulators give the same matrix in every view', () => {
    const g = new q.Generator(5);
    const n = 23;
    const dense = new PairAccumulator(n);
    const sparse = new PairAccumulator(n, true);
    assert.ok(dense.dense && !sparse.dense);
    for (let k = 0; k < 500; k++) {
      const i = g.int(n),
        j = g.int(n);
      if (i === j) continue;
      const w = g.normal();
      dense.add(i, j, w);
      sparse.add(j, i, w);
    }
    const d = dense.finish();
    const s = sparse.finish();
    assert.deepEqual(entries(d.toTable()), entries(s.toTable()));
    const cells = [];
    d.forEach((i, j, v) => cells.push([i, j, v]));
    const cellsS = [];
    s.forEach((i, j, v) => cellsS.push([i, j, v]));
    assert.deepEqual(
      cells.sort((x, y) => x[0] - y[0] || x[1] - y[1]),
      cellsS.sort((x, y) => x[0] - y[0] || x[1] - y[1]),
    );
    const rowD = new Float32Array(n + 2),
      rowS = new Float32Array(n + 2).fill(9);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        assert.equal(d.get(i, j), s.get(i, j));
        assert.equal(d.get(i, j), d.get(j, i));
      }
      assert.equal(d.get(i, i), 0);
      d.copyRow(i, rowD, 1);
      s.copyRow(i, rowS, 1);
      assert.deepEqual([...rowD.subarray(1, n + 1)], [...rowS.subarray(1, n + 1)]);
      assert.deepEqual(
        [...rowD.subarray(1, n + 1)],
        Array.from({ length: n }, (_, j) => Math.fround(d.get(i, j))),
      );
    }
  });

  it('toTable rows list columns in ascending order; fromTable keeps a table exactly', () => {
    const g = new q.Generator(6);
    const n = 17;
    const t = Array.from({ length: n }, () => new Map());
    for (let k = 0; k < 120; k++) t[g.int(n)].set(g.int(n), g.normal());
    const sorted = t.map((m) => new Map([...m].sort((x, y) => x[0] - y[0])));
    for (const sparse of [false, true]) {
      const m = ScoreMatrix.fromTable(t, sparse);
      assert.deepEqual(entries(m.toTable()), entries(sorted));
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(m.get(i, j), t[i].get(j) ?? 0);
    }
  });

  it('tableScorer and the matrix scorer give the same rows', () => {
    const log = randomLog(9);
    const n = 25;
    const t = P.cooccurrence(log, n);
    const qs = Int32Array.from([3, 0, 24, 3]);
    const want = E.tableScorer(t)(qs);
    assert.deepEqual([...E.matrixScorer(M.cooccurrenceScores(M.groupByUser(log, n), n))(qs)], [...want]);
    assert.deepEqual([...E.matrixScorer(M.cooccurrenceScores(M.groupByUser(log, n), n, {}, true))(qs)], [...want]);
  });
});
