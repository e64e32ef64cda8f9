// balancedAssign against a reference written from its documented algorithm, not from its code:
// the distance-ordered greedy as a sort of every (distance, point, rank) pair (the code uses a
// heap), the index-order greedy, the local search (a point moves to a closer centroid with room,
// or swaps with the member of a closer full centroid that lowers the sum most; at most 4 passes
// over the first 8 candidates), and the lower objective (ties: the distance-ordered start).
// Written for the survivors of the quant-kmeans mutation run (bench/results/mutation.md).
import assert from 'node:assert/strict';
import { randArray } from './helpers.js';
import { balancedAssign } from '../dist/quant/balanced.js';

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
});
