/**
 * The CPU backend: every kernel of the table (typed complete, so a kernel added to the table
 * without a CPU implementation does not compile), registered once on import.
 * @internal
 */
import { registerBackend } from '../backend.js';
import type { KernelImpls } from '../kernel_table.js';
import { cpuAttentionKernels } from './attention_kernels.js';
import { cpuColumnKernels } from './column_kernels.js';
import { cpuContrastiveKernels } from './contrastive_kernels.js';
import { cpuEmbeddingKernels } from './embedding_kernels.js';
import { cpuKmeansKernels } from './kmeans_kernels.js';
import { cpuDenseKernels } from './kernels.js';
import { cpuOptimKernels } from './optim_kernels.js';
import { cpuQuantKernels } from './quant_kernels.js';
import { cpuSparseOptimKernels } from './sparse_optim_kernels.js';
import { cpuVqStateKernels } from './vq_state_kernels.js';

/** Every CPU kernel. @internal */
export const cpuKernels: KernelImpls = {
  ...cpuDenseKernels,
  ...cpuColumnKernels,
  ...cpuOptimKernels,
  ...cpuSparseOptimKernels,
  ...cpuQuantKernels,
  ...cpuKmeansKernels,
  ...cpuVqStateKernels,
  ...cpuEmbeddingKernels,
  ...cpuAttentionKernels,
  ...cpuContrastiveKernels,
};

registerBackend('cpu', cpuKernels);
