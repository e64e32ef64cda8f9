/**
 * Capacity-constrained assignment of points to centroids: the assignment step of balanced
 * k-means (the OneRec tokenizer's idea against skewed buckets: no cluster holds more than
 * `cap` points, so no code is shared by a large share of the items).
 *
 * Deterministic and plain JS (the same result for any thread count): two greedy starts —
 * every (point, centroid) pair in order of distance (ties: lower point, then lower centroid),
 * and points in index order each to its nearest centroid with room — are each improved by
 * local search (a point moves to a closer centroid with room, or swaps with a point of a
 * closer full centroid when that lowers the sum of distances), and the lower objective wins
 * (ties: the first). So the result is never worse than the index-order greedy.
 */
import { ValueError } from '../errors.js';

/**
 * @param order int32 [n * k]: each point's centroids, nearest first (as `nearest(x, c, { k })` returns them)
 * @param dist float32 [n * k]: the matching squared distances
 * @param cap the most points a centroid may take (n ≤ k · cap)
 * @returns int32 [n] assignments and their sum of distances
 */
export function balancedAssign(order: Int32Array, dist: Float32Array, n: number, k: number, cap: number): { assign: Int32Array; objective: number } {
  if (!Number.isInteger(cap) || cap < 1 || n > k * cap) throw new ValueError(`argument 'cap' (${cap}) must let ${k} centroids hold ${n} points`, 'cap');
  // Full distance matrix, [n, k] by centroid id (the local search needs d(j, a) for any pair).
  const full = new Float32Array(n * k);
  for (let i = 0; i < n * k; i++) full[Math.floor(i / k) * k + order[i]] = dist[i];
  const a = improve(globalGreedy(order, dist, n, k, cap), order, full, n, k, cap);
  const b = improve(indexGreedy(order, n, k, cap), order, full, n, k, cap);
  const oa = objective(a, full, k),
    ob = objective(b, full, k);
  return ob < oa ? { assign: b, objective: ob } : { assign: a, objective: oa };
}

function objective(assign: Int32Array, full: Float32Array, k: number): number {
  let s = 0;
  for (let i = 0; i < assign.length; i++) s += full[i * k + assign[i]];
  return s;
}

/** Points in index order, each to its nearest centroid with room. @internal */
export function indexGreedy(order: Int32Array, n: number, k: number, cap: number): Int32Array {
  const size = new Int32Array(k);
  const assign = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    while (size[order[i * k + r]] >= cap) r++;
    assign[i] = order[i * k + r];
    size[assign[i]]++;
  }
  return assign;
}

/**
 * Pairs in order of distance: a binary heap holds each unassigned point's nearest centroid
 * with room; a point whose centroid filled up meanwhile moves on to its next one. Exported for
 * the tests that check each start and the local search on their own. @internal
 */
export function globalGreedy(order: Int32Array, dist: Float32Array, n: number, k: number, cap: number): Int32Array {
  const size = new Int32Array(k);
  const rank = new Int32Array(n);
  const assign = new Int32Array(n);
  const heap = new Int32Array(n);
  let len = 0;
  const less = (p: number, q: number): boolean => {
    const dp = dist[p * k + rank[p]],
      dq = dist[q * k + rank[q]];
    if (dp !== dq) return dp < dq;
    if (p !== q) return p < q;
    return false;
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < len && less(heap[l], heap[m])) m = l;
      if (r < len && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
  };
  for (let i = 0; i < n; i++) heap[len++] = i;
  for (let i = (len >> 1) - 1; i >= 0; i--) down(i);
  while (len > 0) {
    const p = heap[0];
    const c = order[p * k + rank[p]];
    if (size[c] < cap) {
      assign[p] = c;
      size[c]++;
      heap[0] = heap[--len];
    } else {
      rank[p]++; // its key grows: sift down
    }
    down(0);
  }
  return assign;
}

/** Candidate centroids a point tries in the local search (its nearest ones). */
const TRY = 8;
/** Local-search passes over the points (each stops early when nothing improves). */
const PASSES = 4;

/** Moves and pairwise swaps that lower the sum of distances, in a fixed order; changes `assign` in place. @internal */
export function improve(assign: Int32Array, order: Int32Array, full: Float32Array, n: number, k: number, cap: number): Int32Array {
  // Members of each centroid, with each point's slot, so moves and swaps are O(1).
  const members: number[][] = Array.from({ length: k }, () => []);
  const slot = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    slot[i] = members[assign[i]].length;
    members[assign[i]].push(i);
  }
  const remove = (i: number): void => {
    const list = members[assign[i]];
    const last = list.pop()!;
    if (last !== i) {
      list[slot[i]] = last;
      slot[last] = slot[i];
    }
  };
  const put = (i: number, c: number): void => {
    assign[i] = c;
    slot[i] = members[c].length;
    members[c].push(i);
  };
  for (let pass = 0; pass < PASSES; pass++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      const a = assign[i];
      const da = full[i * k + a];
      for (let r = 0; r < Math.min(TRY, k); r++) {
        const b = order[i * k + r];
        if (b === a) break; // only centroids closer than the current one
        const gainI = da - full[i * k + b];
        if (!(gainI > 0)) continue;
        if (members[b].length < cap) {
          remove(i);
          put(i, b);
          changed = true;
          break;
        }
        // The member of b whose swap with i lowers the objective most (ties: the first found).
        let best = -1,
          bestGain = 0;
        for (const j of members[b]) {
          const g = gainI + full[j * k + b] - full[j * k + a];
          if (g > bestGain) {
            bestGain = g;
            best = j;
          }
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
