/**
 * The data contract between whoever builds ranking samples (the pipeline, a user, a test)
 * and the ranker. Everything is columnar plain typed arrays, row-major, so a batch is a set
 * of `subarray`s of a dataset and nothing is copied per sample.
 *
 * Two parts:
 * - {@link ItemFeatures}: one table indexed by item id with everything known about an item
 *   (its RQ code, its VQ code, its frozen multimodal embedding). The ranker looks up the
 *   features of the target item *and* of every history item here, so samples carry only ids.
 *   Cold-start items (never seen in training) must still have rows here: their codes come
 *   from their content embedding, which is the point of QARM.
 * - {@link RankSamples}: N impressions: user id, target item id, label, and the user's
 *   history before the impression (the last ≤ `maxHistory` positively-interacted item ids,
 *   most recent first, right-padded).
 *
 * @example
 * ```ts
 * const items: ItemFeatures = {
 *   numItems: 3665,
 *   rq: { codes: rqCodes, levels: 3, codebookSize: 256 },    // Int32Array [3665 * 3]
 *   vq: { codes: vqCodes, k: 25, poolSize: 3665 },           // Int32Array [3665 * 25]
 *   dense: { values: aligned, dim: 64 },                     // Float32Array [3665 * 64]
 * };
 * const train: RankSamples = { size: n, maxHistory: 50, user, item, label, history, historyLength };
 * ```
 */

/** Residual-quantisation codes of every item: `codes[i * levels + l]` is item i's code at level l. */
export interface RQFeature {
  /** int32 [numItems * levels], each code in [0, codebookSize). */
  codes: Int32Array;
  /** Number of levels L (the paper uses 6). */
  levels: number;
  /** Codes per level: one number for all levels, or one per level. */
  codebookSize: number | readonly number[];
}

/** VQ codes of every item: `codes[i * k + j]` is the j-th nearest pool item of item i. */
export interface VQFeature {
  /** int32 [numItems * k], each in [0, poolSize). A value of -1 marks an empty slot (ignored). */
  codes: Int32Array;
  /** Codes per item (the paper uses 25). */
  k: number;
  /** Size of the code vocabulary (the aligned item pool). */
  poolSize: number;
  /**
   * int32 [poolSize]: the item id of each pool entry, which the VQ cross feature (matching the
   * target's codes against history item ids) needs. Absent = the identity (pool entry i is item
   * i), which holds in the pipeline, whose pool is the warm items and warm items have ids
   * 0..W−1 in pool order; it is passed there anyway so the mapping is never assumed.
   */
  poolItems?: Int32Array;
}

/** A frozen (not trained) embedding of every item, e.g. the aligned multimodal vector. */
export interface DenseFeature {
  /** float32 [numItems * dim]. */
  values: Float32Array;
  dim: number;
}

/** Side features of every item, indexed by item id in [0, numItems). */
export interface ItemFeatures {
  /** Number of items the tables cover (target and history ids must be below it). */
  numItems: number;
  rq?: RQFeature;
  vq?: VQFeature;
  dense?: DenseFeature;
}

/**
 * N ranking samples (impressions), columnar. A mini-batch is the same type (see
 * {@link sliceSamples} / {@link gatherSamples}).
 *
 * Ids: `user` in [0, numUsers) and `item` in [0, numItems) of the ranker's config. With
 * `oov: true` in the config, ids outside the id vocabularies map to a shared
 * out-of-vocabulary row instead of throwing (for users/items unseen in training); the item
 * must still have a row in {@link ItemFeatures} if code features are used.
 */
export interface RankSamples {
  /** Number of samples N. */
  size: number;
  /** History slots per sample H (the paper and the bench use 50). */
  maxHistory: number;
  /** int32 [N] user ids. */
  user: Int32Array;
  /** int32 [N] target item ids. */
  item: Int32Array;
  /** float32 [N] labels, 0 or 1 (a click / purchase). */
  label: Float32Array;
  /**
   * int32 [N * H] history item ids, most recent first; only the first `historyLength[n]`
   * entries of row n are read (pad the rest with -1).
   */
  history: Int32Array;
  /** int32 [N] number of valid history entries, in [0, H]. */
  historyLength: Int32Array;
  /** Optional int32 [N] group ids for GAUC (defaults to `user`). */
  group?: Int32Array;
}

/** Samples [start, end) as a view (no copy). */
export function sliceSamples(s: RankSamples, start: number, end: number): RankSamples {
  const H = s.maxHistory;
  return {
    size: end - start,
    maxHistory: H,
    user: s.user.subarray(start, end),
    item: s.item.subarray(start, end),
    label: s.label.subarray(start, end),
    history: s.history.subarray(start * H, end * H),
    historyLength: s.historyLength.subarray(start, end),
    group: s.group?.subarray(start, end),
  };
}

/** The samples at `rows` (a copy), e.g. a shuffled mini-batch. */
export function gatherSamples(s: RankSamples, rows: ArrayLike<number>): RankSamples {
  const n = rows.length;
  const H = s.maxHistory;
  const out: RankSamples = {
    size: n,
    maxHistory: H,
    user: new Int32Array(n),
    item: new Int32Array(n),
    label: new Float32Array(n),
    history: new Int32Array(n * H),
    historyLength: new Int32Array(n),
    group: s.group ? new Int32Array(n) : undefined,
  };
  const { user, item, label, history, historyLength } = out;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    user[i] = s.user[r];
    item[i] = s.item[r];
    label[i] = s.label[r];
    historyLength[i] = s.historyLength[r];
    // A plain loop: a subarray view per row would be a short-lived object per sample.
    for (let h = 0, src = r * H, dst = i * H; h < H; h++) history[dst + h] = s.history[src + h];
  }
  if (s.group) for (let i = 0; i < n; i++) out.group![i] = s.group[rows[i]];
  return out;
}
