/**
 * Row-sparse optimizer steps on CUDA (lib/tensor/cpu/sparse_optim_kernels.ts on the CPU): Adam
 * and row-wise Adagrad over the touched rows of an embedding table, in place. The dense steps
 * are in optim_kernels.ts.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import { f32, i32, rowsDim } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The row-sparse optimizer kernels on CUDA, against `addon`. */
export function cudaSparseOptimKernels(addon: CudaAddon) {
  return {
    sparseAdamUpdate: ({ param, m, v, indices, grad }, attrs) => {
      const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
      const [rows, dim] = rowsDim(param);
      addon.sparseAdam(
        f32(param, 'param'),
        f32(m, 'm'),
        f32(v, 'v'),
        rows,
        dim,
        i32(indices, 'indices'),
        indices.size,
        f32(grad, 'grad'),
        lr,
        beta1,
        beta2,
        eps,
        weightDecay,
        decoupled,
        step,
      );
      return param;
    },

    rowwiseAdagradUpdate: ({ param, state, indices, grad }, attrs) => {
      const { lr, eps, weightDecay } = attrs;
      const [rows, dim] = rowsDim(param);
      addon.rowwiseAdagrad(f32(param, 'param'), f32(state, 'state'), rows, dim, i32(indices, 'indices'), indices.size, f32(grad, 'grad'), lr, eps, weightDecay);
      return param;
    },
  } satisfies KernelGroup;
}
