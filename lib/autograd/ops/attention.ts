/** Weighted pooling of padded sequences (the pooling step of target attention). */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';

/**
 * `out[b, m, :] = Σ_h w[b, m, h] · k[b, h, :]`: M weightings of each sample's H keys at once
 * (e.g. the attention scores under several masks), without materialising [B, M, H, D].
 * @param w float32 [B, M, H]
 * @param k float32 [B, H, D]
 * @returns float32 [B, M, D]
 */
export function weightedPool(w: Tensor, k: Tensor): Tensor {
  w.f32('w');
  k.f32('k');
  if (w.rank !== 3 || k.rank !== 3 || w.shape[0] !== k.shape[0] || w.shape[2] !== k.shape[1]) {
    throw new ShapeError(`weightedPool(): arguments 'w' [${w.shape.join(', ')}] and 'k' [${k.shape.join(', ')}] must be [B, M, H] and [B, H, D]`, 'k');
  }
  const out = runKernel<Tensor>('weightedPool', { w, k });
  return record('weightedPool', out, [w, k], (dy) => {
    const [dw, dk] = runKernel<[Tensor | null, Tensor | null]>('weightedPoolBackward', { w, k, dout: dy }, {
      needW: w.requiresGrad,
      needK: k.requiresGrad,
    });
    return [dw, dk];
  });
}
