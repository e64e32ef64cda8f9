// From protocol samples to the ranker's batch format (lib/pipeline/features.ts), checked against
// a reference built from the protocol's own vocabularies with Maps and plain loops.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';

const { buildProtocol, itemOrder, permuteRows, toRankSamples, warmMask } = q.pipeline;
const DAY = 86400;

/** A random purchase log in which some items sell only late (cold) and some users only late. */
function makeLog({ users = 40, items = 30, baskets = 300, days = 100, seed = 5 } = {}) {
  const g = new q.Generator(seed);
  const user = [],
    item = [],
    time = [],
    basket = [];
  for (let b = 0; b < baskets; b++) {
    const t = 1e9 + Math.floor(g.uniform() * days * DAY);
    // Users 30.. appear only after the training cut: they must map to the OOV user row.
    let u = g.int(users);
    if (u >= 30 && t < 1e9 + 60 * DAY) u -= 30;
    const size = 1 + g.int(5);
    for (let j = 0; j < size; j++) {
      let it = g.int(items);
      // Items 0..7 only sell after the training cut (cold), so cold and warm ids interleave.
      if (it < 8 && t < 1e9 + 60 * DAY) it += 8;
      user.push(u);
      item.push(it);
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
// trainUserFraction < 1: the dropped users are evaluated but have no user id (the OOV row).
const P = buildProtocol(makeLog(), { split: SPLIT, negatives: 3, historyLength: 4, seed: 7, trainUserFraction: 0.7 });

/** Reference order: warm items sorted by their vocabulary id, then cold items in index order. */
function orderRef(p) {
  const warm = [],
    cold = [];
  for (let i = 0; i < p.numItems; i++) (p.itemVocab[i] > 0 ? warm : cold).push(i);
  warm.sort((a, b) => p.itemVocab[a] - p.itemVocab[b]);
  const itemAt = [...warm, ...cold];
  const rankId = new Map(itemAt.map((item, r) => [item, r]));
  return { itemAt, rankId, numWarm: warm.length };
}

describe('pipeline features: protocol samples -> ranker samples', () => {
  const ref = orderRef(P);
  const order = itemOrder(P);

  it('the protocol has warm and cold items interleaved and users without training events (the cases the mapping must handle)', () => {
    assert.ok(P.numWarmItems > 0 && P.numWarmItems < P.numItems);
    assert.ok(
      [...P.itemVocab.subarray(0, 8)].every((v) => v === 0),
      'items 0..7 are cold',
    );
    assert.ok(P.numTrainUsers < P.numUsers);
    const evalUsers = [...P.test.user, ...P.validation.user];
    assert.ok(
      evalUsers.some((u) => P.userVocab[u] === 0),
      'some evaluated user has no training events',
    );
  });

  it('itemOrder puts warm items first in vocabulary order, then cold items in dataset order; rankId and itemAt are inverse', () => {
    assert.equal(order.numWarm, ref.numWarm);
    assert.equal(order.numWarm, P.numWarmItems);
    assert.deepEqual([...order.itemAt], ref.itemAt);
    for (let i = 0; i < P.numItems; i++) {
      assert.equal(order.rankId[i], ref.rankId.get(i), `rankId[${i}]`);
      assert.equal(order.itemAt[order.rankId[i]], i);
    }
  });

  it('permuteRows moves whole rows into ranker order, for float and int tables and dims 1, 3 and 17', () => {
    const g = new q.Generator(3);
    for (const dim of [1, 3, 17]) {
      const f = Float32Array.from({ length: P.numItems * dim }, () => g.normal());
      const ints = Int32Array.from({ length: P.numItems * dim }, () => g.int(1000));
      for (const table of [f, ints]) {
        const out = permuteRows(table, dim, order);
        assert.equal(out.constructor, table.constructor);
        assert.equal(out.length, table.length);
        for (let r = 0; r < P.numItems; r++) {
          for (let c = 0; c < dim; c++) assert.equal(out[r * dim + c], table[ref.itemAt[r] * dim + c], `row ${r} col ${c} dim ${dim}`);
        }
      }
    }
  });

  for (const split of ['train', 'validation', 'test']) {
    it(`toRankSamples (${split}): user/item ids, labels, groups and most-recent-first history match the reference`, () => {
      const set = P[split];
      for (const H of [undefined, 1, 2, 9]) {
        const s = toRankSamples(set, P, order, H === undefined ? {} : { maxHistory: H });
        const h = H ?? P.options.historyLength;
        assert.equal(s.size, set.size);
        assert.equal(s.maxHistory, h);
        assert.equal(s.history.length, set.size * h);
        for (let i = 0; i < set.size; i++) {
          const u = set.user[i];
          assert.equal(s.user[i], P.userVocab[u] > 0 ? P.userVocab[u] - 1 : P.numTrainUsers, `user of sample ${i}`);
          assert.equal(s.item[i], ref.rankId.get(set.item[i]));
          assert.equal(s.label[i], set.label[i]);
          assert.equal(s.group[i], set.group[i]);
          const g = set.group[i];
          const events = [...set.hist.subarray(set.histOffsets[g], set.histOffsets[g + 1])];
          const recent = events
            .reverse()
            .slice(0, h)
            .map((it) => ref.rankId.get(it));
          assert.equal(s.historyLength[i], recent.length);
          const row = [...s.history.subarray(i * h, (i + 1) * h)];
          assert.deepEqual(row, [...recent, ...new Array(h - recent.length).fill(-1)], `history of sample ${i} (H=${h})`);
        }
      }
    });
  }

  it('some training requests have more history than the slots (truncation is exercised) and some none', () => {
    const lens = [];
    for (let g = 0; g < P.train.numGroups; g++) lens.push(P.train.histOffsets[g + 1] - P.train.histOffsets[g]);
    assert.ok(lens.some((l) => l > 2));
    assert.ok(lens.some((l) => l === 0));
  });

  it('negativeFraction keeps every positive, a seeded subset of the negatives in order, and nothing else', () => {
    const set = P.train;
    const neg = set.size - set.positives;
    const full = toRankSamples(set, P, order);
    for (const frac of [0, 0.3, 0.9]) {
      const a = toRankSamples(set, P, order, { negativeFraction: frac, seed: 4 });
      const b = toRankSamples(set, P, order, { negativeFraction: frac, seed: 4 });
      assert.deepEqual(a, b, 'same seed, same samples');
      // Reference: walk the full samples in order, matching each kept sample to the next equal one.
      let j = 0,
        kept = 0;
      for (let i = 0; i < a.size; i++) {
        while (j < full.size && !(full.user[j] === a.user[i] && full.item[j] === a.item[i] && full.group[j] === a.group[i] && full.label[j] === a.label[i])) {
          assert.notEqual(full.label[j], 1, `positive sample ${j} was dropped at fraction ${frac}`);
          j++;
        }
        assert.ok(j < full.size, 'every kept sample comes from the split, in order');
        assert.deepEqual(
          [...a.history.subarray(i * a.maxHistory, (i + 1) * a.maxHistory)],
          [...full.history.subarray(j * a.maxHistory, (j + 1) * a.maxHistory)],
        );
        if (a.label[i] === 0) kept++;
        j++;
      }
      for (; j < full.size; j++) assert.notEqual(full.label[j], 1, 'no positive dropped at the end');
      assert.equal(a.size - kept, set.positives);
      if (frac === 0) assert.equal(kept, 0);
      else assert.ok(Math.abs(kept / neg - frac) < 0.1, `kept ${kept} of ${neg} negatives at fraction ${frac}`);
    }
    const other = toRankSamples(set, P, order, { negativeFraction: 0.5, seed: 5 });
    const again = toRankSamples(set, P, order, { negativeFraction: 0.5, seed: 4 });
    assert.notDeepEqual([...other.item], [...again.item], 'a different seed keeps different negatives');
    assert.deepEqual(toRankSamples(set, P, order, { negativeFraction: 1, seed: 9 }), full, 'fraction 1 keeps everything');
  });

  it('negativeFraction 0 keeps no negative even when the seeded draw is exactly 0', () => {
    // The generator's uniform() returns multiples of 2^-24, so 0 comes up about once in 16.7M
    // draws: find a seed whose draw for one of this split's negatives is exactly 0 (draws are
    // made for negatives only, in order), then check that fraction 0 still keeps none.
    const set = P.train;
    const neg = set.size - set.positives;
    let seed = -1;
    for (let s = 0; s < 100000 && seed < 0; s++) {
      const g = new q.Generator(s);
      for (let j = 0; j < neg; j++) {
        if (g.uniform() === 0) {
          seed = s;
          break;
        }
      }
    }
    assert.ok(seed >= 0, 'a seed with a zero draw exists in the search range');
    const a = toRankSamples(set, P, order, { negativeFraction: 0, seed });
    assert.equal(a.size, set.positives);
    for (let i = 0; i < a.size; i++) assert.equal(a.label[i], 1);
  });

  it('warmMask marks exactly the samples whose target is a warm item', () => {
    for (const split of ['train', 'validation', 'test']) {
      const s = toRankSamples(P[split], P, order);
      const m = warmMask(s, order);
      assert.equal(m.length, s.size);
      for (let i = 0; i < s.size; i++) assert.equal(m[i], P.warm[P[split].item[i]] ? 1 : 0);
    }
    const test = warmMask(toRankSamples(P.test, P, order), order);
    assert.ok(test.includes(0) && test.includes(1), 'the test split has warm and cold targets');
  });
});
