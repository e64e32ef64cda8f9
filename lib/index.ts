/**
 * qarm — quantitative alignment multimodal recommendation.
 *
 * `import { tensor, matmul, nn, ... } from 'qarm'`
 */
export * from './errors.js';
export * from './tensor/index.js';
export * from './autograd/index.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim/index.js';
export * as rank from './rank/index.js';
export * as metrics from './rank/metrics.js';
export { writeFileAtomic } from './data/atomic.js';
export { readNpy, writeNpy } from './data/npy.js';
export { readSafetensors, writeSafetensors, type SafetensorsContent } from './data/safetensors.js';
export { loadDataset, bundledDatasetDir, parseTimestamp, type Dataset, type Item, type Interaction, type LoadDatasetOptions } from './data/dataset.js';
export * from './quant/index.js';
export * as pipeline from './pipeline/index.js';
export { encodeTexts, fuseEmbeddings, defaultCacheDir, type EncodeOptions, type EncodedTexts, type TextModality } from './data/encoders.js';
export * as pairs from './align/pairs.js';
export {
  align,
  trainAligner,
  infoNCE,
  pairRecall,
  type AlignOptions,
  type AlignOutput,
  type AlignerOptions,
  ALIGN_DEFAULTS,
  PAIR_MINING_DEFAULTS,
  type AlignDefaults,
  type PairMiningDefaults,
} from './align/index.js';
export { runAlignCommand, type AlignCommandOptions } from './pipeline/align_command.js';
export * as cuda from './tensor/cuda/public.js';
export {
  dist,
  Communicator,
  DEFAULT_CHUNK_BYTES,
  type DistInfo,
  type DistArray,
  type ReduceArray,
  type DistCallKind,
  type DistCallStats,
  type DistStats,
} from './dist/index.js';
// Types that appear in the signatures above, exported so that users can name them (and the API
// reference can link them).
export type { NestedNumbers } from './tensor/creation.js';
export type { GradLike } from './tensor/tensor.js';
export type { Trackable } from './tensor/memory.js';
export type {
  AdamKernelAttrs,
  DinKernelWeights,
  KernelAttrs,
  KernelCache,
  KernelImpl,
  KernelImpls,
  KernelInputs,
  KernelName,
  KernelOutput,
  KernelSignature,
  KernelTable,
  NearestKernelAttrs,
} from './tensor/kernel_table.js';
export type { KernelAttrsArg } from './tensor/backend.js';
export type { BinaryName, NearestMetric, UnaryName } from './tensor/op_codes.js';
export type { AlignEpoch, AlignerResult } from './align/aligner.js';
export type { AlignCommunicator } from './align/data_parallel.js';
export type { Scorer, PairRecallOptions } from './align/pair_recall.js';
