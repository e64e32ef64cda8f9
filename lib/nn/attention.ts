/** DIN-style target attention over a padded, masked history. */
import { dinAttentionPool, dinScores, weightedPool } from '../autograd/ops/attention.js';
import { add, binaryForward, mul, sub } from '../autograd/ops/arith.js';
import { matmul } from '../autograd/ops/matmul.js';
import { reshape, slice } from '../autograd/ops/shape.js';
import { concatLast, sliceLast } from '../autograd/ops/columns.js';
import { relu, sigmoid } from '../autograd/ops/unary.js';
import { softmax } from '../autograd/ops/softmax.js';
import { ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Options of {@link TargetAttention}. */
export interface TargetAttentionOptions {
  /** Hidden sizes of the scoring MLP (default [36], as DIN). */
  hidden?: number[];
  /** Activation of the hidden layers (default 'sigmoid', as DIN's attention unit). */
  activation?: 'sigmoid' | 'relu';
  /**
   * 'none' (default, DIN): pooled = Σ mask·score·key, weights not normalised so the pooled
   * vector also carries how much matched; 'softmax': softmax of scores over unmasked positions.
   */
  normalize?: 'none' | 'softmax';
  seed?: number;
  /** Use the fused native kernel when there is one hidden layer (default true; false composes generic ops). */
  fused?: boolean;
}

/**
 * The attention unit of DIN (Zhou et al. 2018): for a query q (the target item) and keys k_h
 * (the history items) a small MLP scores [q, k_h, q − k_h, q ⊙ k_h]; the history is pooled
 * with those scores. Several masks can pool the same scores at once (e.g. the whole history
 * and the target-aware subsets of QARM's cross features), so the MLP runs once.
 *
 * The first layer is evaluated without building the [B, H, 4D] input: with
 * W = [Wq | Wk | Wd | Wp], W·[q, k, q−k, q⊙k] = (Wq + Wd)·q + (Wk − Wd)·k + Wp·(q⊙k), and the
 * q term is computed once per sample instead of once per history slot (same function, fewer FLOPs).
 */
export class TargetAttention extends Module {
  readonly layers: Linear[];
  readonly activation: 'sigmoid' | 'relu';
  readonly normalize: 'none' | 'softmax';
  readonly fused: boolean;
  constructor(
    readonly dim: number,
    opts: TargetAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(dim) || dim <= 0) throw new ValueError(`argument 'dim' must be a positive integer, got ${dim}`, 'dim');
    const hidden = opts.hidden ?? [36];
    this.activation = opts.activation ?? 'sigmoid';
    this.normalize = opts.normalize ?? 'none';
    if (!['sigmoid', 'relu'].includes(this.activation)) throw new ValueError("argument 'activation' must be 'sigmoid' or 'relu'", 'activation');
    if (!['none', 'softmax'].includes(this.normalize)) throw new ValueError("argument 'normalize' must be 'none' or 'softmax'", 'normalize');
    this.fused = opts.fused ?? true;
    const g = new Generator(opts.seed ?? 0);
    const sizes = [4 * dim, ...hidden, 1];
    this.layers = sizes.slice(1).map((out, i) => new Linear(sizes[i], out, { generator: g }));
  }

  protected override children(): Record<string, Module> {
    return Object.fromEntries(this.layers.map((l, i) => [String(i), l]));
  }

  /**
   * Attention scores [B, H] of each history slot (before masking).
   * @param query float32 [B, D]
   * @param keys float32 [B, H, D]
   */
  scores(query: Tensor, keys: Tensor): Tensor {
    const D = this.dim;
    if (query.rank !== 2 || query.shape[1] !== D) throw new ShapeError(`argument 'query' must be [B, ${D}], got [${query.shape.join(', ')}]`, 'query');
    const [B, H] = keys.shape;
    if (keys.rank !== 3 || B !== query.shape[0] || keys.shape[2] !== D) {
      throw new ShapeError(`argument 'keys' must be [${query.shape[0]}, H, ${D}], got [${keys.shape.join(', ')}]`, 'keys');
    }
    const first = this.layers[0];
    if (this.layers.length === 2 && this.fused) {
      // One hidden layer (DIN's default): the fused native kernel.
      const last = this.layers[1];
      return dinScores(query, keys, first.weight, first.bias!, last.weight, last.bias!, this.activation);
    }
    const W = first.weight;
    const A = first.outFeatures;
    const wq = slice(W, 1, 0, D),
      wk = slice(W, 1, D, D),
      wd = slice(W, 1, 2 * D, D),
      wp = slice(W, 1, 3 * D, D);
    const qTerm = add(matmul(query, add(wq, wd), { transB: true }), first.bias!); // [B, A]
    const k2 = reshape(keys, [B * H, D]);
    const qk = reshape(mul(reshape(query, [B, 1, D]), keys), [B * H, D]);
    const kTerm = add(matmul(k2, sub(wk, wd), { transB: true }), matmul(qk, wp, { transB: true })); // [B*H, A]
    let h = add(reshape(kTerm, [B, H, A]), reshape(qTerm, [B, 1, A]));
    const act = this.activation === 'sigmoid' ? sigmoid : relu;
    h = act(h);
    h = reshape(h, [B * H, A]);
    for (let i = 1; i < this.layers.length; i++) {
      h = this.layers[i].forward(h);
      if (i < this.layers.length - 1) h = act(h);
    }
    return reshape(h, [B, H]);
  }

  /**
   * Pools `keys` under each mask with the shared scores → one [B, D] tensor per mask.
   * @param masks float32 [B, H] each, 1 where a slot takes part, 0 elsewhere (padding)
   */
  forward(query: Tensor, keys: Tensor, masks: Tensor[]): Tensor[] {
    if (!masks.length) throw new ValueError("argument 'masks' is empty", 'masks');
    const [B, H] = keys.shape;
    masks.forEach((m, i) => {
      if (m.size !== B * H) throw new ShapeError(`argument 'masks'[${i}] must have ${B}x${H} entries, got [${m.shape.join(', ')}]`, `masks[${i}]`);
    });
    const s = this.scores(query, keys);
    const M = masks.length;
    // Stack the masks to [B, M, H] so one weighted pooling handles all of them.
    const maskT = stackMasks(masks, B, H);
    let w: Tensor;
    if (this.normalize === 'softmax') {
      // Masked softmax: masked slots get a large negative score (0 − 1e9·[mask ≤ 0]: +0 where
      // kept); an all-masked row pools to 0.
      const c = (v: number) => runKernel('fill', {}, { shape: [], value: v, device: maskT.device });
      const neg = binaryForward('sub', c(0), binaryForward('mul', binaryForward('le', maskT, c(0)), c(1e9)));
      w = mul(softmax(add(reshape(s, [B, 1, H]), neg)), maskT);
    } else {
      w = mul(reshape(s, [B, 1, H]), maskT);
    }
    const pooled = weightedPool(w, keys); // [B, M, D]
    if (M === 1) return [reshape(pooled, [B, this.dim])];
    const flat = reshape(pooled, [B, M * this.dim]);
    return masks.map((_, mi) => sliceLast(flat, mi * this.dim, this.dim));
  }

  /**
   * Attention over packed representations: `rep` holds the B queries followed by the B·H keys
   * ([B + B·H, dim], keys sample by sample); `masks` are [B, H] each. Returns the M pooled
   * vectors side by side, [B, M·dim]. With one hidden layer and DIN's unnormalised weights this
   * runs as one fused native op (scores, pooling and their gradients, no [B, H, ·] tensors kept).
   */
  forwardPacked(rep: Tensor, B: number, H: number, masks: Tensor[]): Tensor {
    if (!masks.length) throw new ValueError("argument 'masks' is empty", 'masks');
    if (rep.rank !== 2 || rep.shape[1] !== this.dim || rep.shape[0] !== B + B * H) {
      throw new ShapeError(`argument 'rep' must be [${B + B * H}, ${this.dim}], got [${rep.shape.join(', ')}]`, 'rep');
    }
    if (this.fusedPacked) {
      masks.forEach((m, mi) => {
        if (m.size !== B * H) throw new ShapeError(`argument 'masks'[${mi}] must have ${B}x${H} entries`, `masks[${mi}]`);
      });
      return this.forwardPackedStacked(rep, B, H, stackMasks(masks, B, H));
    }
    const query = slice(rep, 0, 0, B);
    const keys = reshape(slice(rep, 0, B, B * H), [B, H, this.dim]);
    return concatLast(this.forward(query, keys, masks));
  }
  /** Whether {@link forwardPacked} runs as the one fused native op (one hidden layer, unnormalised weights). */
  get fusedPacked(): boolean {
    return this.layers.length === 2 && this.fused && this.normalize === 'none';
  }

  /**
   * {@link forwardPacked} with the M masks already stacked sample-major, `masks` [B, M, H] (what
   * the fused op reads; saves building M separate [B, H] masks and restacking them).
   */
  forwardPackedStacked(rep: Tensor, B: number, H: number, masks: Tensor): Tensor {
    if (rep.rank !== 2 || rep.shape[1] !== this.dim || rep.shape[0] !== B + B * H) {
      throw new ShapeError(`argument 'rep' must be [${B + B * H}, ${this.dim}], got [${rep.shape.join(', ')}]`, 'rep');
    }
    if (masks.rank !== 3 || masks.shape[0] !== B || masks.shape[2] !== H || masks.shape[1] < 1) {
      throw new ShapeError(`argument 'masks' must be [${B}, M, ${H}], got [${masks.shape.join(', ')}]`, 'masks');
    }
    if (this.fusedPacked) {
      const [l1, l2] = this.layers;
      return dinAttentionPool(rep, B, H, masks, l1.weight, l1.bias!, l2.weight, l2.bias!, this.activation);
    }
    const M = masks.shape[1];
    const list = Array.from({ length: M }, (_, mi) => {
      const m = runKernel('slice', { x: masks }, { axis: 1, start: mi, length: 1 });
      const v = m.view([B, H]);
      m.dispose();
      return v;
    });
    return this.forwardPacked(rep, B, H, list);
  }
}

/** float32 [B, H] masks (any shape of B·H entries) side by side as [B, M, H], by the concat kernel. */
function stackMasks(masks: readonly Tensor[], B: number, H: number): Tensor {
  const views = masks.map((m, mi) => {
    m.checkDType('float32', `masks[${mi}]`);
    return m.view([B, 1, H]);
  });
  const out = runKernel('concat', Object.fromEntries(views.map((v, mi) => [`masks_${mi}`, v])), { axis: 1 });
  for (const v of views) v.dispose();
  return out;
}
