/**
 * The fused InfoNCE kernels on CUDA (lib/tensor/cpu/contrastive_kernels.ts on the CPU, same
 * float64 arithmetic; native/cuda/contrastive.cu). The loss and dy stay on the device.
 * @internal
 */
import { checkSize, squareSide } from '../contrastive_checks.js';
import type { KernelGroup } from '../kernel_table.js';
import { cudaEmpty, f32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The fused InfoNCE kernels on CUDA, against `addon`. */
export function cudaContrastiveKernels(addon: CudaAddon) {
  return {
    infoNceLogits: ({ s, mask }, { temperature }) => {
      const b = squareSide(s, 's');
      if (mask) checkSize(mask, b * b, 'mask');
      const out = cudaEmpty([b, b]);
      addon.infoNceLogits(f32(s, 's'), mask ? f32(mask, 'mask') : null, b, temperature, ptr(out, 'out'));
      return out;
    },

    infoNceLoss: ({ lseR, lseC, l }) => {
      const b = squareSide(l, 'l');
      checkSize(lseR, b, 'lseR');
      checkSize(lseC, b, 'lseC');
      const out = cudaEmpty([]);
      addon.infoNceLoss(f32(lseR, 'lseR'), f32(lseC, 'lseC'), f32(l, 'l'), b, ptr(out, 'out'));
      return out;
    },

    infoNceGrad: ({ pr, pc, dy }, { temperature }) => {
      const b = squareSide(pr, 'pr');
      checkSize(pc, b * b, 'pc');
      checkSize(dy, 1, 'dy');
      const out = cudaEmpty([b, b]);
      addon.infoNceGrad(f32(pr, 'pr'), f32(pc, 'pc'), f32(dy, 'dy'), b, temperature, ptr(out, 'out'));
      return out;
    },
  } satisfies KernelGroup;
}
