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
 * capped per item so hot items do not dominate). The work happens in miners.ts on a dense or
 * CSR score matrix; {@link minePairs} never builds the Map tables at all.
 */
import { ValueError } from '../errors.js';
import type { Interaction } from '../data/dataset.js';
import { cooccurrenceScores, cosineScores, selectFromMatrix, selectFromTable, swingScores, user2itemScores, groupByUser } from './miners.js';
import { ScoreMatrix } from './score_matrix.js';
import { PAIR_MINING_DEFAULTS } from './defaults.js';

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
  return cooccurrenceScores(groupByUser(events, nItems), nItems, opts).toTable();
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
  return swingScores(groupByUser(events, nItems), nItems, opts).toTable();
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
  const users = groupByUser(events, nItems);
  if (similarity.length !== nItems) throw new ValueError(`argument 'similarity' has ${similarity.length} rows, want ${nItems}`, 'similarity');
  return user2itemScores(users, nItems, ScoreMatrix.fromTable(similarity), opts).toTable();
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
  return selectFromTable(table, opts);
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
  const miners: readonly Miner[] = opts.miners ?? PAIR_MINING_DEFAULTS.miners;
  const byMiner: Partial<Record<Miner, ItemPairs>> = {};
  // Scores stay in ScoreMatrix form (no Map tables); events are checked and grouped once.
  let grouped: Interaction[][] | null = null;
  const users = (): Interaction[][] => (grouped ??= groupByUser(events, nItems));
  let cooc: ScoreMatrix | null = null;
  let sw: ScoreMatrix | null = null;
  if (miners.includes('cooccurrence') || (miners.includes('user2item') && !miners.includes('swing'))) {
    cooc = cooccurrenceScores(users(), nItems, opts.cooccurrence);
  }
  if (miners.includes('cooccurrence')) byMiner.cooccurrence = selectFromMatrix(cooc!, opts);
  if (miners.includes('swing')) {
    sw = swingScores(users(), nItems, opts.swing);
    byMiner.swing = selectFromMatrix(sw, opts);
  }
  if (miners.includes('user2item')) {
    const sim = sw ?? cosineScores(cooc!, itemUserCounts(events, nItems));
    byMiner.user2item = selectFromMatrix(user2itemScores(users(), nItems, sim, opts.user2item), opts);
  }
  const order = miners.map((m) => byMiner[m]!).filter(Boolean);
  return { pairs: unionPairs(order, nItems), byMiner };
}
