/**
 * Trainable residual vector quantiser on the autograd tape (what vector-quantize-pytorch users
 * expect): straight-through estimator, codebook loss + β·commitment loss, optional EMA codebook
 * updates with Laplace smoothing, dead-code restarts from the current batch, and k-means
 * initialisation from the first batch. The level forward (gather + residual), the STE backward
 * and the codebook-gradient scatter-add are native kernels (native/core/quant.h).
 */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { add, mul } from '../autograd/ops/arith.js';
import { noGrad, record } from '../autograd/engine.js';
import { Module } from '../nn/module.js';
import { runKernel } from '../tensor/backend.js';
import { randn } from '../tensor/creation.js';
import { keep } from '../tensor/memory.js';
import { Generator } from '../tensor/random.js';
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

/** Training steps whose code counts {@link ResidualVQ} keeps on the device before folding them. */
const PENDING_STEPS = 256;

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
  const loss = beta === 0 ? add(codebookLoss, 0) : add(codebookLoss, mul(commitLoss, beta));
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
  /** Moving average of assignments per batch, per level and code. */
  get usage(): Float64Array[] {
    this.foldUsage();
    return this.usageState;
  }
  private readonly usageState: Float64Array[];
  /**
   * Per-code counts of the training steps not yet folded into `usage`, oldest first (device
   * tensors): a step that needs no host state leaves them on the device, and `usage` folds
   * them in the same order and float64 arithmetic as the step itself would have.
   */
  private pendingCounts: Tensor[][] = [];
  /** EMA statistics (ema mode): counts N_k and sums m_k per level. */
  readonly emaCounts: Float64Array[];
  /** EMA sums m_k per level (ema mode). */
  get emaSums(): Float64Array[] {
    this.emaSumsState.forEach((m, l) => {
      const snapshot = this.emaSnapshots[l];
      if (m !== null || !snapshot) return;
      this.emaSumsState[l] = Float64Array.from(snapshot.readHost());
      snapshot.dispose();
      this.emaSnapshots[l] = null;
    });
    return this.emaSumsState as Float64Array[];
  }
  private readonly emaSumsState: (Float64Array | null)[];
  /**
   * The codebooks as the k-means init left them (device tensors): `emaSums` starts from them,
   * read on the host only when the sums are first needed.
   */
  private readonly emaSnapshots: (Tensor | null)[];
  /** Whether the codebooks were initialised (k-means init happens on the first training batch). */
  initialized: boolean;
  /** Codes restarted so far, per level. */
  readonly restarts: number[];
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
    this.gen = new Generator(this.seed);
    this.codebooks = sizes.map((k, l) => {
      const t = keep(randn([k, this.dim], { seed: this.seed * 7919 + l + 1 }));
      t.requiresGrad = !this.ema;
      return t;
    });
    this.usageState = sizes.map((k) => new Float64Array(k).fill(this.deadCodeThreshold));
    this.emaCounts = sizes.map((k) => new Float64Array(k).fill(1));
    this.emaSumsState = this.codebooks.map((c) => Float64Array.from(c.f32()));
    this.emaSnapshots = sizes.map(() => null);
    this.restarts = sizes.map(() => 0);
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
        this.emaCounts[l].fill(1);
        this.emaSnapshots[l]?.dispose();
        this.emaSnapshots[l] = keep(runKernel('copy', { x: cb }));
        this.emaSumsState[l] = null;
        this.usageState[l].fill(n / K);
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

  /** Folds the pending per-step counts into the usage averages (host reads at an edge). */
  private foldUsage(): void {
    const pending = this.pendingCounts;
    this.pendingCounts = [];
    for (const step of pending) {
      step.forEach((counts, l) => {
        const cnt = counts.readHost();
        counts.dispose();
        const u = this.usageState[l];
        for (let k = 0; k < u.length; k++) u[k] = this.decay * u[k] + (1 - this.decay) * cnt[k];
      });
    }
  }

  private update(res: ResidualQuantizeResult): void {
    const n = res.codes.shape[0];
    const d = this.dim;
    const L = this.levels;
    // Without EMA or restarts the step needs no host state: its counts wait on the device.
    const deferred = !this.ema && this.deadCodeThreshold <= 0;
    if (!deferred) this.foldUsage();
    const stepCounts: Tensor[] = [];
    for (let l = 0; l < L; l++) {
      const K = this.codebookSizes[l];
      const column = runKernel('slice', { x: res.codes }, { axis: 1, start: l, length: 1 });
      const ct = column.view([n]);
      column.dispose();
      const { counts, sums } = runKernel('vqCodeSums', { x: res.levelInputs[l], codes: ct }, { K });
      ct.dispose();
      if (deferred) {
        sums.dispose();
        stepCounts.push(keep(counts));
        continue;
      }
      const cnt = counts.f32();
      const sm = sums.f32();
      const u = this.usageState[l];
      for (let k = 0; k < K; k++) u[k] = this.decay * u[k] + (1 - this.decay) * cnt[k];
      const cb = this.codebooks[l].f32();
      if (this.ema) {
        const N = this.emaCounts[l];
        const M = this.emaSums[l];
        let total = 0;
        for (let k = 0; k < K; k++) {
          N[k] = this.decay * N[k] + (1 - this.decay) * cnt[k];
          total += N[k];
        }
        for (let k = 0; k < K; k++) {
          const smoothed = ((N[k] + this.eps) / (total + K * this.eps)) * total;
          for (let j = 0; j < d; j++) {
            M[k * d + j] = this.decay * M[k * d + j] + (1 - this.decay) * sm[k * d + j];
            cb[k * d + j] = M[k * d + j] / smoothed;
          }
        }
      }
      if (this.deadCodeThreshold > 0) {
        const r = res.levelInputs[l].f32();
        for (let k = 0; k < K; k++) {
          if (u[k] >= this.deadCodeThreshold) continue;
          const i = this.gen.int(n);
          cb.set(r.subarray(i * d, i * d + d), k * d);
          u[k] = this.deadCodeThreshold;
          if (this.ema) {
            this.emaCounts[l][k] = 1;
            for (let j = 0; j < d; j++) this.emaSums[l][k * d + j] = cb[k * d + j];
          }
          this.restarts[l]++;
        }
      }
      counts.dispose();
      sums.dispose();
    }
    if (!deferred) return;
    this.pendingCounts.push(stepCounts);
    // Bounded memory: a long run that never reads `usage` folds every PENDING_STEPS steps.
    if (this.pendingCounts.length >= PENDING_STEPS) this.foldUsage();
  }

  /** Releases the codebooks (also in EMA mode, where they are not parameters). */
  override dispose(): void {
    for (const c of this.codebooks) c.dispose();
    for (const step of this.pendingCounts) for (const c of step) c.dispose();
    for (const t of this.emaSnapshots) t?.dispose();
    this.emaSnapshots.fill(null);
    this.pendingCounts = [];
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
