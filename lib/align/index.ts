export * from './pairs.js';
export { infoNCE, neighbourhoodLoss, trainAligner, projectAll, projectEnsemble, type AlignerOptions, type AlignerResult, type AlignEpoch } from './aligner.js';
export type { AlignCommunicator } from './data_parallel.js';
export { pairRecall, embeddingScorer, tableScorer, cachedScorer, mixedScorer, mixSpaces, type Scorer, type PairRecallOptions } from './pair_recall.js';
export { align, contentEmbeddings, pairKeys, filterPairs, type AlignOptions, type AlignOutput } from './align.js';
export { ALIGN_DEFAULTS, PAIR_MINING_DEFAULTS, type AlignDefaults, type PairMiningDefaults } from './defaults.js';
