/**
 * CPU kernels of attention: weighted pooling of padded sequences and the fused DIN scorer and
 * target-attention pooling, forward and backward. Thin wrappers over
 * native/binding/bind_attention.cc.
 */
import { uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';

declare module '../native.js' {
  interface NativeAddon {
    dinScoresForward(
      q: Float32Array,
      k: Float32Array,
      W1: Float32Array,
      b1: Float32Array,
      w2: Float32Array,
      b2: number,
      act: number,
      B: number,
      H: number,
      K: number,
      A: number,
      scores: Float32Array,
    ): void;
    dinScoresBackward(
      q: Float32Array,
      k: Float32Array,
      W1: Float32Array,
      b1: Float32Array,
      w2: Float32Array,
      dscores: Float32Array,
      act: number,
      B: number,
      H: number,
      K: number,
      A: number,
      dq: Float32Array | null,
      dk: Float32Array | null,
      dW1: Float32Array,
      db1: Float32Array,
      dw2: Float32Array,
      db2: Float32Array,
    ): void;
    dinAttentionPool(
      rep: Float32Array,
      B: number,
      H: number,
      K: number,
      masks: Float32Array,
      M: number,
      W1: Float32Array,
      b1: Float32Array,
      w2: Float32Array,
      b2: number,
      act: number,
      A: number,
      pooled: Float32Array,
      keep?: boolean,
    ): Float32Array | undefined;
    dinAttentionPoolBackward(
      rep: Float32Array,
      B: number,
      H: number,
      K: number,
      masks: Float32Array,
      M: number,
      W1: Float32Array,
      b1: Float32Array,
      w2: Float32Array,
      b2: number,
      act: number,
      A: number,
      dpooled: Float32Array,
      drep: Float32Array | null,
      dW1: Float32Array,
      db1: Float32Array,
      dw2: Float32Array,
      db2: Float32Array,
      cache?: Float32Array | null,
    ): void;
    weightedPool(w: Float32Array, k: Float32Array, out: Float32Array, B: number, M: number, H: number, D: number): void;
    weightedPoolBackward(
      w: Float32Array,
      k: Float32Array,
      dout: Float32Array,
      dw: Float32Array | null,
      dk: Float32Array | null,
      B: number,
      M: number,
      H: number,
      D: number,
    ): void;
  }
}

const ACT = { sigmoid: 0, relu: 1 } as const;

// The scorer activations a forward kept in `attrs.cache`, when it ran on this backend.
const cachedScores = (cache: { value?: unknown } | undefined) => (cache?.value instanceof Float32Array ? cache.value : null);

/** Attention kernels on the CPU. @internal */
export const cpuAttentionKernels = {
  // out[b, m, :] = Σ_h w[b, m, h] k[b, h, :] (attention pooling of a padded sequence).
  weightedPool: ({ w, k }) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const out = Tensor.fromArray(new Float32Array(B * M * D), [B, M, D], 'float32');
    native.weightedPool(w.f32('w'), k.f32('k'), out.f32(), B, M, H, D);
    return out;
  },

  weightedPoolBackward: ({ w, k, dout }, attrs) => {
    const [B, M, H] = w.shape;
    const D = k.shape[2];
    const dw = attrs.needW ? Tensor.fromArray(new Float32Array(B * M * H), w.shape, 'float32') : null;
    const dk = attrs.needK ? Tensor.fromArray(new Float32Array(B * H * D), k.shape, 'float32') : null;
    native.weightedPoolBackward(w.f32('w'), k.f32('k'), dout.f32('dout'), dw ? dw.f32() : null, dk ? dk.f32() : null, B, M, H, D);
    return [dw, dk];
  },

  // Fused one-hidden-layer DIN scoring → scores [B, H].
  dinScores: ({ query, keys, W1, b1, w2, b2 }, attrs) => {
    const [B, H, K] = keys.shape;
    const A = W1.shape[0];
    const scores = Tensor.fromArray(new Float32Array(B * H), [B, H], 'float32');
    native.dinScoresForward(
      query.f32('query'),
      keys.f32('keys'),
      W1.f32('W1'),
      b1.f32('b1'),
      w2.f32('w2'),
      b2.f32('b2')[0],
      ACT[attrs.activation],
      B,
      H,
      K,
      A,
      scores.f32(),
    );
    return scores;
  },

  dinScoresBackward: ({ query, keys, W1, b1, w2, dscores }, attrs) => {
    const [B, H, K] = keys.shape;
    const A = W1.shape[0];
    const mk = (shape: number[]) => Tensor.fromArray(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
    const dq = attrs.needQ ? mk([B, K]) : null;
    const dk = attrs.needK ? mk([B, H, K]) : null;
    const dW1 = mk([A, 4 * K]),
      db1 = mk([A]),
      dw2 = mk([1, A]),
      db2 = mk([1]);
    native.dinScoresBackward(
      query.f32('query'),
      keys.f32('keys'),
      W1.f32('W1'),
      b1.f32('b1'),
      w2.f32('w2'),
      dscores.f32('dscores'),
      ACT[attrs.activation],
      B,
      H,
      K,
      A,
      dq ? dq.f32() : null,
      dk ? dk.f32() : null,
      dW1.f32(),
      db1.f32(),
      dw2.f32(),
      db2.f32(),
    );
    return [dq, dk, dW1, db1, dw2, db2];
  },

  // Fused target attention over packed [queries; keys] rows → pooled [B, M·K].
  dinAttentionPool: ({ rep, masks, W1, b1, w2, b2 }, attrs) => {
    const { B, H, activation } = attrs;
    const K = rep.shape[1];
    const M = masks.shape[1];
    const A = W1.shape[0];
    const out = uninitialized([B, M * K]); // every sample's rows are cleared, then pooled into
    // attrs.cache (when given): the native scores and hidden activations go there for the backward.
    const holder = attrs.cache;
    const cache = native.dinAttentionPool(
      rep.f32('rep'),
      B,
      H,
      K,
      masks.f32('masks'),
      M,
      W1.f32('W1'),
      b1.f32('b1'),
      w2.f32('w2'),
      b2.f32('b2')[0],
      ACT[activation],
      A,
      out.f32(),
      !!holder,
    );
    if (holder) holder.value = cache;
    return out;
  },

  dinAttentionPoolBackward: ({ rep, masks, W1, b1, w2, b2, dpooled }, attrs) => {
    const { B, H, activation, needRep } = attrs;
    const K = rep.shape[1];
    const M = masks.shape[1];
    const A = W1.shape[0];
    const mk = (shape: number[]) => Tensor.fromArray(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
    // Every drep row is written (inactive slots and empty samples get explicit zeros).
    const drep = needRep ? uninitialized(rep.shape) : null;
    const dW1 = mk([A, 4 * K]),
      db1 = mk([A]),
      dw2 = mk([1, A]),
      db2 = mk([1]);
    native.dinAttentionPoolBackward(
      rep.f32('rep'),
      B,
      H,
      K,
      masks.f32('masks'),
      M,
      W1.f32('W1'),
      b1.f32('b1'),
      w2.f32('w2'),
      b2.f32('b2')[0],
      ACT[activation],
      A,
      dpooled.f32('dpooled'),
      drep ? drep.f32() : null,
      dW1.f32(),
      db1.f32(),
      dw2.f32(),
      db2.f32(),
      cachedScores(attrs.cache),
    );
    return [drep, dW1, db1, dw2, db2];
  },
} satisfies KernelGroup;
