import { ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkHyper } from './hyper.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (Adam) or decoupled decay (AdamW, with `decoupled`). */
  weightDecay?: number;
  decoupled?: boolean;
}

/**
 * Dense Adam (Kingma & Ba) with bias correction, as torch.optim.Adam / AdamW. Row-sparse
 * gradients are densified here; use the sparse optimizers for embedding tables.
 */
export class Adam extends Optimizer {
  readonly opts: Required<AdamOptions>;
  private steps = new Map<Tensor, number>();
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params);
    this.opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...opts };
    checkHyper({ lr: this.opts.lr, eps: this.opts.eps, weightDecay: this.opts.weightDecay });
    for (const b of ['beta1', 'beta2'] as const) {
      const v = this.opts[b];
      if (!(v >= 0 && v < 1)) throw new ValueError(`argument '${b}' must be in [0, 1), got ${v}`, b);
    }
  }

  step(): void {
    for (const p of this.params) {
      const dg = this.denseGrad(p);
      if (!dg) continue;
      const s = this.stateOf(p, ['m', 'v']);
      const t = (this.steps.get(p) ?? 0) + 1;
      this.steps.set(p, t);
      runKernel('adamUpdate', { param: p, grad: dg.grad, m: s.m, v: s.v }, { ...this.opts, step: t });
      if (dg.temporary) dg.grad.dispose();
    }
  }
}
