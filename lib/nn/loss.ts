/** Losses. */
import { record } from '../autograd/engine.js';
import { ShapeError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of {@link bceWithLogits}. */
export interface BCEOptions {
  /** 'mean' (default), 'sum', or 'none' (per-element losses, shape of `logits`). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Binary cross-entropy on logits, computed stably as
 * `max(x, 0) − x·y + log(1 + e^(−|x|))` (no overflow for any finite x), with gradient
 * `σ(x) − y` (scaled by 1/N for 'mean'). `labels` may be soft targets in [0, 1]; they get
 * no gradient.
 * @param logits float32, any shape
 * @param labels float32 of the same size (a Tensor or Float32Array)
 */
export function bceWithLogits(logits: Tensor, labels: Tensor | Float32Array, opts: BCEOptions = {}): Tensor {
  const reduction = opts.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new ValueError(`argument 'reduction' must be 'mean', 'sum' or 'none'`, 'reduction');
  const x = logits.f32('logits');
  const y = labels instanceof Tensor ? labels.f32('labels') : labels;
  if (!(y instanceof Float32Array)) throw new ValueError("argument 'labels' must be a float32 Tensor or Float32Array", 'labels');
  if (y.length !== x.length) throw new ShapeError(`argument 'labels' has ${y.length} entries, 'logits' has ${x.length}`, 'labels');
  if (reduction === 'mean' && x.length === 0) throw new ValueError("argument 'logits' is empty", 'logits');
  const per = new Float32Array(x.length);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const l = Math.max(xi, 0) - xi * y[i] + Math.log1p(Math.exp(-Math.abs(xi)));
    per[i] = l;
    total += l;
  }
  const out = reduction === 'none'
    ? Tensor.fromArray(per, logits.shape, 'float32')
    : Tensor.fromArray(new Float32Array([reduction === 'mean' ? total / x.length : total]), [], 'float32');
  const yCopy = Float32Array.from(y);
  return record('bceWithLogits', out, [logits], (dy) => {
    const d = dy.f32();
    const g = new Float32Array(x.length);
    const scale = reduction === 'mean' ? 1 / x.length : 1;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      // σ(x) computed without overflow on either side.
      const s = xi >= 0 ? 1 / (1 + Math.exp(-xi)) : Math.exp(xi) / (1 + Math.exp(xi));
      g[i] = (s - yCopy[i]) * scale * (reduction === 'none' ? d[i] : d[0]);
    }
    return [Tensor.fromArray(g, logits.shape, 'float32')];
  });
}
