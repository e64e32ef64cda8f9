/** Fully connected layer y = x Wᵀ + b. */
import { add } from '../autograd/ops/arith.js';
import { matmul } from '../autograd/ops/matmul.js';
import { reshape } from '../autograd/ops/shape.js';
import { ShapeError, ValueError } from '../errors.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniform } from './init.js';
import { Module, parameter } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /** Generator to draw from instead of a seed (used by containers). */
  generator?: Generator;
}

/**
 * `y = x Wᵀ + b` with W of shape [out, in] (PyTorch layout) initialised
 * U(−1/√in, 1/√in), as PyTorch's default.
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    for (const [n, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new ValueError(`argument '${n}' must be a positive integer, got ${v}`, n);
    }
    const g = opts.generator ?? new Generator(opts.seed ?? 0);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = parameter(uniform([outFeatures, inFeatures], bound, g));
    this.bias = opts.bias === false ? null : parameter(uniform([outFeatures], bound, g));
  }

  protected override ownParameters(): Record<string, Tensor> {
    return this.bias ? { weight: this.weight, bias: this.bias } : { weight: this.weight };
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear(${this.inFeatures}, ${this.outFeatures}): argument 'x' has shape [${x.shape.join(', ')}], last axis must be ${this.inFeatures}`,
        'x',
      );
    }
    // reshape (not view) keeps a 1-D input on the tape.
    const x2 = x.rank === 1 ? reshape(x, [1, this.inFeatures]) : x;
    let y = matmul(x2, this.weight, { transB: true });
    if (this.bias) y = add(y, this.bias);
    return x.rank === 1 ? reshape(y, [this.outFeatures]) : y;
  }
}
