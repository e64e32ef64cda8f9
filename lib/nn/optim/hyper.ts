import { ValueError } from '../../errors.js';

/** Throws a ValueError naming the first hyperparameter that is negative or not finite. */
export function checkHyper(values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`argument '${k}' must be a finite non-negative number, got ${v}`, k);
  }
}

/** Options shared by the dense and the lazy sparse Adam. */
export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient, or decoupled decay (AdamW) with `decoupled`. */
  weightDecay?: number;
  decoupled?: boolean;
}

/** Adam options with PyTorch's defaults filled in, validated (ValueError naming the argument). */
export function resolveAdamOptions(opts: AdamOptions): Required<AdamOptions> {
  const o = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...opts };
  checkHyper({ lr: o.lr, eps: o.eps, weightDecay: o.weightDecay });
  for (const b of ['beta1', 'beta2'] as const) {
    const v = o[b];
    if (!(v >= 0 && v < 1)) throw new ValueError(`argument '${b}' must be in [0, 1), got ${v}`, b);
  }
  return o;
}
