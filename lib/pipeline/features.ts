/**
 * From the protocol's samples to the ranker's batch format (lib/rank types).
 *
 * The ranker's item-id vocabulary is the warm (training) items: they get ids 0..W−1, the cold
 * items W..N−1, and the ranker is configured with `numItemIds = W` and `oov: true`, so every
 * cold item maps to the shared out-of-vocabulary row — no variant can learn anything about a
 * cold item's id. Item side features (codes, frozen embeddings) are tables in the same order.
 */
import { Generator } from '../tensor/random.js';
import type { RankSamples } from '../rank/types.js';
import type { Protocol, SampleSet } from './protocol.js';

/** The item order of the ranker: `rankId[item]` and its inverse `itemAt[rankId]`. */
export interface ItemOrder {
  rankId: Int32Array;
  itemAt: Int32Array;
  numWarm: number;
}

/** Warm items first (in vocabulary order), then cold items (in dataset order). */
export function itemOrder(p: Protocol): ItemOrder {
  const rankId = new Int32Array(p.numItems);
  const itemAt = new Int32Array(p.numItems);
  let next = p.numWarmItems;
  for (let i = 0; i < p.numItems; i++) {
    rankId[i] = p.itemVocab[i] > 0 ? p.itemVocab[i] - 1 : next++;
    itemAt[rankId[i]] = i;
  }
  return { rankId, itemAt, numWarm: p.numWarmItems };
}

/** Rows of a row-major [numItems, dim] table reordered into ranker order. */
export function permuteRows<T extends Float32Array | Int32Array>(values: T, dim: number, order: ItemOrder): T {
  const out = new (values.constructor as { new (n: number): T })(values.length);
  for (let r = 0; r < order.itemAt.length; r++) out.set(values.subarray(order.itemAt[r] * dim, (order.itemAt[r] + 1) * dim), r * dim);
  return out;
}

/** Options of {@link toRankSamples}. */
export interface ToRankOptions {
  /** History slots H (default: the protocol's history length). */
  maxHistory?: number;
  /** Keep this fraction of negatives (seeded); positives are always kept (default 1). */
  negativeFraction?: number;
  seed?: number;
}

/**
 * The ranker's samples for one split: user ids 0..U−1 (training users; anyone else gets id U,
 * the OOV row), item ids in {@link itemOrder}, history most recent first and padded with −1,
 * GAUC groups = the protocol's requests.
 */
export function toRankSamples(set: SampleSet, p: Protocol, order: ItemOrder, opts: ToRankOptions = {}): RankSamples {
  const H = opts.maxHistory ?? p.options.historyLength;
  const frac = opts.negativeFraction ?? 1;
  const keep: number[] = [];
  if (frac < 1) {
    const g = new Generator(opts.seed ?? 0);
    for (let i = 0; i < set.size; i++) if (set.label[i] === 1 || g.uniform() < frac) keep.push(i);
  }
  const rows = frac < 1 ? Int32Array.from(keep) : null;
  const n = rows ? rows.length : set.size;
  const out: RankSamples = {
    size: n,
    maxHistory: H,
    user: new Int32Array(n),
    item: new Int32Array(n),
    label: new Float32Array(n),
    history: new Int32Array(n * H).fill(-1),
    historyLength: new Int32Array(n),
    group: new Int32Array(n),
  };
  const oovUser = p.numTrainUsers;
  for (let j = 0; j < n; j++) {
    const i = rows ? rows[j] : j;
    const uv = p.userVocab[set.user[i]];
    out.user[j] = uv > 0 ? uv - 1 : oovUser;
    out.item[j] = order.rankId[set.item[i]];
    out.label[j] = set.label[i];
    const g = set.group[i];
    out.group![j] = g;
    const a = set.histOffsets[g],
      b = set.histOffsets[g + 1];
    const len = Math.min(H, b - a);
    out.historyLength[j] = len;
    // Most recent first: the protocol stores oldest first.
    for (let k = 0; k < len; k++) out.history[j * H + k] = order.rankId[set.hist[b - 1 - k]];
  }
  return out;
}

/** 1 where the sample's target is a warm item. */
export function warmMask(s: RankSamples, order: ItemOrder): Uint8Array {
  const m = new Uint8Array(s.size);
  for (let i = 0; i < s.size; i++) m[i] = s.item[i] < order.numWarm ? 1 : 0;
  return m;
}
