/** Multi-layer perceptron: Linear layers with an activation between them. */
import { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
import { ValueError } from '../errors.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Nonlinearity between the layers of an {@link MLP}. */
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'none';

/** Options of {@link MLP}. */
export interface MLPOptions {
  /** Activation between layers (default relu). */
  activation?: Activation;
  /** Apply the activation after the last layer too (default false). */
  activateLast?: boolean;
  /** Seed of the initialisation (default 0). */
  seed?: number;
}

const ACTIVATIONS: Record<Activation, (x: Tensor) => Tensor> = { relu, tanh, sigmoid, none: (x) => x };

/** `sizes = [in, h1, ..., out]` → Linear(in,h1) → act → ... → Linear(.., out). */
export class MLP extends Module {
  readonly layers: Linear[];
  private readonly act: (x: Tensor) => Tensor;
  private readonly activateLast: boolean;
  constructor(
    readonly sizes: readonly number[],
    opts: MLPOptions = {},
  ) {
    super();
    if (!Array.isArray(sizes) || sizes.length < 2) throw new ValueError("argument 'sizes' needs at least [in, out]", 'sizes');
    const act = opts.activation ?? 'relu';
    if (!(act in ACTIVATIONS)) throw new ValueError(`argument 'activation' must be one of ${Object.keys(ACTIVATIONS).join(', ')}`, 'activation');
    const g = new Generator(opts.seed ?? 0);
    this.layers = sizes.slice(1).map((out, i) => new Linear(sizes[i], out, { generator: g }));
    this.act = ACTIVATIONS[act];
    this.activateLast = opts.activateLast ?? false;
  }

  protected override children(): Record<string, Module> {
    return Object.fromEntries(this.layers.map((l, i) => [String(i), l]));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1 || this.activateLast) h = this.act(h);
    });
    return h;
  }
}
