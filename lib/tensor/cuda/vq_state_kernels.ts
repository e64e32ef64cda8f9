/**
 * The residual VQ's training-state kernels on CUDA (lib/tensor/cpu/vq_state_kernels.ts on the
 * CPU, same float64 arithmetic; native/cuda/vq_state.cu).
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import { cudaEmpty, f32, i32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The VQ state kernels on CUDA, against `addon`. */
export function cudaVqStateKernels(addon: CudaAddon) {
  return {
    emaF64Update: ({ state, x }, { decay }) => {
      addon.emaF64Update(i32(state, 'state'), f32(x, 'x'), x.size, decay);
      return state;
    },

    vqEmaUpdate: ({ codebook, emaCounts, emaSums, counts, sums }, { decay, eps }) => {
      const [K, D] = codebook.shape;
      addon.vqEmaUpdate(
        f32(codebook, 'codebook'),
        i32(emaCounts, 'emaCounts'),
        i32(emaSums, 'emaSums'),
        f32(counts, 'counts'),
        f32(sums, 'sums'),
        K,
        D,
        decay,
        eps,
      );
      return codebook;
    },

    deadCodeRestart: ({ codebook, usage, residual, rng, restarts, emaCounts, emaSums }, { threshold }) => {
      const [K, D] = codebook.shape;
      addon.deadCodeRestart(
        f32(codebook, 'codebook'),
        i32(usage, 'usage'),
        K,
        D,
        f32(residual, 'residual'),
        residual.shape[0],
        i32(rng, 'rng'),
        i32(restarts, 'restarts'),
        threshold,
        emaCounts ? i32(emaCounts, 'emaCounts') : null,
        emaSums ? i32(emaSums, 'emaSums') : null,
      );
      return codebook;
    },

    f32ToF64: ({ x }) => {
      const out = cudaEmpty([x.size, 2], 'int32');
      addon.f32ToF64(f32(x, 'x'), x.size, ptr(out, 'out'));
      return out;
    },
  } satisfies KernelGroup;
}
