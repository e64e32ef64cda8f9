import { RowSparseGrad } from '../../autograd/sparse.js';
import { ValueError } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new ValueError(`argument 'maxNorm' must be positive, got ${maxNorm}`, 'maxNorm');
  const arrays: Float32Array[] = [];
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    arrays.push(g instanceof RowSparseGrad ? g.values.f32() : (g as Tensor).f32());
  }
  let sq = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] *= s;
  }
  return norm;
}
