/** Weighted pooling of padded sequences (the pooling step of target attention). */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { needsGrad, record } from '../engine.js';

/**
 * `out[b, m, :] = Σ_h w[b, m, h] · k[b, h, :]`: M weightings of each sample's H keys at once
 * (e.g. the attention scores under several masks), without materialising [B, M, H, D].
 * @param w float32 [B, M, H]
 * @param k float32 [B, H, D]
 * @returns float32 [B, M, D]
 */
export function weightedPool(w: Tensor, k: Tensor): Tensor {
  w.checkDType('float32', 'w');
  k.checkDType('float32', 'k');
  if (w.rank !== 3 || k.rank !== 3 || w.shape[0] !== k.shape[0] || w.shape[2] !== k.shape[1]) {
    throw new ShapeError(`weightedPool(): arguments 'w' [${w.shape.join(', ')}] and 'k' [${k.shape.join(', ')}] must be [B, M, H] and [B, H, D]`, 'k');
  }
  const out = runKernel('weightedPool', { w, k });
  return record('weightedPool', out, [w, k], (dy) => {
    const [dw, dk] = runKernel(
      'weightedPoolBackward',
      { w, k, dout: dy },
      {
        needW: w.requiresGrad,
        needK: k.requiresGrad,
      },
    );
    return [dw, dk];
  });
}

/**
 * DIN attention scores with one hidden layer, fused in one native pass:
 * `score[b, h] = w2 · act(W1 · [q_b, k_bh, q_b − k_bh, q_b ⊙ k_bh] + b1) + b2`.
 * @param query float32 [B, K]
 * @param keys float32 [B, H, K]
 * @param W1 float32 [A, 4K], b1 [A], w2 [1, A], b2 [1] (Linear layouts)
 * @returns float32 [B, H]
 */
export function dinScores(query: Tensor, keys: Tensor, W1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, activation: 'sigmoid' | 'relu' = 'sigmoid'): Tensor {
  const [B, , K] = keys.shape;
  if (keys.rank !== 3 || query.rank !== 2 || query.shape[0] !== B || query.shape[1] !== K) {
    throw new ShapeError(`dinScores(): 'query' [${query.shape.join(', ')}] and 'keys' [${keys.shape.join(', ')}] must be [B, K] and [B, H, K]`, 'keys');
  }
  const A = W1.shape[0];
  if (W1.rank !== 2 || W1.shape[1] !== 4 * K || b1.size !== A || w2.size !== A || b2.size !== 1) {
    throw new ShapeError(`dinScores(): weights must be W1 [A, ${4 * K}], b1 [A], w2 [1, A], b2 [1]`, 'W1');
  }
  const scores = runKernel('dinScores', { query, keys, W1, b1, w2, b2 }, { activation });
  return record('dinScores', scores, [query, keys, W1, b1, w2, b2], (dy) => {
    const [dq, dk, dW1, db1, dw2, db2] = runKernel(
      'dinScoresBackward',
      { query, keys, W1, b1, w2, dscores: dy },
      {
        activation,
        needQ: query.requiresGrad,
        needK: keys.requiresGrad,
      },
    );
    return [dq, dk, dW1, db1!.view(b1.shape), dw2!.view(w2.shape), db2!.view(b2.shape)];
  });
}

/**
 * Target attention end to end in one native pass (one hidden layer, DIN's unnormalised
 * weights): `rep` packs the queries (rows 0..B) and the keys (B·H rows after them, sample by
 * sample); `masks` ([B, M, H], not differentiated) selects the slots each of M poolings uses:
 * `out[b, m·K .. (m+1)·K) = Σ_h masks[b, m, h] · score(q_b, k_bh) · k_bh`. When gradients are
 * recorded, a backend may keep the scorer's activations for the backward pass in
 * `attrs.cache` (the CPU kernel does, [B, H, ~A] floats; the same bits as recomputing them).
 * @returns float32 [B, M·K]
 */
export function dinAttentionPool(
  rep: Tensor,
  B: number,
  H: number,
  masks: Tensor,
  W1: Tensor,
  b1: Tensor,
  w2: Tensor,
  b2: Tensor,
  activation: 'sigmoid' | 'relu' = 'sigmoid',
): Tensor {
  rep.checkDType('float32', 'rep');
  masks.checkDType('float32', 'masks');
  const K = rep.shape[1];
  if (rep.rank !== 2 || rep.shape[0] !== B + B * H)
    throw new ShapeError(`dinAttentionPool(): argument 'rep' must be [${B + B * H}, K], got [${rep.shape.join(', ')}]`, 'rep');
  if (masks.rank !== 3 || masks.shape[0] !== B || masks.shape[2] !== H)
    throw new ShapeError(`dinAttentionPool(): argument 'masks' must be [${B}, M, ${H}]`, 'masks');
  const A = W1.shape[0];
  if (W1.rank !== 2 || W1.shape[1] !== 4 * K || b1.size !== A || w2.size !== A || b2.size !== 1) {
    throw new ShapeError(`dinAttentionPool(): weights must be W1 [A, ${4 * K}], b1 [A], w2 [1, A], b2 [1]`, 'W1');
  }
  const inputs = [rep, W1, b1, w2, b2];
  const cache: { value?: unknown } | undefined = needsGrad(inputs) ? {} : undefined;
  const out = runKernel('dinAttentionPool', { rep, masks, W1, b1, w2, b2 }, { B, H, activation, cache });
  return record('dinAttentionPool', out, inputs, (dy) => {
    const [drep, dW1, db1, dw2, db2] = runKernel(
      'dinAttentionPoolBackward',
      { rep, masks, W1, b1, w2, b2, dpooled: dy },
      {
        B,
        H,
        activation,
        needRep: rep.requiresGrad,
        cache,
      },
    );
    return [drep, dW1, db1!.view(b1.shape), dw2!.view(w2.shape), db2!.view(b2.shape)];
  });
}
