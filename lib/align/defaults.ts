/**
 * lib/align's defaults, in one place: the options of `trainAligner` and `align`
 * ({@link ALIGN_DEFAULTS}) and of `minePairs` ({@link PAIR_MINING_DEFAULTS}). The option
 * types document what each value means and why it is what it is; the code that applies an
 * option reads its default from here, so a caller (the `qarm run` pipeline) can see and override
 * the exact values.
 */
import type { Activation } from '../nn/mlp.js';
import type { CooccurrenceOptions, Miner, SwingOptions, User2ItemOptions } from './pairs.js';

/** The plain settings of `AlignOptions` with their defaults (see each option's comment). */
export interface AlignDefaults {
  readonly dims: number;
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly temperature: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly epochs: number;
  readonly patience: number;
  readonly neighbourhoodWeight: number;
  readonly neighbourhoodTemperature: number;
  readonly contentMix: readonly number[];
  readonly validationK: number;
  readonly maxValidationPairs: number;
  readonly ensemble: number;
  readonly seed: number;
  readonly earlyStopOn: 'new' | 'all';
}

/** The settings of `MinePairsOptions` with their defaults (see each option's comment). */
export interface PairMiningDefaults {
  readonly miners: readonly Miner[];
  readonly topN: number;
  readonly cap: number;
  readonly minScore: number;
  readonly cooccurrence: Readonly<Required<CooccurrenceOptions>>;
  readonly swing: Readonly<Required<SwingOptions>>;
  readonly user2item: Readonly<Required<User2ItemOptions>>;
}

/** Defaults of `trainAligner` (and of `align`'s `earlyStopOn`); frozen. */
export const ALIGN_DEFAULTS: AlignDefaults = Object.freeze({
  dims: 64,
  hidden: Object.freeze([512]),
  activation: 'relu',
  temperature: 0.2,
  batchSize: 512,
  lr: 2e-3,
  weightDecay: 0,
  epochs: 40,
  patience: 4,
  neighbourhoodWeight: 0,
  neighbourhoodTemperature: 0.05,
  contentMix: Object.freeze([1, 0.9, 0.8, 0.7, 0.6]),
  validationK: 50,
  maxValidationPairs: 3000,
  ensemble: 3,
  seed: 0,
  earlyStopOn: 'all',
});

/** Defaults of `minePairs` and its miners; frozen. */
export const PAIR_MINING_DEFAULTS: PairMiningDefaults = Object.freeze({
  miners: Object.freeze(['cooccurrence', 'swing', 'user2item'] as const),
  topN: 20,
  cap: 50,
  minScore: 0,
  cooccurrence: Object.freeze({ sameBasket: true, window: 0, count: 'users', maxBasket: 500 } as const),
  swing: Object.freeze({ alpha: 1, userWeight: true, userAlpha: 5, maxItemsPerUser: 300 }),
  user2item: Object.freeze({ historyLength: 50 }),
});
