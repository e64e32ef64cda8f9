/**
 * Attention pooling on CUDA (lib/tensor/cpu/attention_kernels.ts on the CPU): weighted pooling
 * of padded sequences, forward and backward. The DIN scorer is composed of device kernels in
 * din.ts, the packed target attention in composed.ts.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import { cudaEmpty, f32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The attention-pooling kernels on CUDA, against `addon`. */
export function cudaAttentionKernels(addon: CudaAddon) {
  return {
    weightedPool: ({ w, k }) => {
      const [B, M, H] = w.shape;
      const D = k.shape[2];
      const out = cudaEmpty([B, M, D]);
      addon.weightedPool(f32(w, 'w'), f32(k, 'k'), ptr(out, 'out'), B, M, H, D);
      return out;
    },

    weightedPoolBackward: ({ w, k, dout }, attrs) => {
      const [B, M, H] = w.shape;
      const D = k.shape[2];
      const dw = attrs.needW ? cudaEmpty(w.shape) : null;
      const dk = attrs.needK ? cudaEmpty(k.shape) : null;
      addon.weightedPoolBackward(f32(w, 'w'), f32(k, 'k'), f32(dout, 'dout'), dw ? ptr(dw, 'dw') : null, dk ? ptr(dk, 'dk') : null, B, M, H, D);
      return [dw, dk];
    },
  } satisfies KernelGroup;
}
