/**
 * Item–item pair mining from behaviour, QARM's source of alignment targets:
 * - Item2Item by co-occurrence (same basket, or same user within a time window),
 * - Item2Item by Swing (Yang et al. 2020, "Large Scale Product Graph Construction for
 *   Recommendation in E-commerce"),
 * - User2Item triggers (QARM): for each positive target, the most behaviour-similar item
 *   among the user's last 50 earlier positives.
 *
 * Miners read only the interactions they are given: pass training-period events (see
 * {@link eventsBetween}) so no pair comes from the future. Each miner returns a symmetric
 * {@link ScoreTable}; {@link selectPairs} turns one into deduplicated pairs (top-N per item,
 * capped per item so hot items do not dominate).
 */
import { ValueError } from '../errors.js';
import type { Interaction } from '../data/dataset.js';

/** Symmetric item–item scores: `table[i].get(j) === table[j].get(i)`, no self entries. */
export type ScoreTable = Map<number, number>[];

/**
 * Deduplicated unordered item pairs (a < b). From {@link selectPairs}: sorted by score descending
 * (ties: a, then b); from {@link unionPairs}: each set's pairs in order, first set first.
 */
export interface ItemPairs {
  a: Int32Array;
  b: Int32Array;
  score: Float32Array;
}

/** Events with `from <= time < until` (either bound optional), in their given order. */
export function eventsBetween(events: readonly Interaction[], from = -Infinity, until = Infinity): Interaction[] {
  return events.filter((e) => e.time >= from && e.time < until);
}

/**
 * Accumulates symmetric pair scores: a dense float64 triangle when nItems² is small enough
 * (fast increments), else a Map.
 */
class PairAccumulator {
  private dense: Float64Array | null;
  private sparse = new Map<number, number>();
  constructor(readonly n: number) {
    this.dense = n * n <= 1 << 24 ? new Float64Array(n * n) : null;
  }
  add(i: number, j: number, w: number): void {
    const key = i < j ? i * this.n + j : j * this.n + i;
    if (this.dense) this.dense[key] += w;
    else this.sparse.set(key, (this.sparse.get(key) ?? 0) + w);
  }
  table(): ScoreTable {
    const t: ScoreTable = Array.from({ length: this.n }, () => new Map<number, number>());
    const put = (key: number, v: number): void => {
      if (v === 0) return;
      const i = Math.floor(key / this.n);
      const j = key - i * this.n;
      t[i].set(j, v);
      t[j].set(i, v);
    };
    if (this.dense) {
      for (let k = 0; k < this.dense.length; k++) if (this.dense[k] !== 0) put(k, this.dense[k]);
    } else {
      for (const k of [...this.sparse.keys()].sort((x, y) => x - y)) put(k, this.sparse.get(k)!);
    }
    return t;
  }
}

function checkItems(events: readonly Interaction[], nItems: number): void {
  if (!Number.isInteger(nItems) || nItems < 1) throw new ValueError("argument 'nItems' must be a positive integer", 'nItems');
  for (const e of events) {
    if (!(e.item >= 0 && e.item < nItems) || !Number.isInteger(e.item)) {
      throw new ValueError(`argument 'events': item ${e.item} outside [0, ${nItems})`, 'events');
    }
  }
}

/** Events grouped by user, each group sorted by (time, item). */
function byUser(events: readonly Interaction[]): Interaction[][] {
  const m = new Map<number, Interaction[]>();
  for (const e of events) {
    let l = m.get(e.user);
    if (!l) m.set(e.user, (l = []));
    l.push(e);
  }
  const users = [...m.keys()].sort((a, b) => a - b);
  return users.map((u) => m.get(u)!.sort((a, b) => a.time - b.time || a.item - b.item));
}

