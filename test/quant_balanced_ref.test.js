// balancedAssign against a reference written from its documented algorithm, not from its code:
// the distance-ordered greedy as a sort of every (distance, point, rank) pair (the code uses a
// heap), the index-order greedy, the local search (a point moves to a closer centroid with room,
// or swaps with the member of a closer full centroid that lowers the sum most; at most 4 passes
// over the first 8 candidates), and the lower objective (ties: the distance-ordered start).
// Written for the survivors of the quant-kmeans mutation run (bench/results/mutation.md).
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { randArray } from './helpers.js';
import { throwsArg } from './support/throws_arg.js';
import { balancedAssign } from '../dist/quant/balanced.js';
import { globalGreedy, indexGreedy as codeIndexGreedy, improve } from '../dist/tensor/balanced_assign.js';

/** Each point's centroids nearest first (ties: lower centroid), their float32 distances, and the [n, k] matrix. */
function problem(n, k, seed, ties) {
  const x = randArray(n * 2, seed);
  const c = randArray(k * 2, seed + 1);
  if (ties && n > 3) x.set(x.subarray(0, 2), 2); // a duplicate point
  if (ties && k > 2) c.set(c.subarray(0, 2), 2); // a duplicate centroid
  const full = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) full[i * k + j] = (x[2 * i] - c[2 * j]) ** 2 + (x[2 * i + 1] - c[2 * j + 1]) ** 2;
  const order = new Int32Array(n * k);
  const dist = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const ids = Array.from({ length: k }, (_, j) => j).sort((a, b) => full[i * k + a] - full[i * k + b] || a - b);
    ids.forEach((j, r) => {
      order[i * k + r] = j;
      dist[i * k + r] = full[i * k + j];
    });
  }
  return { full, order, dist };
}

function pairsGreedy(order, dist, n, k, cap) {
  const pairs = [];
  for (let i = 0; i < n; i++) for (let r = 0; r < k; r++) pairs.push([dist[i * k + r], i, r]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const assign = new Int32Array(n).fill(-1);
  const size = new Int32Array(k);
  for (const [, i, r] of pairs) {
    const c = order[i * k + r];
    if (assign[i] < 0 && size[c] < cap) {
      assign[i] = c;
      size[c]++;
    }
  }
  return assign;
}

function indexGreedy(order, n, k, cap) {
  const assign = new Int32Array(n);
  const size = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let r = 0;
    while (size[order[i * k + r]] >= cap) r++;
    assign[i] = order[i * k + r];
    size[assign[i]]++;
  }
  return assign;
}

function localSearch(start, order, full, n, k, cap) {
  const assign = Int32Array.from(start);
  // Members in the order the documented O(1) bookkeeping keeps them: a removed point's slot
  // takes the last member.
  const members = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) members[assign[i]].push(i);
  const remove = (i) => {
    const list = members[assign[i]];
    const at = list.indexOf(i);
    const last = list.pop();
    if (last !== i) list[at] = last;
  };
  const put = (i, c) => {
    assign[i] = c;
    members[c].push(i);
  };
  for (let pass = 0; pass < 4; pass++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const a = assign[i];
      for (let r = 0; r < Math.min(8, k); r++) {
        const b = order[i * k + r];
        if (b === a) break;
        const gain = full[i * k + a] - full[i * k + b];
        if (!(gain > 0)) continue;
        if (members[b].length < cap) {
          remove(i);
          put(i, b);
          changed = true;
          break;
        }
        let best = -1;
        let bestGain = 0;
        for (const j of members[b]) {
          const g = gain + full[j * k + b] - full[j * k + a];
          if (g > bestGain) [best, bestGain] = [j, g];
        }
        if (best >= 0) {
          remove(i);
          remove(best);
          put(i, b);
          put(best, a);
          changed = true;
          break;
        }
      }
    }
    if (!changed) break;
  }
  return assign;
}

const objective = (assign, full, k) => assign.reduce((s, c, i) => s + full[i * k + c], 0);

