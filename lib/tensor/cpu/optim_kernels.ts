/**
 * Dense optimizer updates on the CPU, in place on the parameter and its state. They are
 * kernels (not inline loops in the optimizers) so a device backend can supply its own.
 */
import type { KernelGroup } from '../kernel_table.js';

/** Dense optimizer steps on the CPU. @internal */
export const cpuOptimKernels = {
  sgdUpdate: ({ param, grad, velocity }, attrs) => {
    const { lr, momentum, weightDecay, nesterov } = attrs;
    const p = param.f32('param');
    const g = grad.f32('grad');
    const v = velocity ? velocity.f32('velocity') : null;
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + weightDecay * p[i];
      if (v) {
        v[i] = momentum * v[i] + d;
        d = nesterov ? d + momentum * v[i] : v[i];
      }
      p[i] -= lr * d;
    }
    return param;
  },

  adamUpdate: ({ param, grad, m, v }, attrs) => {
    const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
    const p = param.f32('param');
    const g = grad.f32('grad');
    const ma = m.f32('m');
    const va = v.f32('v');
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (let i = 0; i < p.length; i++) {
      let gi = g[i];
      if (weightDecay !== 0) {
        if (decoupled) p[i] -= lr * weightDecay * p[i];
        else gi += weightDecay * p[i];
      }
      ma[i] = beta1 * ma[i] + (1 - beta1) * gi;
      va[i] = beta2 * va[i] + (1 - beta2) * gi * gi;
      p[i] -= (stepSize * ma[i]) / (Math.sqrt(va[i]) / sqrtBc2 + eps);
    }
    return param;
  },
} satisfies KernelGroup;
