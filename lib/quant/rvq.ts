/**
 * Trainable residual vector quantiser on the autograd tape (what vector-quantize-pytorch users
 * expect): straight-through estimator, codebook loss + β·commitment loss, optional EMA codebook
 * updates with Laplace smoothing, dead-code restarts from the current batch, and k-means
 * initialisation from the first batch. The level forward (gather + residual), the STE backward
 * and the codebook-gradient scatter-add are native kernels (native/core/quant.h). Training
 * steps, the k-means init, the EMA update and the restarts included, run on kernels on the
 * codebooks' device; usage, EMA statistics and restart counts stay there (float64 as int32
 * bit pairs) and are copied to the host when read.
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { add, mul } from '../autograd/ops/arith.js';
import { noGrad, record } from '../autograd/engine.js';
import { Module } from '../nn/module.js';
import { runKernel } from '../tensor/backend.js';
import { randn } from '../tensor/creation.js';
import { keep } from '../tensor/memory.js';
import { Generator } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { f64FromBits } from '../tensor/f64_bits.js';
import { Tensor } from '../tensor/tensor.js';
import { kmeans } from './kmeans.js';
import { nearest } from './nearest.js';
import { residualEncode } from './residual.js';

/** Result of {@link residualQuantize} and {@link ResidualVQ.forward}. */
export interface ResidualQuantizeResult {
  /** float32 `[N, D]`: sum of the chosen codewords; its gradient passes to `x` unchanged (STE). */
  quantized: Tensor;
  /** int32 `[N, levels]`. */
  codes: Tensor;
  /** codebookLoss + β · commitLoss (ResidualVQ with EMA: β · commitLoss). */
  loss: Tensor;
  /** Σ_l mean ||sg(r_l) − q_l||², gradient to the codebooks only. */
  codebookLoss: Tensor;
  /** Σ_l mean ||r_l − sg(q_l)||², gradient to x only. */
  commitLoss: Tensor;
  /** @internal Residual entering each level, float32 `[N, D]` each (no gradient). */
  levelInputs: Tensor[];
}

/** Host-made int32 words as a kept tensor on `device` (an upload: no tensor memory is read). */
function uploadKept(words: Int32Array, device: Device): Tensor {
  const host = Tensor.fromArray(words, [words.length], 'int32');
  if (device === 'cpu') return keep(host);
  const moved = host.to(device);
  host.dispose();
  return keep(moved);
}

/** `t` on `device`, kept; `t` is released. */
function moveKept(t: Tensor, device: Device): Tensor {
  const moved = keep(t.to(device));
  t.dispose();
  return moved;
}

/** `count` float64 copies of `value` on `device`, as int32 [count, 2] bits. */
function f64Filled(count: number, value: number, device: Device): Tensor {
  const t = uploadKept(new Int32Array(new Float64Array(count).fill(value).buffer), device);
  const shaped = keep(t.view([count, 2]));
  t.dispose();
  return shaped;
}

function scalar(v: number): Tensor {
  return Tensor.fromArray(Float32Array.of(v), [], 'float32');
}

/**
 * Greedy residual quantisation of `x` [N, D] by `codebooks` (each [K_l, D]) with the losses of
 * VQ-VAE: r_1 = x, q_l = nearest codeword of r_l, r_{l+1} = r_l − sg(q_l).
 */
