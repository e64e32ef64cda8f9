export * from './types.js';
export type * from './feature_spec.js';
export * as metrics from './metrics.js';
export { Ranker, validateItemFeatures, validateSamples, type ForwardOptions, type RankerBuildOptions } from './ranker.js';
export { trainRanker, evaluate, type TrainOptions, type TrainResult, type EpochStats, type Progress, type RankCommunicator } from './trainer.js';
export { synthetic, type SyntheticOptions } from './synthetic.js';
export { codeRows, type CodeRows, type CodeRowsOptions, type CodeMode } from './prefix.js';
export { RANKER_DEFAULTS, TRAIN_DEFAULTS, type RankerDefaults, type TrainDefaults } from './defaults.js';
