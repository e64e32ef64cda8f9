/**
 * The miners behind pairs.ts, on {@link ScoreMatrix} instead of `Map` rows, and over events
 * already grouped by user (so {@link minePairs} groups and checks them once for all miners).
 * Internal: pairs.ts documents the scores and wraps these for the public API.
 */
import { ValueError } from '../errors.js';
import type { Interaction } from '../data/dataset.js';
import type { CooccurrenceOptions, ItemPairs, ScoreTable, SelectPairsOptions, SwingOptions, User2ItemOptions } from './pairs.js';
import { PairAccumulator, ScoreMatrix } from './score_matrix.js';
import { PAIR_MINING_DEFAULTS as D } from './defaults.js';

/**
 * Events checked (items in [0, nItems)) and grouped by user, ascending user id, each group
 * sorted by (time, item): the miners' input.
 */
export function groupByUser(events: readonly Interaction[], nItems: number): Interaction[][] {
  if (!Number.isInteger(nItems) || nItems < 1) throw new ValueError("argument 'nItems' must be a positive integer", 'nItems');
  const m = new Map<number, Interaction[]>();
  for (const e of events) {
    if (!(e.item >= 0 && e.item < nItems) || !Number.isInteger(e.item)) {
      throw new ValueError(`argument 'events': item ${e.item} outside [0, ${nItems})`, 'events');
    }
    let l = m.get(e.user);
    if (!l) m.set(e.user, (l = []));
    l.push(e);
  }
  const users = [...m.keys()].sort((a, b) => a - b);
  return users.map((u) => m.get(u)!.sort((a, b) => a.time - b.time || a.item - b.item));
}

/** Co-occurrence counts (see `cooccurrence` in pairs.ts). `sparse` forces the CSR backend. */
export function cooccurrenceScores(users: Interaction[][], nItems: number, opts: CooccurrenceOptions = {}, sparse = false): ScoreMatrix {
  const sameBasket = opts.sameBasket ?? D.cooccurrence.sameBasket;
  const window = opts.window ?? D.cooccurrence.window;
  const perUser = (opts.count ?? D.cooccurrence.count) === 'users';
  const maxBasket = opts.maxBasket ?? D.cooccurrence.maxBasket;
  if (!(window >= 0)) throw new ValueError("argument 'window' must be >= 0 seconds", 'window');
  const acc = new PairAccumulator(nItems, sparse);
  const d = acc.dense;
  // Counts are sums of 1s (exact in float64), so only which cells get hit matters, not the order.
  // 'users' mode: a cell counts once per user; the dense backend marks cells with the user's
  // stamp (1..255, cleared on wrap-around) instead of hashing pair keys into a per-user Set.
  const stamp = perUser && d ? new Uint8Array(nItems * nItems) : null;
  let user = 0;
  let seen: Set<number> | null = null;
  const hit = (i: number, j: number): void => {
    if (i === j) return;
    const key = i < j ? i * nItems + j : j * nItems + i;
    if (stamp) {
      if (stamp[key] === user) return;
      stamp[key] = user;
    } else if (seen) {
      if (seen.has(key)) return;
      seen.add(key);
    }
    if (d) d[key] += 1;
    else acc.add(i, j, 1);
  };
  for (const evs of users) {
    if (++user === 256) {
      stamp?.fill(0);
      user = 1;
    }
    seen = perUser && !stamp ? new Set<number>() : null;
    if (sameBasket) {
      const baskets = new Map<number, number[]>();
      for (const e of evs) {
        if (e.basket < 0) continue;
        let l = baskets.get(e.basket);
        if (!l) baskets.set(e.basket, (l = []));
        l.push(e.item);
      }
      for (const items of baskets.values()) {
        const u = [...new Set(items)];
        if (u.length > maxBasket) continue;
        for (let x = 0; x < u.length; x++) for (let y = x + 1; y < u.length; y++) hit(u[x], u[y]);
      }
    }
    if (window > 0) {
      for (let x = 0; x < evs.length; x++) {
        for (let y = x + 1; y < evs.length && evs[y].time - evs[x].time <= window; y++) {
          // Same-basket pairs were counted above; in 'events' mode do not count them twice.
          if (sameBasket && evs[x].basket >= 0 && evs[x].basket === evs[y].basket) continue;
          hit(evs[x].item, evs[y].item);
        }
      }
    }
  }
  return acc.finish();
}

