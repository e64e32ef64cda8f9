/** Losses. */
import { record } from '../autograd/engine.js';
import { binary, mul, sub } from '../autograd/ops/arith.js';
import { mean, sum } from '../autograd/ops/reduce.js';
import { concat, reshape } from '../autograd/ops/shape.js';
import { logsumexp } from '../autograd/ops/softmax.js';
import { ShapeError, ValueError } from '../errors.js';
import { runAsKernel, runKernel } from '../tensor/backend.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of {@link bceWithLogits}. */
export interface BCEOptions {
  /** 'mean' (default), 'sum', or 'none' (per-element losses, shape of `logits`). */
  reduction?: 'mean' | 'sum' | 'none';
  /**
   * With 'mean': divide the sum by this instead of the number of elements [the element count].
   * Data-parallel training passes the global batch size, so that each rank's loss and
   * gradients are its share of the global batch's mean: the same per-sample gradients as one
   * process, and the ranks' values add up to the global batch's.
   */
  divisor?: number;
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
  const divisor = opts.divisor;
  if (divisor !== undefined && !(typeof divisor === 'number' && divisor > 0 && Number.isFinite(divisor)))
    throw new ValueError(`argument 'divisor' must be a positive number, got ${String(divisor)}`, 'divisor');
  if (logits.device !== 'cpu') return bceOnDevice(logits, labels, reduction, divisor);
  return runAsKernel(() => bceOnCpu(logits, labels, reduction, divisor));
}

/** The CPU rule, on the host memory of CPU tensors (a kernel in all but name: see runAsKernel). */
function bceOnCpu(logits: Tensor, labels: Tensor | Float32Array, reduction: string, divisor?: number): Tensor {
  const x = logits.f32('logits');
  const y = labels instanceof Tensor ? labels.f32('labels') : labels;
  if (!(y instanceof Float32Array)) throw new ValueError("argument 'labels' must be a float32 Tensor or Float32Array", 'labels');
  if (y.length !== x.length) throw new ShapeError(`argument 'labels' has ${y.length} entries, 'logits' has ${x.length}`, 'labels');
  if (reduction === 'mean' && x.length === 0 && divisor === undefined) throw new ValueError("argument 'logits' is empty", 'logits');
  const count = divisor ?? x.length;
  const per = new Float32Array(x.length);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const l = Math.max(xi, 0) - xi * y[i] + Math.log1p(Math.exp(-Math.abs(xi)));
    per[i] = l;
    total += l;
  }
  const out =
    reduction === 'none'
      ? Tensor.fromArray(per, logits.shape, 'float32')
      : Tensor.fromArray(new Float32Array([reduction === 'mean' ? total / count : total]), [], 'float32');
  const yCopy = Float32Array.from(y);
  return record('bceWithLogits', out, [logits], (dy) =>
    runAsKernel(() => {
      const d = dy.f32();
      const g = new Float32Array(x.length);
      const scale = reduction === 'mean' ? 1 / count : 1;
      for (let i = 0; i < x.length; i++) {
        const xi = x[i];
        // σ(x) computed without overflow on either side.
        const s = xi >= 0 ? 1 / (1 + Math.exp(-xi)) : Math.exp(xi) / (1 + Math.exp(xi));
        g[i] = (s - yCopy[i]) * scale * (reduction === 'none' ? d[i] : d[0]);
      }
      return [Tensor.fromArray(g, logits.shape, 'float32')];
    }),
  );
}

/**
 * The same loss for tensors on another device (CUDA), composed of device ops:
 * softplus(x) = logsumexp([0, x]) is stable for any finite x and its gradient is exactly σ(x),
 * so the gradient σ(x) − y matches the CPU rule.
 */
function bceOnDevice(logits: Tensor, labels: Tensor | Float32Array, reduction: string, divisor?: number): Tensor {
  logits.checkDType('float32', 'logits');
  const n = logits.size;
  let y: Tensor;
  if (labels instanceof Tensor) {
    labels.checkDType('float32', 'labels');
    y = labels;
  } else if (labels instanceof Float32Array) {
    const host = Tensor.fromArray(Float32Array.from(labels), [labels.length], 'float32');
    y = host.to(logits.device);
    host.dispose();
  } else {
    throw new ValueError("argument 'labels' must be a float32 Tensor or Float32Array", 'labels');
  }
  if (y.size !== n) throw new ShapeError(`argument 'labels' has ${y.size} entries, 'logits' has ${n}`, 'labels');
  if (reduction === 'mean' && n === 0 && divisor === undefined) throw new ValueError("argument 'logits' is empty", 'logits');
  const x = reshape(logits, [n, 1]);
  const zero = runKernel('fill', {}, { shape: [n, 1], value: 0, device: logits.device });
  const softplus = logsumexp(concat([zero, x], 1));
  const per = reshape(sub(softplus, mul(reshape(logits, [n]), reshape(y, [n]))), logits.shape);
  if (reduction === 'none') return per;
  if (reduction === 'mean' && divisor !== undefined) return binary('mul', sum(per), 1 / divisor);
  return reduction === 'sum' ? sum(per) : mean(per);
}