export function residualQuantize(x: Tensor, codebooks: Tensor[], opts: { beta?: number } = {}): ResidualQuantizeResult {
  const beta = opts.beta ?? 0.25;
  if (!(x instanceof Tensor)) throw new ValueError("argument 'x' must be a Tensor", 'x');
  if (x.dtype !== 'float32') throw new DTypeError(`argument 'x' must be float32, got ${x.dtype}`, 'x');
  if (x.rank !== 2 || x.shape[0] === 0) throw new ShapeError(`argument 'x' must be 2-D [N, D] with N > 0, got [${x.shape.join(', ')}]`, 'x');
  if (!Array.isArray(codebooks) || codebooks.length === 0) throw new ValueError("argument 'codebooks' must be a non-empty array", 'codebooks');
  if (!Number.isFinite(beta) || beta < 0) throw new ValueError(`argument 'beta' must be finite and >= 0, got ${beta}`, 'beta');
  const [n, d] = x.shape;
  const L = codebooks.length;
  const nd = n * d;
  codebooks.forEach((cb, l) => {
    if (!(cb instanceof Tensor) || cb.dtype !== 'float32' || cb.rank !== 2 || cb.shape[1] !== d) {
      throw new ShapeError(`argument 'codebooks' entry ${l} must be float32 [K, ${d}]`, 'codebooks');
    }
  });
  const { codes, quantized, squaredError, levelCodes, residuals } = noGrad(() => residualEncode(x, codebooks, { keepLevels: true }));
  const levelInputs = residuals.slice(0, L);
  // r_{l+1} of every level as one [L, N·D] block: what the commitment gradient reads.
  const outputs = residuals.slice(1).map((r) => r.view([1, nd]));
  const rows = runKernel('concat', Object.fromEntries(outputs.map((r, l) => [`r${l}`, r])), { axis: 0 });
  for (const r of outputs) r.dispose();
  residuals[L].dispose();
  const value = squaredError / nd;
  record('rvqSte', quantized, [x], (dy) => [runKernel('rvqSteBackward', { gradOut: dy }, { levels: 0, shape: x.shape, scale: 0 })]);
  const commitLoss = record('rvqCommitment', scalar(value), [x], (dy) => [
    runKernel('rvqSteBackward', { rows }, { levels: L, shape: x.shape, scale: (2 * dy.item()) / nd }),
  ]);
  const codebookLoss = record('rvqCodebookLoss', scalar(value), codebooks, (dy) => {
    const scale = (-2 * dy.item()) / nd;
    return codebooks.map((cb, l) => {
      if (!cb.requiresGrad) return null;
      const g = runKernel('fill', {}, { shape: cb.shape, value: 0, device: cb.device });
      const r = runKernel('slice', { x: rows }, { axis: 0, start: l, length: 1 });
      const rl = r.view([n, d]);
      runKernel('vqScatterAddScaled', { grad: g, codes: levelCodes[l], rows: rl }, { scale });
      rl.dispose();
      r.dispose();
      return g;
    });
  });
  const weighted = beta === 0 ? null : mul(commitLoss, beta);
  const loss = weighted === null ? add(codebookLoss, 0) : add(codebookLoss, weighted);
  // What nothing recorded holds (no-grad mode, e.g. encode(), or inputs without gradients):
  // the backward closures are the only readers of rows and levelCodes.
  if (!codebookLoss.gradFn) for (const c of levelCodes) c.dispose();
  if (!codebookLoss.gradFn && !commitLoss.gradFn) rows.dispose();
  if (!loss.gradFn) weighted?.dispose();
  return { quantized, codes, loss, codebookLoss, commitLoss, levelInputs };
}

/** Options of {@link ResidualVQ}. */
export interface ResidualVQOptions {
  /** Embedding dimension D. */
  dim: number;
  /** Number of levels. */
  levels: number;
  /** Codewords per level (one number or one per level). */
  codebookSize: number | number[];
  /** Commitment weight β. Default 0.25. */
  beta?: number;
  /** Update codebooks by exponential moving averages instead of gradients. Default false. */
  ema?: boolean;
  /** EMA decay (also used for the usage statistics). Default 0.99. */
  decay?: number;
  /** Laplace smoothing of EMA counts. Default 1e-5. */
  eps?: number;
  /**
   * Restart codes whose moving-average usage (assignments per batch) falls below this, with
   * rows of the current batch's residual. 0 (default) turns restarts off.
   */
  deadCodeThreshold?: number;
  /** Initialise every level by k-means on the first training batch. Default true. */
  kmeansInit?: boolean;
  /** Lloyd iterations of that initialisation. Default 10. */
  kmeansIterations?: number;
  /** Seed of the initial codebooks, k-means and restarts. Default 0. */
  seed?: number;
}

/** A trainable residual vector quantiser (see {@link residualQuantize}). */
export class ResidualVQ extends Module {
  readonly dim: number;
  readonly levels: number;
  readonly codebookSizes: number[];
  readonly beta: number;
  readonly ema: boolean;
  readonly decay: number;
  readonly eps: number;
  readonly deadCodeThreshold: number;
  readonly kmeansInit: boolean;
  readonly kmeansIterations: number;
  /** float32 `[K_l, D]` per level. */
  readonly codebooks: Tensor[];
  /**
   * Moving average of assignments per batch, per level and code. The state lives on the
   * codebooks' device; each read is a host copy (one readHost per level).
   */
  get usage(): Float64Array[] {
    return this.usageT.map((t) => f64FromBits(t.readHost()));
  }
  /** EMA statistics (ema mode): counts N_k per level (a host copy, like `usage`). */
  get emaCounts(): Float64Array[] {
    return this.emaCountsT.map((t) => f64FromBits(t.readHost()));
  }
  /** EMA sums m_k per level, [K_l · D] each (a host copy, like `usage`). */
  get emaSums(): Float64Array[] {
    return this.emaSumsT.map((t) => f64FromBits(t.readHost()));
  }
  /** Codes restarted so far, per level (read from the device). */
  get restarts(): number[] {
    return this.restartsT.map((t) => t.readHost()[0]);
  }
  /** Whether the codebooks were initialised (k-means init happens on the first training batch). */
  initialized: boolean;
  // Training state on the codebooks' device: float64 as int32 bit pairs (f64_bits.ts).
  private readonly usageT: Tensor[];
  private readonly emaCountsT: Tensor[];
  private readonly emaSumsT: Tensor[];
  private readonly restartsT: Tensor[];
  /** The restarts' seeded stream on the device, taken over from `gen` at its first use. */
  private rngT: Tensor | null = null;
  private readonly gen: Generator;
  private readonly seed: number;