/** Users with more distinct items than this add straight into the big matrix (block ≤ 2 MiB). */
const LOCAL_MAX = 512;

function maxItemsOf(userItems: Int32Array[]): number {
  let m = 0;
  for (const s of userItems) m = Math.max(m, s.length);
  return m;
}

/** Swing scores (see `swing` in pairs.ts). `sparse` forces the CSR backend. */
export function swingScores(users: Interaction[][], nItems: number, opts: SwingOptions = {}, sparse = false): ScoreMatrix {
  const alpha = opts.alpha ?? D.swing.alpha;
  const userAlpha = opts.userAlpha ?? D.swing.userAlpha;
  const useWeight = opts.userWeight ?? D.swing.userWeight;
  const maxItems = opts.maxItemsPerUser ?? D.swing.maxItemsPerUser;
  if (!(alpha > 0)) throw new ValueError("argument 'alpha' must be > 0", 'alpha');
  // Distinct items per user (most recent maxItems), sorted ascending so intersections are too.
  const userItems: Int32Array[] = [];
  for (const evs of users) {
    const last = new Map<number, number>();
    evs.forEach((e, k) => last.set(e.item, k));
    const recent = [...last.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, maxItems)
      .map(([i]) => i);
    userItems.push(Int32Array.from(recent).sort());
  }
  const nu = userItems.length;
  const w = Float64Array.from(userItems, (s) => (useWeight ? 1 / Math.sqrt(s.length + userAlpha) : 1));
  // Users of each item, ascending (CSR). Users are visited in ascending order, so when user u
  // comes to item i, next[i] is u's own position in i's list and the later users follow it.
  const ptr = new Int32Array(nItems + 1);
  for (const s of userItems) for (const i of s) ptr[i + 1]++;
  for (let i = 0; i < nItems; i++) ptr[i + 1] += ptr[i];
  const itemUsers = new Int32Array(ptr[nItems]);
  const next = ptr.slice(0, nItems);
  userItems.forEach((s, u) => s.forEach((i) => (itemUsers[next[i]++] = u)));
  next.set(ptr.subarray(0, nItems));
  const acc = new PairAccumulator(nItems, sparse);
  const d = acc.dense;
  const overlap = new Int32Array(nu);
  const start = new Int32Array(nu);
  const touched = new Int32Array(nu);
  let common = new Int32Array(1024);
  const block = new Float64Array(Math.min(LOCAL_MAX, maxItemsOf(userItems)) ** 2);
  // Float sums: every cell must receive its terms in the same order as always, i.e. user pairs
  // (u, v) by ascending u, then v in first-touch order. Within one (u, v) a cell gets one term.
  for (let u = 0; u < nu; u++) {
    const a = userItems[u];
    // Pass 1: |I_u ∩ I_v| for every later user v sharing an item, in first-touch order.
    let nt = 0;
    let total = 0;
    for (let x = 0; x < a.length; x++) {
      const i = a[x];
      const from = ++next[i]; // skip u itself
      const to = ptr[i + 1];
      total += to - from;
      for (let k = from; k < to; k++) {
        const v = itemUsers[k];
        if (overlap[v]++ === 0) touched[nt++] = v;
      }
    }
    // Pass 2: the intersections themselves, as positions x in I_u (ascending, as I_u is
    // visited ascending), each v's in its own slice of `common`; v sharing one item gives no pair.
    if (common.length < total) common = new Int32Array(Math.max(total, 2 * common.length));
    let off = 0;
    let terms = 0;
    for (let t = 0; t < nt; t++) {
      const v = touched[t];
      const nc = overlap[v];
      start[v] = off;
      if (nc >= 2) {
        off += nc;
        terms += (nc * (nc - 1)) / 2;
      }
    }
    for (let x = 0; x < a.length; x++) {
      const i = a[x];
      for (let k = next[i], to = ptr[i + 1]; k < to; k++) {
        const v = itemUsers[k];
        if (overlap[v] >= 2) common[start[v]++] = x;
      }
    }
    // All of u's terms land in I_u × I_u. When they outnumber its cells, they are added in a
    // small local copy of that block (gathered from, then written back to, the big matrix):
    // the same additions in the same order per cell, without a cache miss per term.
    const ka = a.length;
    const local = d && ka <= LOCAL_MAX && terms >= (ka * (ka - 1)) / 2 ? block : null;
    if (local) {
      for (let x = 0; x < ka; x++) {
        const base = a[x] * nItems;
        for (let y = x + 1; y < ka; y++) local[x * ka + y] = d![base + a[y]];
      }
    }
    for (let t = 0; t < nt; t++) {
      const v = touched[t];
      const nc = overlap[v];
      overlap[v] = 0;
      if (nc < 2) continue;
      const c0 = start[v] - nc;
      const c1 = start[v];
      const s = (w[u] * w[v]) / (alpha + nc);
      if (local) {
        for (let x = c0; x < c1; x++) {
          const base = common[x] * ka;
          for (let y = x + 1; y < c1; y++) local[base + common[y]] += s;
        }
      } else if (d) {
        for (let x = c0; x < c1; x++) {
          const base = a[common[x]] * nItems;
          for (let y = x + 1; y < c1; y++) d[base + a[common[y]]] += s;
        }
      } else {
        for (let x = c0; x < c1; x++) for (let y = x + 1; y < c1; y++) acc.add(a[common[x]], a[common[y]], s);
      }
    }
    if (local) {
      for (let x = 0; x < ka; x++) {
        const base = a[x] * nItems;
        for (let y = x + 1; y < ka; y++) d![base + a[y]] = local[x * ka + y];
      }
    }
  }
  return acc.finish();
}