/** Options of {@link cooccurrence}. */
export interface CooccurrenceOptions {
  /** Pair items of the same basket (default true). */
  sameBasket?: boolean;
  /** Also pair a user's items within this many seconds of each other (default 0 = off). */
  window?: number;
  /**
   * `'users'` (default): score = number of distinct users with at least one co-occurrence of
   * the two items (one bulk buyer counts once); `'events'`: number of co-occurring event pairs.
   */
  count?: 'users' | 'events';
  /** Baskets larger than this are skipped (default 500): a huge order says little about any pair. */
  maxBasket?: number;
}

/**
 * Co-occurrence counts. Two different items co-occur when one user has them in the same
 * basket (basket ≥ 0) or, with `window > 0`, at times at most `window` seconds apart.
 */
export function cooccurrence(events: readonly Interaction[], nItems: number, opts: CooccurrenceOptions = {}): ScoreTable {
  checkItems(events, nItems);
  const sameBasket = opts.sameBasket ?? true;
  const window = opts.window ?? 0;
  const perUser = (opts.count ?? 'users') === 'users';
  const maxBasket = opts.maxBasket ?? 500;
  if (!(window >= 0)) throw new ValueError("argument 'window' must be >= 0 seconds", 'window');
  const acc = new PairAccumulator(nItems);
  for (const evs of byUser(events)) {
    const seen = perUser ? new Set<number>() : null;
    const hit = (i: number, j: number): void => {
      if (i === j) return;
      if (seen) {
        const key = i < j ? i * nItems + j : j * nItems + i;
        if (seen.has(key)) return;
        seen.add(key);
      }
      acc.add(i, j, 1);
    };
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
  return acc.table();
}

/** Options of {@link swing}. */
export interface SwingOptions {
  /** α of the Swing score 1 / (α + |I_u ∩ I_v|) (default 1). */
  alpha?: number;
  /**
   * User weight w_u = (|I_u| + α₁)^(-1/2) from the Swing paper's user weighting (default true,
   * α₁ = `userAlpha`); false means w_u = 1.
   */
  userWeight?: boolean;
  /** α₁ of the user weight (default 5). */
  userAlpha?: number;
  /** Only a user's most recent `maxItemsPerUser` distinct items are used (default 300). */
  maxItemsPerUser?: number;
}

/**
 * Swing scores: for items i ≠ j,
 * `s(i, j) = Σ_{u<v, both bought i and j} w_u · w_v / (α + |I_u ∩ I_v|)`
 * where I_u is the set of distinct items of user u. A pair of users who share little besides
 * i and j is strong evidence that i and j are related; users who share everything are not.
 */
export function swing(events: readonly Interaction[], nItems: number, opts: SwingOptions = {}): ScoreTable {
  checkItems(events, nItems);
  const alpha = opts.alpha ?? 1;
  const userAlpha = opts.userAlpha ?? 5;
  const useWeight = opts.userWeight ?? true;
  const maxItems = opts.maxItemsPerUser ?? 300;
  if (!(alpha > 0)) throw new ValueError("argument 'alpha' must be > 0", 'alpha');
  // Distinct items per user (most recent maxItems), sorted ascending for merge intersections.
  const userItems: Int32Array[] = [];
  for (const evs of byUser(events)) {
    const last = new Map<number, number>();
    evs.forEach((e, k) => last.set(e.item, k));
    const recent = [...last.entries()].sort((a, b) => b[1] - a[1]).slice(0, maxItems).map(([i]) => i);
    userItems.push(Int32Array.from(recent).sort());
  }
  const nu = userItems.length;
  const w = Float64Array.from(userItems, (s) => (useWeight ? 1 / Math.sqrt(s.length + userAlpha) : 1));
  const itemUsers: number[][] = Array.from({ length: nItems }, () => []);
  userItems.forEach((s, u) => s.forEach((i) => itemUsers[i].push(u)));
  const acc = new PairAccumulator(nItems);
  const overlap = new Int32Array(nu);
  const common: number[] = [];
  for (let u = 0; u < nu; u++) {
    const touched: number[] = [];
    for (const i of userItems[u]) {
      for (const v of itemUsers[i]) {
        if (v <= u) continue;
        if (overlap[v]++ === 0) touched.push(v);
      }
    }
    for (const v of touched) {
      const n = overlap[v];
      overlap[v] = 0;
      if (n < 2) continue;
      // Sorted-merge intersection of I_u and I_v.
      common.length = 0;
      const a = userItems[u];
      const b = userItems[v];
      for (let x = 0, y = 0; x < a.length && y < b.length; ) {
        if (a[x] === b[y]) {
          common.push(a[x]);
          x++;
          y++;
        } else if (a[x] < b[y]) x++;
        else y++;
      }
      const s = (w[u] * w[v]) / (alpha + n);
      for (let x = 0; x < common.length; x++) for (let y = x + 1; y < common.length; y++) acc.add(common[x], common[y], s);
    }
  }
  return acc.table();
}

/**
 * Cosine normalisation of co-occurrence counts: `c(i,j) / sqrt(n_i n_j)` where n_i is the
 * number of users (or, with `counts`, any per-item total) behind item i. With user-distinct
 * co-occurrence this is the cosine of the items' user-incidence vectors restricted to
 * co-occurring purchases: the behaviour-only similarity.
 */
export function cosineNormalize(table: ScoreTable, itemCounts: ArrayLike<number>): ScoreTable {
  return table.map((m, i) => {
    const out = new Map<number, number>();
    for (const [j, c] of m) {
      const d = Math.sqrt(itemCounts[i] * itemCounts[j]);
      if (d > 0) out.set(j, c / d);
    }
    return out;
  });
}

/** Number of distinct users per item in `events`. */
export function itemUserCounts(events: readonly Interaction[], nItems: number): Float64Array {
  const seen = new Set<number>();
  const out = new Float64Array(nItems);
  for (const e of events) {
    const key = e.user * nItems + e.item;
    if (!seen.has(key)) {
      seen.add(key);
      out[e.item]++;
    }
  }
  return out;
}

/** Options of {@link user2item}. */
export interface User2ItemOptions {
  /** How many of the user's latest earlier positives are candidates (default 50, as in QARM). */
  historyLength?: number;
}

/**
 * QARM User2Item triggers. For every event (target t at time T), the candidates are the user's
 * last `historyLength` distinct items bought strictly before T (so items of the same invoice
 * never count); the trigger is the candidate with the highest `similarity` to t (ties: the more
 * recent). Targets with no candidate of positive similarity give no pair. Returns how often each
 * unordered (trigger, target) pair was chosen.
 */
export function user2item(events: readonly Interaction[], nItems: number, similarity: ScoreTable, opts: User2ItemOptions = {}): ScoreTable {
  checkItems(events, nItems);
  if (similarity.length !== nItems) throw new ValueError(`argument 'similarity' has ${similarity.length} rows, want ${nItems}`, 'similarity');
  const L = opts.historyLength ?? 50;
  const acc = new PairAccumulator(nItems);
  for (const evs of byUser(events)) {
    // history: distinct items, most recent last; updated only after a whole timestamp is done.
    const history: number[] = [];
    let k = 0;
    while (k < evs.length) {
      let end = k;
      while (end < evs.length && evs[end].time === evs[k].time) end++;
      const cand = history.slice(-L);
      for (let x = k; x < end; x++) {
        const t = evs[x].item;
        const sim = similarity[t];
        let best = -1;
        let bestS = 0;
        for (let c = cand.length - 1; c >= 0; c--) {
          const s = cand[c] === t ? 0 : (sim.get(cand[c]) ?? 0);
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
  return acc.table();
}

/** Options of {@link selectPairs}. */
export interface SelectPairsOptions {
  /** Each item proposes its `topN` best-scoring partners (default 20). */
  topN?: number;
  /** No item takes part in more than `cap` selected pairs (default 50); the best pairs win. */
  cap?: number;
  /** Scores at or below this are ignored (default 0). */
  minScore?: number;
}

/**
 * Top-N partners per item, merged into deduplicated unordered pairs and capped per item:
 * candidates are taken in descending score order and kept while both items are under the cap.
 */
export function selectPairs(table: ScoreTable, opts: SelectPairsOptions = {}): ItemPairs {
  const topN = opts.topN ?? 20;
  const cap = opts.cap ?? 50;
  const minScore = opts.minScore ?? 0;
  if (!Number.isInteger(topN) || topN < 1) throw new ValueError("argument 'topN' must be a positive integer", 'topN');
  if (!Number.isInteger(cap) || cap < 1) throw new ValueError("argument 'cap' must be a positive integer", 'cap');
  const n = table.length;
  const cand = new Map<number, number>();
  table.forEach((m, i) => {
    const best = [...m.entries()].filter(([, s]) => s > minScore).sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, topN);
    for (const [j, s] of best) cand.set(i < j ? i * n + j : j * n + i, s);
  });
  const sorted = [...cand.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const used = new Int32Array(n);
  const a: number[] = [];
  const b: number[] = [];
  const sc: number[] = [];
  for (const [key, s] of sorted) {
    const i = Math.floor(key / n);
    const j = key - i * n;
    if (used[i] >= cap || used[j] >= cap) continue;
    used[i]++;
    used[j]++;
    a.push(i);
    b.push(j);
    sc.push(s);
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), score: Float32Array.from(sc) };
}

/** Union of pair sets (deduplicated; a pair keeps its first score). */
export function unionPairs(sets: readonly ItemPairs[], nItems: number): ItemPairs {
  const seen = new Set<number>();
  const a: number[] = [];
  const b: number[] = [];
  const sc: number[] = [];
  for (const p of sets) {
    for (let k = 0; k < p.a.length; k++) {
      const i = Math.min(p.a[k], p.b[k]);
      const j = Math.max(p.a[k], p.b[k]);
      if (i === j || seen.has(i * nItems + j)) continue;
      seen.add(i * nItems + j);
      a.push(i);
      b.push(j);
      sc.push(p.score[k]);
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), score: Float32Array.from(sc) };
}

/** Which miners {@link minePairs} runs. */
export type Miner = 'cooccurrence' | 'swing' | 'user2item';

/** Options of {@link minePairs}. */
export interface MinePairsOptions extends SelectPairsOptions {
  miners?: Miner[];
  cooccurrence?: CooccurrenceOptions;
  swing?: SwingOptions;
  user2item?: User2ItemOptions;
}

/** Result of {@link minePairs}: the union and each miner's own selection. */
export interface MinedPairs {
  pairs: ItemPairs;
  byMiner: Partial<Record<Miner, ItemPairs>>;
}

/**
 * Runs the chosen miners (default all three) on `events` and unites their selections.
 * User2Item measures behaviour similarity with Swing when it ran, else co-occurrence cosine.
 */
export function minePairs(events: readonly Interaction[], nItems: number, opts: MinePairsOptions = {}): MinedPairs {
  const miners = opts.miners ?? ['cooccurrence', 'swing', 'user2item'];
  const byMiner: Partial<Record<Miner, ItemPairs>> = {};
  let cooc: ScoreTable | null = null;
  let sw: ScoreTable | null = null;
  if (miners.includes('cooccurrence') || (miners.includes('user2item') && !miners.includes('swing'))) {
    cooc = cooccurrence(events, nItems, opts.cooccurrence);
  }
  if (miners.includes('cooccurrence')) byMiner.cooccurrence = selectPairs(cooc!, opts);
  if (miners.includes('swing')) {
    sw = swing(events, nItems, opts.swing);
    byMiner.swing = selectPairs(sw, opts);
  }
  if (miners.includes('user2item')) {
    const sim = sw ?? cosineNormalize(cooc!, itemUserCounts(events, nItems));
    byMiner.user2item = selectPairs(user2item(events, nItems, sim, opts.user2item), opts);
  }
  const order = miners.map((m) => byMiner[m]!).filter(Boolean);
  return { pairs: unionPairs(order, nItems), byMiner };
}
