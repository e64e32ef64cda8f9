/** Base class of trainable layers: named parameters, nested modules, train/eval mode. */
import { keep } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** Marks `t` as a trainable leaf and keeps it out of tidy scopes. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  return keep(t);
}

/**
 * Base class of trainable layers. Subclasses declare their parameters and children, so
 * `parameters()` (for an optimizer), `zeroGrad()` and train/eval switching work on any tree of
 * layers without each layer listing its descendants.
 */
export abstract class Module {
  /** True in training mode (dropout active etc.). */
  training = true;

  /** Direct parameters of this module, by name. Subclasses list their own. */
  protected ownParameters(): Record<string, Tensor> {
    return {};
  }
  /** Direct child modules, by name. */
  protected children(): Record<string, Module> {
    return {};
  }

  /** All parameters with dotted names, depth first, in a stable order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of Object.entries(this.ownParameters())) out.push([prefix + n, p]);
    for (const [n, m] of Object.entries(this.children())) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** All parameters in the order of {@link Module.namedParameters}: what an optimizer takes. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sets training mode here and below. */
  train(on = true): this {
    this.training = on;
    for (const m of Object.values(this.children())) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Total number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Disposes all parameters. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}
