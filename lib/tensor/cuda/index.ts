/**
 * Starts the CUDA backend when a device exists: probes the optional addon, creates the
 * caching allocator, registers the CUDA kernels and installs the host<->device copy hook
 * behind `Tensor.to()`. Without a device nothing is registered and `devices()` is ['cpu'].
 * @internal
 */
import { registerBackend } from '../backend.js';
import { allocArray } from '../dtype.js';
import { setDeviceStatus } from '../device.js';
import type { KernelImpls } from '../kernel_table.js';
import { CpuStorage } from '../storage.js';
import { Tensor, tensorHooks } from '../tensor.js';
import { CachingAllocator } from './allocator.js';
import { cudaAttentionKernels } from './attention_kernels.js';
import { cudaColumnKernels } from './column_kernels.js';
import { cudaComposedKernels } from './composed.js';
import { cudaContrastiveKernels } from './contrastive_kernels.js';
import { bindAllocator, cudaEmpty, ptr } from './context.js';
import { cudaDinKernels } from './din.js';
import { cudaEmbeddingKernels } from './embedding_kernels.js';
import { cudaKmeansKernels } from './kmeans_kernels.js';
import { cudaDenseKernels } from './kernels.js';
import { cudaOptimKernels } from './optim_kernels.js';
import { cudaQuantKernels } from './quant_kernels.js';
import { cudaSparseOptimKernels } from './sparse_optim_kernels.js';
import { probeCuda, type CudaAddon } from './native_cuda.js';
import { CudaStorage } from './storage.js';
import { cudaVqStateKernels } from './vq_state_kernels.js';

const probe = probeCuda();

/** The loaded addon and allocator, or null without a device. @internal */
export const cudaRuntime: { addon: CudaAddon; allocator: CachingAllocator; path: string } | null = probe.addon
  ? {
      addon: probe.addon,
      allocator: new CachingAllocator({ malloc: (b) => probe.addon!.malloc(b), free: (p) => probe.addon!.free(p) }),
      path: probe.path!,
    }
  : null;

/** Why CUDA is unavailable ('' when it is). @internal */
export const cudaReason = probe.reason;

/**
 * Every CUDA kernel, against `addon` (typed complete: a kernel of the table without a CUDA
 * implementation does not compile). @internal
 */
export function cudaKernels(addon: CudaAddon): KernelImpls {
  return {
    ...cudaDenseKernels(addon),
    ...cudaColumnKernels(addon),
    ...cudaOptimKernels(addon),
    ...cudaSparseOptimKernels(addon),
    ...cudaQuantKernels(addon),
    ...cudaKmeansKernels(addon),
    ...cudaVqStateKernels(addon),
    ...cudaEmbeddingKernels(addon),
    ...cudaAttentionKernels(addon),
    ...cudaContrastiveKernels(addon),
    ...cudaDinKernels,
    ...cudaComposedKernels,
  };
}

if (cudaRuntime) {
  const { addon, allocator } = cudaRuntime;
  bindAllocator(allocator);
  registerBackend('cuda', cudaKernels(addon));
  const previous = tensorHooks.toDevice;
  tensorHooks.toDevice = (t: Tensor, device) => {
    const s = t.storage();
    if (device === 'cuda' && s instanceof CpuStorage) {
      const out = cudaEmpty(t.shape, t.dtype);
      addon.upload(ptr(out, 'out'), s.data);
      return out;
    }
    if (device === 'cpu' && s instanceof CudaStorage) {
      const host = allocArray(t.dtype, t.size);
      addon.download(s.ptr, host);
      return Tensor.fromArray(host, t.shape, t.dtype);
    }
    if (previous) return previous(t, device);
    throw new Error(`cannot move a ${s.device} tensor to ${device}`);
  };
  setDeviceStatus('cuda', true);
} else {
  setDeviceStatus('cuda', false, probe.reason);
}
