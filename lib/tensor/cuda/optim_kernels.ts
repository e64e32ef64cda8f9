/**
 * Dense optimizer steps on CUDA (lib/tensor/cpu/optim_kernels.ts on the CPU), in place on
 * the parameter and its state.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import { f32 } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The optimizer kernels on CUDA, against `addon`. */
export function cudaOptimKernels(addon: CudaAddon) {
  return {
    sgdUpdate: ({ param, grad, velocity }, attrs) => {
      const { lr, momentum, weightDecay, nesterov } = attrs;
      addon.sgdUpdate(f32(param, 'param'), f32(grad, 'grad'), velocity ? f32(velocity, 'velocity') : null, param.size, lr, momentum, weightDecay, nesterov);
      return param;
    },

    adamUpdate: ({ param, grad, m, v }, attrs) => {
      const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
      addon.adamUpdate(f32(param, 'param'), f32(grad, 'grad'), f32(m, 'm'), f32(v, 'v'), param.size, lr, beta1, beta2, eps, weightDecay, decoupled, step);
      return param;
    },
  } satisfies KernelGroup;
}
