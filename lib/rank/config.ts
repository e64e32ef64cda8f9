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
   * (as log(1 + count)); needs `items.rq` [true if present].
   */
  cross?: boolean;
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
  /** Seed of every initialiser [0]. */
  seed?: number;
}
