/**
 * lib/rank's defaults, in one place: the `Ranker`'s architecture ({@link RANKER_DEFAULTS})
 * and `trainRanker`'s schedule ({@link TRAIN_DEFAULTS}). `RankerConfig` and
 * `TrainOptions` document what each value means; the code that applies an option reads its
 * default from here, so a caller (the `qarm run` pipeline) can see and override the exact values.
 */
import type { RankerConfig } from './feature_spec.js';

/** The defaulted settings of `RankerConfig` (`numItemIds` defaults to the item count instead). */
export interface RankerDefaults {
  readonly oov: boolean;
  readonly embeddingDim: number;
  readonly attentionHidden: readonly number[];
  readonly hidden: readonly number[];
  readonly codeMode: NonNullable<RankerConfig['codeMode']>;
  readonly prefixTableSize: number;
  readonly prefixHashSeed: number;
  readonly countNorm: NonNullable<RankerConfig['countNorm']>;
  readonly seed: number;
}

/** The defaulted settings of `TrainOptions` (`sparseLr` defaults to `lr` for Adam, {@link TrainDefaults.adagradSparseLr} for Adagrad). */
export interface TrainDefaults {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly sparseOptimizer: 'adam' | 'adagrad';
  readonly weightDecay: number;
  readonly seed: number;
  readonly patience: number;
  readonly resume: boolean;
  readonly itemIdDropout: number;
  readonly historyIdDropout: number;
  readonly codeDropout: boolean;
  /** `sparseLr` of the row-wise Adagrad. */
  readonly adagradSparseLr: number;
}

/** Defaults of a `Ranker`'s configuration; frozen. */
export const RANKER_DEFAULTS: RankerDefaults = Object.freeze({
  oov: true,
  embeddingDim: 16,
  attentionHidden: Object.freeze([36]),
  hidden: Object.freeze([200, 80]),
  codeMode: 'levels',
  prefixTableSize: 16384,
  prefixHashSeed: 0,
  countNorm: 'log1p',
  seed: 0,
});

/** Defaults of `trainRanker`; frozen. */
export const TRAIN_DEFAULTS: TrainDefaults = Object.freeze({
  epochs: 5,
  batchSize: 1024,
  lr: 1e-3,
  sparseOptimizer: 'adam',
  weightDecay: 0,
  seed: 0,
  patience: 2,
  resume: true,
  itemIdDropout: 0,
  historyIdDropout: 0,
  codeDropout: false,
  adagradSparseLr: 0.05,
});
