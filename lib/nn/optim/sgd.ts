import { runKernel, type KernelInputs } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkHyper } from './hyper.js';
import { Optimizer } from './optimizer.js';

/** Options of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
}

/** Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, as torch.optim.SGD. */
export class SGD extends Optimizer {
  readonly opts: Required<SGDOptions>;
  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super(params);
    this.opts = { momentum: 0, weightDecay: 0, nesterov: false, ...opts };
    checkHyper({ lr: this.opts.lr, momentum: this.opts.momentum, weightDecay: this.opts.weightDecay });
  }

  step(): void {
    for (const p of this.params) {
      const dg = this.denseGrad(p);
      if (!dg) continue;
      const inputs: KernelInputs<'sgdUpdate'> = { param: p, grad: dg.grad };
      if (this.opts.momentum !== 0) inputs.velocity = this.stateOf(p, ['velocity']).velocity;
      runKernel('sgdUpdate', inputs, this.opts);
      if (dg.temporary) dg.grad.dispose();
    }
  }
}
