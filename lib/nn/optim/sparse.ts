/**
 * Row-sparse optimizers for embedding tables: only the rows a batch touched move, and their
 * state is updated only then ("lazy"), as torch.optim.SparseAdam and FBGEMM/TorchRec's
 * row-wise Adagrad. Dense gradients (other parameters) get the same rule on every row, so one
 * optimizer can drive a whole model. Updates run in fused native kernels, one row per
 * thread at a time (deterministic).
 */
import { RowSparseGrad } from '../../autograd/sparse.js';
import { runKernel } from '../../tensor/backend.js';
import { keep } from '../../tensor/memory.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkHyper, resolveAdamOptions, type AdamOptions } from './hyper.js';
import { Optimizer } from './optimizer.js';

// A host-made tensor moved to `like`'s device (the host copy is released); as is on the CPU.
function onDevice(t: Tensor, like: Tensor): Tensor {
  if (like.device === t.device) return t;
  const moved = t.to(like.device);
  t.dispose();
  return moved;
}

/** The gradient of `p` as coalesced rows (a dense gradient is every row). */
function rowsOf(p: Tensor): { indices: Tensor; values: Tensor; temporary: boolean } | null {
  const g = p.grad;
  if (!g) return null;
  if (g instanceof RowSparseGrad) {
    const c = g.coalesce();
    if (c !== g) {
      g.dispose();
      p.grad = c.keep();
    }
    return { indices: c.indices, values: c.values, temporary: false };
  }
  const rows = p.shape[0] ?? 1;
  const all = new Int32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  return { indices: onDevice(Tensor.fromArray(all, [rows], 'int32'), p), values: g as Tensor, temporary: true };
}

/** Options of {@link SparseAdam}: those of Adam, applied to the touched rows only. */
export type SparseAdamOptions = AdamOptions;

/**
 * Lazy Adam: for each row in the gradient, m and v are updated and the row moves with the
 * bias-corrected Adam step (step count per parameter, as torch.optim.SparseAdam); rows not
 * in the gradient — parameter and state — are left untouched.
 */
export class SparseAdam extends Optimizer {
  readonly opts: Required<SparseAdamOptions>;
  private steps = new Map<Tensor, number>();
  constructor(params: Iterable<Tensor>, opts: SparseAdamOptions = {}) {
    super(params);
    this.opts = resolveAdamOptions(opts);
  }

  step(): void {
    for (const p of this.params) {
      const r = rowsOf(p);
      if (!r) continue;
      const s = this.stateOf(p, ['m', 'v']);
      const t = (this.steps.get(p) ?? 0) + 1;
      this.steps.set(p, t);
      runKernel('sparseAdamUpdate', { param: p, m: s.m, v: s.v, indices: r.indices, grad: r.values }, { ...this.opts, step: t });
      if (r.temporary) r.indices.dispose();
    }
  }

  /** Step counts per parameter (for checkpoints). */
  stepCounts(): number[] {
    return this.params.map((p) => this.steps.get(p) ?? 0);
  }
  /** Restores step counts saved by {@link stepCounts}. */
  setStepCounts(counts: number[]): void {
    this.params.forEach((p, i) => this.steps.set(p, counts[i] ?? 0));
  }
}

/** Options of {@link RowWiseAdagrad}. */
export interface RowWiseAdagradOptions {
  /** Learning rate (default 0.01; the ranker's trainer passes 0.05). */
  lr?: number;
  /** Added to the root of the accumulator so that rows with tiny gradients do not explode. */
  eps?: number;
  /** L2 penalty added to the touched rows' gradients. */
  weightDecay?: number;
  /** Initial value of every row's accumulator (default 0). */
  initialAccumulator?: number;
}

/**
 * Row-wise Adagrad (FBGEMM / TorchRec `EmbOptimType.EXACT_ROWWISE_ADAGRAD`): one accumulator
 * per row, `s_r += mean_j g_rj²`, `w_r −= lr · g_r / (√s_r + eps)`. One float of state per row
 * instead of per element, which is what makes it the default for large tables.
 */
export class RowWiseAdagrad extends Optimizer {
  readonly opts: Required<RowWiseAdagradOptions>;
  constructor(params: Iterable<Tensor>, opts: RowWiseAdagradOptions = {}) {
    super(params);
    this.opts = { lr: 0.01, eps: 1e-8, weightDecay: 0, initialAccumulator: 0, ...opts };
    checkHyper({ ...this.opts });
  }

  /** The per-row accumulator of `p` ([rows]). */
  accumulator(p: Tensor): Tensor {
    let s = this.state.get(p);
    if (!s) {
      const rows = p.shape[0] ?? 1;
      const a = new Float32Array(rows).fill(this.opts.initialAccumulator);
      s = { sum: keep(onDevice(Tensor.fromArray(a, [rows], 'float32'), p)) };
      this.state.set(p, s);
    }
    return s.sum;
  }

  step(): void {
    for (const p of this.params) {
      const r = rowsOf(p);
      if (!r) continue;
      runKernel('rowwiseAdagradUpdate', { param: p, state: this.accumulator(p), indices: r.indices, grad: r.values }, this.opts);
      if (r.temporary) r.indices.dispose();
    }
  }
}