/** `c(i,j) / sqrt(n_i n_j)` where the denominator is > 0 (see `cosineNormalize` in pairs.ts). */
export function cosineScores(m: ScoreMatrix, itemCounts: ArrayLike<number>): ScoreMatrix {
  return m.map((i, j, c) => {
    const d = Math.sqrt(itemCounts[i] * itemCounts[j]);
    return d > 0 ? c / d : 0;
  });
}

/** User2Item trigger counts (see `user2item` in pairs.ts), always CSR. */
export function user2itemScores(users: Interaction[][], nItems: number, similarity: ScoreMatrix, opts: User2ItemOptions = {}): ScoreMatrix {
  const L = opts.historyLength ?? D.user2item.historyLength;
  // At most one pair per event: sparse (a Map, then CSR) is smaller and faster than n² cells.
  // The counts are sums of 1s, exact in any backend.
  const acc = new PairAccumulator(nItems, true);
  for (const evs of users) {
    // history: distinct items, most recent last; updated only after a whole timestamp is done.
    const history: number[] = [];
    let k = 0;
    while (k < evs.length) {
      let end = k;
      while (end < evs.length && evs[end].time === evs[k].time) end++;
      const cand = history.slice(-L);
      for (let x = k; x < end; x++) {
        const t = evs[x].item;
        let best = -1;
        let bestS = 0;
        for (let c = cand.length - 1; c >= 0; c--) {
          const s = cand[c] === t ? 0 : similarity.get(t, cand[c]);
          if (s > bestS) {
            bestS = s;
            best = cand[c];
          }
        }
        if (best >= 0) acc.add(best, t, 1);
      }
      for (let x = k; x < end; x++) {
        const i = evs[x].item;
        const pos = history.lastIndexOf(i);
        if (pos >= 0) history.splice(pos, 1);
        history.push(i);
      }
      if (history.length > 4 * L) history.splice(0, history.length - L);
      k = end;
    }
  }
  return acc.finish();
}

/**
 * Per-row bounded heaps keeping each row's best `topN` entries above `minScore` (score
 * descending, then column ascending), offered in any order: a row costs O(entries · log topN)
 * rather than a sort of the whole row. Row i's heap lives in `[i·size, i·size + len[i])`; its
 * root is the worst entry kept.
 */
class RowHeaps {
  private readonly size: number;
  private readonly hc: Int32Array;
  private readonly hv: Float64Array;
  private readonly len: Int32Array;

  constructor(
    readonly n: number,
    readonly topN: number,
    readonly minScore: number,
  ) {
    this.size = Math.max(1, Math.min(topN, n));
    this.hc = new Int32Array(n * this.size);
    this.hv = new Float64Array(n * this.size);
    this.len = new Int32Array(n);
  }

