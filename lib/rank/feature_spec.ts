/**
 * The ranker's feature spec: which QARM inputs it uses and how big its parts are. Every
 * feature group can be switched off, so one class covers the paper's baselines (ids only,
 * + frozen embedding, + VQ code, + RQ code, + both) and the ablations.
 */

/** Which feature groups feed the ranker. Defaults in brackets. */
export interface FeatureSwitches {
  /** User-id embedding [true]. */
  userId?: boolean;
  /** Target item-id embedding; also part of every history item's representation [true]. */
  itemId?: boolean;
  /** One embedding per RQ level of the target, concatenated; needs `items.rq` [true if present]. */
  rq?: boolean;
  /** Mean-pooled bag of the target's VQ codes (an EmbeddingBag); needs `items.vq` [true if present]. */
  vq?: boolean;
  /** DIN target attention over the user's history [true]. */
  history?: boolean;
  /**
   * Add the RQ code embeddings (summed over levels) to each history item's representation,
   * so the attention can compare codes [true if `rq`].
   */
  historyCodes?: boolean;
  /**
   * Target-aware cross features: the history items sharing the target's level-1 RQ code, and
   * those sharing its level-1+2 prefix — each set's attention-pooled embedding and its size
   * (scaled by {@link RankerConfig.countNorm}); needs `items.rq` [true if present].
   */
  cross?: boolean;
  /**
   * Add the mean of the item's VQ-code embeddings (the same table as `vq`) to each history
   * item's and the query's representation; needs `items.vq` [false].
   */
  vqHistory?: boolean;
  /**
   * VQ cross feature: the history items that are among the target's top-K VQ codes (pool
   * entries mapped to item ids by `items.vq.poolItems`): their attention-pooled representation
   * and their count (scaled by {@link RankerConfig.countNorm}); needs `items.vq` [false].
   */
  vqCross?: boolean;
  /** The frozen item embedding through a trainable linear projection; needs `items.dense` [true if present]. */
  dense?: boolean;
}

/** Configuration of a {@link Ranker}. */
export interface RankerConfig {
  /** Size of the user-id vocabulary. */
  numUsers: number;
  /**
   * Size of the item-id vocabulary (usually the training items). Defaults to
   * `items.numItems`. Ids at or above it use the OOV row when `oov` is set.
   */
  numItemIds?: number;
  /** Map ids outside the id vocabularies to a shared out-of-vocabulary row instead of throwing [true]. */
  oov?: boolean;
  /** Embedding width d of every table [16; the paper uses 64]. */
  embeddingDim?: number;
  /** Hidden sizes of the DIN attention MLP [[36]]. */
  attentionHidden?: number[];
  /** Hidden sizes of the tower MLP [[200, 80]]. */
  hidden?: number[];
  /** Feature groups (see {@link FeatureSwitches}). */
  features?: FeatureSwitches;
  /**
   * How RQ codes become rows of the code tables ['levels']: `'levels'` = one table per level,
   * indexed by the level's code; `'prefix'` = one table per prefix length (c1), (c1,c2), …,
   * indexed by the prefix (exact, or hashed beyond `prefixTableSize`). In both modes a code or
   * prefix that no item below `numItemIds` has reads the zero row (see lib/rank/prefix.ts).
   */
  codeMode?: 'levels' | 'prefix';
  /**
   * Rows of a prefix table whose possible prefixes do not fit [16384]. Large enough that the
   * few thousand used prefixes of a catalogue like the bundled one (3.7k items) rarely share a
   * row (n items in m rows collide at about n/2m: ~10 % there), small next to the exact 64³
   * prefixes; the collisions are counted (lib/rank/prefix.ts) so the choice can be checked.
   */
  prefixTableSize?: number;
  /** Seed of the prefix hash [0]. */
  prefixHashSeed?: number;
  /**
   * Scaling of the cross features' match counts c ['log1p']: `'log1p'` = log(1 + c) (up to
   * log 51 ≈ 3.9 at H = 50, about 50x the scale of an embedding entry, so it dominates the
   * tower's first layer at init); `'scaled'` = log(1 + c) / log(1 + H), bounded in [0, 1] for
   * any history length H while keeping the log's diminishing returns (c / H instead would be a
   * share of the history, a different signal that shrinks for long histories).
   */
  countNorm?: 'log1p' | 'scaled';
  /** Seed of every initialiser [0]. */
  seed?: number;
}
