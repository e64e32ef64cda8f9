import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { resolveAdamOptions, type AdamOptions } from './hyper.js';
import { Optimizer } from './optimizer.js';

export type { AdamOptions };

/**
 * Dense Adam (Kingma & Ba) with bias correction, as torch.optim.Adam / AdamW. Row-sparse
 * gradients are densified here; use the sparse optimizers for embedding tables.
 */
export class Adam extends Optimizer {
  readonly opts: Required<AdamOptions>;
  private steps = new Map<Tensor, number>();
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params);
    this.opts = resolveAdamOptions(opts);
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
