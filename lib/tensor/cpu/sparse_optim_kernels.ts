/**
 * Row-sparse optimizer steps on the CPU (Adam and row-wise Adagrad over the touched rows of an
 * embedding table), in place. Thin wrappers over native/binding/bind_optim.cc; the dense steps
 * are in optim_kernels.ts.
 */
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { rowsDim } from './embedding_kernels.js';

declare module '../native.js' {
  interface NativeAddon {
    sparseAdam(
      param: Float32Array,
      m: Float32Array,
      v: Float32Array,
      rows: number,
      dim: number,
      indices: Int32Array,
      grad: Float32Array,
      lr: number,
      beta1: number,
      beta2: number,
      eps: number,
      weightDecay: number,
      decoupled: boolean,
      step: number,
    ): void;
    rowwiseAdagrad(
      param: Float32Array,
      state: Float32Array,
      rows: number,
      dim: number,
      indices: Int32Array,
      grad: Float32Array,
      lr: number,
      eps: number,
      weightDecay: number,
    ): void;
  }
}

/** Row-sparse optimizer kernels on the CPU. @internal */
export const cpuSparseOptimKernels = {
  sparseAdamUpdate: ({ param, m, v, indices, grad }, attrs) => {
    const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
    const [rows, dim] = rowsDim(param);
    native.sparseAdam(
      param.f32('param'),
      m.f32('m'),
      v.f32('v'),
      rows,
      dim,
      indices.i32('indices'),
      grad.f32('grad'),
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
    native.rowwiseAdagrad(param.f32('param'), state.f32('state'), rows, dim, indices.i32('indices'), grad.f32('grad'), lr, eps, weightDecay);
    return param;
  },
} satisfies KernelGroup;