  offer(i: number, j: number, s: number): void {
    if (!(s > this.minScore)) return;
    const { hc, hv } = this;
    const base = i * this.size;
    const m = this.len[i];
    if (m < this.size) {
      let p = m; // sift up
      while (p > 0) {
        const q = (p - 1) >> 1;
        if (!worse(s, j, hv[base + q], hc[base + q])) break;
        hc[base + p] = hc[base + q];
        hv[base + p] = hv[base + q];
        p = q;
      }
      hc[base + p] = j;
      hv[base + p] = s;
      this.len[i] = m + 1;
      return;
    }
    if (!worse(hv[base], hc[base], s, j)) return;
    let p = 0; // replace the root, sift down
    for (;;) {
      const l = 2 * p + 1;
      if (l >= m) break;
      let c = l;
      if (l + 1 < m && worse(hv[base + l + 1], hc[base + l + 1], hv[base + l], hc[base + l])) c = l + 1;
      if (!worse(hv[base + c], hc[base + c], s, j)) break;
      hc[base + p] = hc[base + c];
      hv[base + p] = hv[base + c];
      p = c;
    }
    hc[base + p] = j;
    hv[base + p] = s;
  }

  /** Row i's kept entries as (column, score), best first. */
  row(i: number): [number, number][] {
    const base = i * this.size;
    const out: [number, number][] = [];
    for (let k = 0; k < this.len[i]; k++) out.push([this.hc[base + k], this.hv[base + k]]);
    return out.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  }
}

/** Entry (sa, ja) ranks below (sb, jb): lower score, or the same score and a higher column. */
function worse(sa: number, ja: number, sb: number, jb: number): boolean {
  return sa < sb || (sa === sb && ja > jb);
}

/**
 * `selectPairs` over any entry source: `feed(heaps)` offers every (row, column, score) entry to
 * {@link RowHeaps}, in any order. Rows' picks become candidates keyed `min·n + max`, rows in
 * ascending order (a later row's score replaces an earlier one's, which matters only for
 * asymmetric tables); candidates are then kept by descending score (ties: key) while both items
 * are under the cap.
 */
function selectTop(n: number, feed: (heaps: RowHeaps) => void, opts: SelectPairsOptions): ItemPairs {
  const topN = opts.topN ?? D.topN;
  const cap = opts.cap ?? D.cap;
  if (!Number.isInteger(topN) || topN < 1) throw new ValueError("argument 'topN' must be a positive integer", 'topN');
  if (!Number.isInteger(cap) || cap < 1) throw new ValueError("argument 'cap' must be a positive integer", 'cap');
  const heaps = new RowHeaps(n, topN, opts.minScore ?? D.minScore);
  feed(heaps);
  const cand = new Map<number, number>();
  for (let i = 0; i < n; i++) for (const [j, s] of heaps.row(i)) cand.set(i < j ? i * n + j : j * n + i, s);
  const keys = Float64Array.from(cand.keys());
  const scores = Float64Array.from(cand.values());
  const order = Uint32Array.from(keys, (_, k) => k).sort((x, y) => scores[y] - scores[x] || keys[x] - keys[y]);
  const used = new Int32Array(n);
  const a: number[] = [];
  const b: number[] = [];
  const sc: number[] = [];
  for (const k of order) {
    const i = Math.floor(keys[k] / n);
    const j = keys[k] - i * n;
    if (used[i] >= cap || used[j] >= cap) continue;
    used[i]++;
    used[j]++;
    a.push(i);
    b.push(j);
    sc.push(scores[k]);
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), score: Float32Array.from(sc) };
}

/** `selectPairs` on a {@link ScoreMatrix} (an upper-triangle matrix offers each entry to both rows). */
export function selectFromMatrix(m: ScoreMatrix, opts: SelectPairsOptions = {}): ItemPairs {
  return selectTop(m.n, (heaps) => m.forEach((i, j, v) => heaps.offer(i, j, v)), opts);
}

/** `selectPairs` on a public table (entries as stored, zeros included). */
export function selectFromTable(table: ScoreTable, opts: SelectPairsOptions = {}): ItemPairs {
  return selectTop(
    table.length,
    (heaps) =>
      table.forEach((m, i) => {
        for (const [j, s] of m) heaps.offer(i, j, s);
      }),
    opts,
  );
}