  constructor(opts: ResidualVQOptions) {
    super();
    const o = opts ?? ({} as ResidualVQOptions);
    if (!Number.isInteger(o.dim) || o.dim < 1) throw new ValueError(`argument 'dim' must be a positive integer, got ${o.dim}`, 'dim');
    if (!Number.isInteger(o.levels) || o.levels < 1) throw new ValueError(`argument 'levels' must be a positive integer, got ${o.levels}`, 'levels');
    const sizes = Array.isArray(o.codebookSize) ? o.codebookSize.slice() : new Array<number>(o.levels).fill(o.codebookSize);
    if (sizes.length !== o.levels || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
      throw new ValueError(`argument 'codebookSize' must be a positive integer or ${o.levels} of them`, 'codebookSize');
    }
    this.dim = o.dim;
    this.levels = o.levels;
    this.codebookSizes = sizes;
    this.beta = o.beta ?? 0.25;
    this.ema = o.ema ?? false;
    this.decay = o.decay ?? 0.99;
    this.eps = o.eps ?? 1e-5;
    this.deadCodeThreshold = o.deadCodeThreshold ?? 0;
    this.kmeansInit = o.kmeansInit ?? true;
    this.kmeansIterations = o.kmeansIterations ?? 10;
    this.seed = o.seed ?? 0;
    if (!(this.decay >= 0 && this.decay < 1)) throw new ValueError(`argument 'decay' must be in [0, 1), got ${this.decay}`, 'decay');
    if (!(this.beta >= 0)) throw new ValueError(`argument 'beta' must be >= 0, got ${this.beta}`, 'beta');
    // forward() and encode() pass beta to residualQuantize, which needs it finite.
    if (!Number.isFinite(this.beta)) throw new ValueError(`argument 'beta' must be finite, got ${this.beta}`, 'beta');
    this.gen = new Generator(this.seed);
    this.codebooks = sizes.map((k, l) => {
      const t = keep(randn([k, this.dim], { seed: this.seed * 7919 + l + 1 }));
      t.requiresGrad = !this.ema;
      return t;
    });
    this.usageT = sizes.map((k) => f64Filled(k, this.deadCodeThreshold, 'cpu'));
    this.emaCountsT = sizes.map((k) => f64Filled(k, 1, 'cpu'));
    this.emaSumsT = this.codebooks.map((c) => keep(runKernel('f32ToF64', { x: c })));
    this.restartsT = sizes.map(() => keep(runKernel('fill', {}, { shape: [1], value: 0, dtype: 'int32' })));
    this.initialized = !this.kmeansInit;
  }

  protected override ownParameters(): Record<string, Tensor> {
    if (this.ema) return {};
    const out: Record<string, Tensor> = {};
    this.codebooks.forEach((c, l) => (out[`codebook_${l}`] = c));
    return out;
  }

  /**
   * k-means on the residuals of `x`, level by level, on kernels on x's device (a level with
   * fewer rows than codes takes random rows, drawn on the host). The codebooks are written in
   * place, so optimizers holding them keep working.
   */
  private initFrom(x: Tensor): void {
    const [n, d] = x.shape;
    const device = x.device;
    if (this.rngT) {
      // A re-initialisation draws its random rows from the stream where the device left it.
      this.gen.setState(this.rngT.readHost());
      this.rngT.dispose();
      this.rngT = null;
    }
    noGrad(() => {
      let residual = runKernel('copy', { x });
      const zeros = () => runKernel('fill', {}, { shape: [n, d], value: 0, device });
      for (let l = 0; l < this.levels; l++) {
        const K = this.codebookSizes[l];
        const cb = this.codebooks[l];
        if (n >= K) {
          const km = kmeans(residual, { k: K, iterations: this.kmeansIterations, seed: this.seed + l, maxPointsPerCentroid: 0 });
          runKernel('copyInto', { x: km.centroids, out: cb });
          km.centroids.dispose();
          km.assignments.dispose();
        } else {
          const ids = Int32Array.from({ length: K }, () => this.gen.int(n));
          const host = Tensor.fromArray(ids, [K], 'int32');
          const idt = device === 'cpu' ? host : host.to(device);
          const rows = runKernel('gatherRows', { table: residual, indices: idt }, { argName: 'x' });
          runKernel('copyInto', { x: rows, out: cb });
          for (const t of new Set([host, idt, rows])) t.dispose();
        }
        const replace = (list: Tensor[], t: Tensor) => {
          list[l].dispose();
          list[l] = t;
        };
        replace(this.emaCountsT, f64Filled(K, 1, device));
        replace(this.emaSumsT, keep(runKernel('f32ToF64', { x: cb })));
        replace(this.usageT, f64Filled(K, n / K, device));
        const { indices, distances } = nearest(residual, cb, { k: 1 });
        distances.dispose();
        const next = zeros();
        const q = zeros();
        runKernel('rvqLevelForward', { residual, codebook: cb, codes: indices, quantized: q, next });
        indices.dispose();
        q.dispose();
        residual.dispose();
        residual = next;
      }
      residual.dispose();
    });
    this.initialized = true;
  }

