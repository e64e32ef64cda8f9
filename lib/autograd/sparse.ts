/**
 * Row-sparse gradients, the gradient type of embedding tables: `values[i]` is the gradient
 * of row `indices[i]` of a `[numRows, ...rowShape]` parameter. Indices may repeat until
 * {@link RowSparseGrad.coalesce} sums them (sparse optimizers coalesce before updating).
 */
import { keep } from '../tensor/memory.js';
import { runKernel } from '../tensor/backend.js';
import { empty } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A gradient that names only the rows a batch touched, so an embedding table with millions of
 * rows is updated at the cost of the batch, not the table. Sparse optimizers accept it in
 * `param.grad`; {@link RowSparseGrad.toDense} gives the dense equivalent.
 */
export class RowSparseGrad {
  constructor(
    /** int32 [n] row ids. */
    readonly indices: Tensor,
    /** float32 [n, ...rowShape] gradient rows. */
    readonly values: Tensor,
    /** Shape of the dense parameter this gradient belongs to. */
    readonly denseShape: readonly number[],
    /** True when `indices` are unique and ascending. */
    readonly coalesced = false,
  ) {}

  /** Keeps both parts out of enclosing tidy scopes. @internal */
  keep(): this {
    keep(this.indices);
    keep(this.values);
    return this;
  }

  /** Both gradients' rows, unmerged. */
  static concat(a: RowSparseGrad, b: RowSparseGrad): RowSparseGrad {
    // Kernels, not host copies, so gradients of device tables stay on their device.
    const idx = runKernel('concat', { a: a.indices, b: b.indices }, { axis: 0 });
    const vals = runKernel('concat', { a: a.values, b: b.values }, { axis: 0 });
    a.dispose();
    b.dispose();
    return new RowSparseGrad(idx, vals, a.denseShape);
  }

  /**
   * Unique ascending rows with summed values. Deterministic: each row's values are added in
   * order of appearance (native stable sort, whatever the thread count).
   */
  coalesce(): RowSparseGrad {
    if (this.coalesced) return this;
    const [idx, values] = runKernel(
      'coalesceRows',
      { indices: this.indices, source: this.values },
      {
        rows: this.denseShape[0],
        rowShape: this.denseShape.slice(1),
      },
    );
    return new RowSparseGrad(idx, values, this.denseShape, true);
  }

  /** A dense tensor equal to `dense + this`. */
  addToDense(dense: Tensor): Tensor {
    const out = runKernel('copy', { x: dense });
    runKernel('scatterAddRows', { target: out, indices: this.indices, source: this.values });
    return out;
  }

  /** The dense equivalent. */
  toDense(): Tensor {
    const out = empty(this.denseShape);
    runKernel('scatterAddRows', { target: out, indices: this.indices, source: this.values });
    return out;
  }

  dispose(): void {
    this.indices.dispose();
    this.values.dispose();
  }
}
