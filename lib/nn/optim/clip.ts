import { RowSparseGrad } from '../../autograd/sparse.js';
import { ValueError } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_).
 * Row-sparse gradients are coalesced first (duplicate rows summed), so the norm is that of
 * the true gradient. Returns the norm before clipping (accumulated in float64).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new ValueError(`argument 'maxNorm' must be positive, got ${maxNorm}`, 'maxNorm');
  const arrays: Float32Array[] = [];
  for (const p of params) {
    let g = p.grad;
    if (!g) continue;
    if (g instanceof RowSparseGrad) {
      const c = g.coalesce();
      if (c !== g) {
        g.dispose();
        p.grad = c.keep();
      }
      g = c;
    }
    arrays.push(g instanceof RowSparseGrad ? g.values.f32() : (g as Tensor).f32());
  }
  const norm = l2Norm(arrays);
  scaleToNorm(arrays, norm, maxNorm);
  return norm;
}

/** The L2 norm of the arrays together, squares summed in float64 in order. @internal */
export function l2Norm(arrays: readonly Float32Array[]): number {
  let sq = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
  return Math.sqrt(sq);
}

/**
 * Scales `arrays` in place by maxNorm / (norm + 1e-6) when `norm` is above `maxNorm`, as
 * {@link clipGradNorm} does; row-wise sharded training clips with a norm of the whole gradient
 * while each rank holds only its rows. @internal
 */
export function scaleToNorm(arrays: readonly Float32Array[], norm: number, maxNorm: number): void {
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] *= s;
  }
}