describe('balancedAssign against the documented algorithm', () => {
  it('the same assignment and objective (awkward sizes, ties, tight and loose capacities)', () => {
    let cases = 0;
    let startsDiffer = 0;
    for (const [n, k] of [
      [1, 1],
      [2, 1],
      [3, 2],
      [7, 3],
      [17, 5],
      [17, 17],
      [64, 9],
      [200, 12],
      [301, 7],
    ]) {
      for (const slack of [0, 1, 3]) {
        for (const ties of [false, true]) {
          const cap = Math.ceil(n / k) + slack;
          const { full, order, dist } = problem(n, k, 7 * n + k + slack, ties);
          const a = localSearch(pairsGreedy(order, dist, n, k, cap), order, full, n, k, cap);
          const b = localSearch(indexGreedy(order, n, k, cap), order, full, n, k, cap);
          const [oa, ob] = [objective(a, full, k), objective(b, full, k)];
          const want = ob < oa ? b : a;
          if (ob !== oa) startsDiffer++;
          const got = balancedAssign(order, dist, n, k, cap);
          assert.deepEqual(Array.from(got.assign), Array.from(want), `n ${n} k ${k} cap ${cap} ties ${ties}`);
          assert.equal(got.objective, Math.min(oa, ob));
          cases++;
        }
      }
    }
    assert.equal(cases, 54);
    // Both starts matter: on some cases each greedy's local optimum differs.
    assert.ok(startsDiffer >= 3, `the two starts differ on ${startsDiffer} cases`);
  });

  // The whole assignment above can hide a wrong start or a lame local search (the other start or
  // an already optimal greedy covers for it), so each part is also checked on its own.
  it('each start equals its reference, the distance-ordered one on exact ties too (lower point first)', () => {
    for (const [n, k] of [
      [1, 1],
      [3, 2],
      [17, 5],
      [64, 9],
      [200, 12],
      [301, 7],
    ]) {
      for (const ties of [false, true]) {
        const cap = Math.ceil(n / k);
        const { order, dist } = problem(n, k, 3 * n + k, ties);
        assert.deepEqual(Array.from(globalGreedy(order, dist, n, k, cap)), Array.from(pairsGreedy(order, dist, n, k, cap)), `n ${n} k ${k} ties ${ties}`);
        assert.deepEqual(Array.from(codeIndexGreedy(order, n, k, cap)), Array.from(indexGreedy(order, n, k, cap)), `n ${n} k ${k} ties ${ties}`);
      }
    }
    // Four identical points, two centroids of one place each: every pair ties, so the
    // documented order (lower point, then lower centroid) alone decides.
    const order = Int32Array.of(0, 1, 0, 1, 0, 1, 0, 1);
    const dist = Float32Array.of(1, 4, 1, 4, 1, 4, 1, 4);
    assert.deepEqual(Array.from(globalGreedy(order, dist, 4, 2, 2)), [0, 0, 1, 1]);
  });

  it('the local search from a scattered start equals its reference (moves, swaps, k above 8 candidates, tied centroids)', () => {
    let moved = 0;
    for (const [n, k, slack] of [
      [2, 2, 0],
      [17, 5, 0],
      [40, 9, 1],
      [60, 12, 0],
      [90, 20, 0],
      [120, 17, 2],
    ]) {
      for (const ties of [false, true]) {
        const cap = Math.ceil(n / k) + slack;
        const { full, order } = problem(n, k, 5 * n + k, ties);
        // A feasible start far from any greedy one: points shuffled, then dealt to the
        // centroids in turn.
        const g = new q.Generator(n + k);
        const ids = Array.from({ length: n }, (_, i) => i);
        g.shuffle(ids);
        const start = new Int32Array(n);
        ids.forEach((i, r) => (start[i] = r % k));
        const want = localSearch(start, order, full, n, k, cap);
        const got = improve(Int32Array.from(start), order, full, n, k, cap);
        assert.deepEqual(Array.from(got), Array.from(want), `n ${n} k ${k} cap ${cap} ties ${ties}`);
        if (want.some((c, i) => c !== start[i])) moved++;
      }
    }
    assert.ok(moved >= 10, `the search changed ${moved} starts`);
  });

  it('a point tries only its 8 nearest centroids: a free 9th one is not taken', () => {
    // k = 10, cap 1. Points 0..7 sit on centroids 0..7 (distance 0, 100 to any other), so no swap
    // with them pays; point 8 sits on centroid 9 (distance 10) with centroids 0..7 at 1..8 and
    // the free centroid 8 at 9, its 9th nearest.
    const [n, k] = [9, 10];
    const full = new Float32Array(n * k).fill(100);
    for (let i = 0; i < 8; i++) full[i * k + i] = 0;
    for (let j = 0; j < k; j++) full[8 * k + j] = j + 1;
    const order = new Int32Array(n * k);
    for (let i = 0; i < n; i++) {
      const ids = Array.from({ length: k }, (_, j) => j).sort((a, b) => full[i * k + a] - full[i * k + b] || a - b);
      order.set(ids, i * k);
    }
    const start = Int32Array.from({ length: n }, (_, i) => (i < 8 ? i : 9));
    assert.deepEqual(Array.from(localSearch(start, order, full, n, k, 1)), Array.from(start));
    assert.deepEqual(Array.from(improve(Int32Array.from(start), order, full, n, k, 1)), Array.from(start));
  });

  it("cap: an integer of at least 1 with n <= k · cap, else a ValueError naming 'cap'", () => {
    const { order, dist } = problem(6, 2, 1, false);
    for (const [n, cap] of [
      [6, 2],
      [6, 0],
      [6, -1],
      [6, 3.5],
      [6, NaN],
      [0, 0],
    ]) {
      throwsArg(
        () => balancedAssign(order, dist, n, 2, cap),
        q.ValueError,
        'cap',
        new RegExp(`^argument 'cap' \\(${cap}\\) must let 2 centroids hold ${n} points$`),
      );
    }
    // At the limit: n = k · cap fills every centroid.
    const r = balancedAssign(order, dist, 6, 2, 3);
    assert.deepEqual(
      [0, 1].map((c) => r.assign.filter((a) => a === c).length),
      [3, 3],
    );
    assert.deepEqual(Array.from(balancedAssign(new Int32Array(0), new Float32Array(0), 0, 2, 1).assign), []);
  });
});
