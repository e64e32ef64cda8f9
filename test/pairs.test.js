// Pair miners on a tiny handmade log, against hand-computed scores.
import { q, assert, assertClose } from './helpers.js';
import * as P from '../dist/align/pairs.js';

// u0: basket 0 at t=0 {0,1,2}; basket 5 at t=1000 {0,1}
// u1: basket 1 at t=10 {0,1}
// u2: basket 3 at t=5 {1,2}; basket 4 at t=50 {0}
// item 3 never bought.
const ev = (user, item, time, basket) => ({ user, item, time, basket });
const LOG = [
  ev(0, 0, 0, 0),
  ev(0, 1, 0, 0),
  ev(0, 2, 0, 0),
  ev(0, 0, 1000, 5),
  ev(0, 1, 1000, 5),
  ev(1, 0, 10, 1),
  ev(1, 1, 10, 1),
  ev(2, 1, 5, 3),
  ev(2, 2, 5, 3),
  ev(2, 0, 50, 4),
];
const N = 4;
const dense = (t) => {
  const out = [];
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) out.push(t[i].get(j) ?? 0);
  return out;
};
const sym = (entries) => {
  const out = new Array(N * N).fill(0);
  for (const [i, j, v] of entries) {
    out[i * N + j] = v;
    out[j * N + i] = v;
  }
  return out;
};

describe('align: pair mining', () => {
  it('co-occurrence in baskets, counted per distinct user', () => {
    assert.deepEqual(
      dense(P.cooccurrence(LOG, N)),
      sym([
        [0, 1, 2],
        [0, 2, 1],
        [1, 2, 2],
      ]),
    );
  });

  it('co-occurrence counted per event pair', () => {
    assert.deepEqual(
      dense(P.cooccurrence(LOG, N, { count: 'events' })),
      sym([
        [0, 1, 3],
        [0, 2, 1],
        [1, 2, 2],
      ]),
    );
  });

  it('co-occurrence within a time window adds cross-basket pairs of one user', () => {
    // u2's t=5 {1,2} and t=50 {0} are 45 s apart; u0's baskets are 1000 s apart.
    assert.deepEqual(
      dense(P.cooccurrence(LOG, N, { window: 60 })),
      sym([
        [0, 1, 3],
        [0, 2, 2],
        [1, 2, 2],
      ]),
    );
    // Window alone also pairs same-time events: (0,1) by u0,u1,u2; (0,2) and (1,2) by u0,u2.
    assert.deepEqual(
      dense(P.cooccurrence(LOG, N, { window: 60, sameBasket: false })),
      sym([
        [0, 1, 3],
        [0, 2, 2],
        [1, 2, 2],
      ]),
    );
    // 'events' mode with a window: u0 has (0,1) twice (two baskets), plus u1, plus u2's window pair.
    assert.deepEqual(
      dense(P.cooccurrence(LOG, N, { window: 60, count: 'events' })),
      sym([
        [0, 1, 4],
        [0, 2, 2],
        [1, 2, 2],
      ]),
    );
  });

  it('Swing without user weights: sum over user pairs of 1/(alpha + |I_u ∩ I_v|)', () => {
    // I0={0,1,2}, I1={0,1}, I2={0,1,2}. (u0,u1): {0,1} -> 1/3; (u0,u2): {0,1,2} -> 1/4; (u1,u2): {0,1} -> 1/3.
    const s = P.swing(LOG, N, { alpha: 1, userWeight: false });
    assertClose(
      dense(s),
      sym([
        [0, 1, 1 / 3 + 1 / 4 + 1 / 3],
        [0, 2, 1 / 4],
        [1, 2, 1 / 4],
      ]),
      { rtol: 1e-12, atol: 0 },
    );
    const s2 = P.swing(LOG, N, { alpha: 2, userWeight: false });
    assertClose(
      dense(s2),
      sym([
        [0, 1, 1 / 4 + 1 / 5 + 1 / 4],
        [0, 2, 1 / 5],
        [1, 2, 1 / 5],
      ]),
      { rtol: 1e-12, atol: 0 },
    );
  });

  it('Swing with user weights w_u = (|I_u| + alpha1)^-1/2', () => {
    const w0 = 1 / 2,
      w1 = 1 / Math.sqrt(3),
      w2 = 1 / 2; // sizes 3, 2, 3 with alpha1 = 1
    const s = P.swing(LOG, N, { alpha: 1, userWeight: true, userAlpha: 1 });
    const s01 = (w0 * w1) / 3 + (w0 * w2) / 4 + (w1 * w2) / 3;
    assertClose(
      dense(s),
      sym([
        [0, 1, s01],
        [0, 2, (w0 * w2) / 4],
        [1, 2, (w0 * w2) / 4],
      ]),
      { rtol: 1e-12, atol: 0 },
    );
  });

  it('User2Item picks the most similar strictly earlier item, never one from the same invoice', () => {
    const sim = P.swing(LOG, N, { userWeight: false });
    // u2 t=50 target 0: history {1,2}, s(0,1) > s(0,2) -> trigger 1.
    // u0 t=1000: target 0 -> trigger 1, target 1 -> trigger 0. Same-timestamp items never pair.
    assert.deepEqual(dense(P.user2item(LOG, N, sim)), sym([[0, 1, 3]]));
    // History length 1: u0 at t=1000 sees only its most recent earlier item (2, the highest id
    // at t=0), similar to both targets; u2 sees only item 2.
    assert.deepEqual(
      dense(P.user2item(LOG, N, sim, { historyLength: 1 })),
      sym([
        [0, 2, 2],
        [1, 2, 1],
      ]),
    );
  });

  it('eventsBetween keeps [from, until)', () => {
    assert.equal(P.eventsBetween(LOG, 5, 50).length, 4);
  });

  it('selectPairs: top-N per item, deduplicated, capped per item', () => {
    const t = Array.from({ length: 4 }, () => new Map());
    const set = (i, j, v) => {
      t[i].set(j, v);
      t[j].set(i, v);
    };
    set(0, 1, 5);
    set(0, 2, 4);
    set(0, 3, 3);
    set(1, 2, 1);
    const p = P.selectPairs(t, { topN: 2, cap: 2 });
    assert.deepEqual([...p.a], [0, 0, 1]);
    assert.deepEqual([...p.b], [1, 2, 2]);
    assert.deepEqual([...p.score], [5, 4, 1]);
    const p1 = P.selectPairs(t, { topN: 1, cap: 50 });
    assert.deepEqual([...p1.b], [1, 2, 3]);
  });

  it('minePairs unites the miners; bad items are rejected', () => {
    const m = P.minePairs(LOG, N);
    assert.deepEqual(Object.keys(m.byMiner), ['cooccurrence', 'swing', 'user2item']);
    const keys = [...m.pairs.a].map((a, k) => `${a}-${m.pairs.b[k]}`).sort();
    assert.deepEqual(keys, ['0-1', '0-2', '1-2']);
    assert.equal(m.byMiner.user2item.a.length, 1);
    assert.throws(() => P.cooccurrence([ev(0, 7, 0, 0)], N), q.ValueError);
  });
});