  /**
   * Quantises `x` [N, D]. In training mode this also initialises (first batch), applies the
   * EMA update (ema mode) and restarts dead codes — after computing this batch's outputs.
   */
  forward(x: Tensor): ResidualQuantizeResult {
    if (x instanceof Tensor && x.rank === 2 && x.shape[1] !== this.dim) {
      throw new ShapeError(`argument 'x' has dim ${x.shape[1]}, the quantiser has ${this.dim}`, 'x');
    }
    if (this.training && !this.initialized) this.initFrom(x);
    const res = residualQuantize(x, this.codebooks, { beta: this.beta });
    if (this.ema) {
      res.loss.dispose();
      res.loss = mul(res.commitLoss, this.beta);
    }
    if (this.training) noGrad(() => this.update(res));
    return res;
  }

  /** The usage, EMA and restart updates of a training step, on kernels on the codes' device. */
  private update(res: ResidualQuantizeResult): void {
    const n = res.codes.shape[0];
    for (let l = 0; l < this.levels; l++) {
      const K = this.codebookSizes[l];
      const column = runKernel('slice', { x: res.codes }, { axis: 1, start: l, length: 1 });
      const ct = column.view([n]);
      column.dispose();
      const { counts, sums } = runKernel('vqCodeSums', { x: res.levelInputs[l], codes: ct }, { K });
      ct.dispose();
      const codebook = this.codebooks[l];
      this.follow(l, codebook.device);
      const ema = { emaCounts: this.emaCountsT[l], emaSums: this.emaSumsT[l] };
      runKernel('emaF64Update', { state: this.usageT[l], x: counts }, { decay: this.decay });
      if (this.ema) runKernel('vqEmaUpdate', { codebook, ...ema, counts, sums }, { decay: this.decay, eps: this.eps });
      if (this.deadCodeThreshold > 0) {
        runKernel(
          'deadCodeRestart',
          {
            codebook,
            usage: this.usageT[l],
            residual: res.levelInputs[l],
            rng: this.rng(codebook),
            restarts: this.restartsT[l],
            ...(this.ema ? ema : {}),
          },
          { threshold: this.deadCodeThreshold },
        );
      }
      counts.dispose();
      sums.dispose();
    }
  }

  /** The seeded stream of the restarts on `like`'s device (continuing `gen` the first time). */
  private rng(like: Tensor): Tensor {
    if (!this.rngT) this.rngT = uploadKept(this.gen.getState(), like.device);
    else if (this.rngT.device !== like.device) this.rngT = moveKept(this.rngT, like.device);
    return this.rngT;
  }

  /** Keeps level l's state on the device of its codebook (which a caller may have replaced). */
  private follow(l: number, device: Device): void {
    for (const list of [this.usageT, this.emaCountsT, this.emaSumsT, this.restartsT]) {
      if (list[l].device !== device) list[l] = moveKept(list[l], device);
    }
  }

  /** Releases the codebooks (also in EMA mode, where they are not parameters). */
  override dispose(): void {
    for (const c of this.codebooks) c.dispose();
    for (const t of [...this.usageT, ...this.emaCountsT, ...this.emaSumsT, ...this.restartsT]) t.dispose();
    this.rngT?.dispose();
    this.rngT = null;
  }

  /** int32 `[N, levels]` codes of `x` without touching any state. */
  encode(x: Tensor): Tensor {
    return noGrad(() => {
      const r = residualQuantize(x, this.codebooks, { beta: this.beta });
      for (const t of [r.quantized, r.loss, r.codebookLoss, r.commitLoss, ...r.levelInputs]) t.dispose();
      return r.codes;
    });
  }
}
