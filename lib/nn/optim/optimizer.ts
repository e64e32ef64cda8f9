/** Shared optimizer plumbing: parameter list, per-parameter state, gradient clearing. */
import { RowSparseGrad } from '../../autograd/sparse.js';
import { ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import { keep } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * Base class of the optimizers: holds the parameters (each must have `requiresGrad`) and their
 * per-parameter state (moments, accumulators), created zeroed on a parameter's first update.
 */
export abstract class Optimizer {
  /** The parameters this optimizer updates, in the order given. */
  readonly params: Tensor[];
  protected readonly state = new Map<Tensor, Record<string, Tensor>>();

  constructor(params: Iterable<Tensor>) {
    this.params = [...params];
    if (!this.params.length) throw new ValueError("argument 'params' is empty", 'params');
    this.params.forEach((p, i) => {
      if (!p.requiresGrad) throw new ValueError(`argument 'params'[${i}] does not require gradients`, 'params');
    });
  }

  /** Applies one update from the parameters' current gradients. */
  abstract step(): void;

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The state tensors of `p`, created zeroed on first use and kept across tidy scopes. */
  protected stateOf(p: Tensor, names: readonly string[]): Record<string, Tensor> {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      for (const n of names) s[n] = keep(runKernel('fill', {}, { shape: p.shape, value: 0, device: p.device }));
      this.state.set(p, s);
    }
    return s;
  }

  /** A dense gradient for `p` (row-sparse gradients are densified), or null if none. */
  protected denseGrad(p: Tensor): { grad: Tensor; temporary: boolean } | null {
    const g = p.grad;
    if (!g) return null;
    if (g instanceof RowSparseGrad) return { grad: g.toDense(), temporary: true };
    return { grad: g as Tensor, temporary: false };
  }

  /** Disposes optimizer state. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
  }
}
