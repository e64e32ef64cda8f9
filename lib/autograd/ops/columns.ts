/**
 * Concatenation and slicing along the last axis of float32 tensors through native strided
 * copies: the feature-assembly pattern of rankers (many [B, w_i] parts → [B, Σ w_i]), where a
 * per-row JS copy would dominate the step.
 */
import { ShapeError, ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';

/** Joins float32 tensors along their last axis; all leading dimensions must agree. */
export function concatLast(xs: readonly Tensor[]): Tensor {
  if (!xs.length) throw new ValueError("concatLast(): argument 'xs' is empty", 'xs');
  const lead = xs[0].shape.slice(0, -1);
  xs.forEach((t, i) => {
    t.checkDType('float32', `xs[${i}]`);
    if (t.rank < 1 || t.rank !== xs[0].rank || t.shape.slice(0, -1).join() !== lead.join()) {
      throw new ShapeError(`concatLast(): xs[${i}] has shape [${t.shape.join(', ')}], leading dimensions must be [${lead.join(', ')}]`, `xs[${i}]`);
    }
  });
  if (xs.length === 1) return xs[0];
  const rows = lead.reduce((p, d) => p * d, 1);
  const widths = xs.map((t) => t.shape[t.rank - 1]);
  const total = widths.reduce((a, b) => a + b, 0);
  const inputs: Record<string, Tensor> = {};
  xs.forEach((t, i) => (inputs[`xs[${i}]`] = t));
  const y = runKernel('concatColumns', inputs, { rows, outShape: [...lead, total] });
  return record('concatLast', y, xs, (dy) => {
    let start = 0;
    return xs.map((t, i) => {
      const g = t.requiresGrad ? runKernel('sliceColumns', { x: dy }, { rows, cols: total, start, width: widths[i], outShape: t.shape }) : null;
      start += widths[i];
      return g;
    });
  });
}

/** Entries [start, start + width) of the last axis of a float32 tensor. */
export function sliceLast(x: Tensor, start: number, width: number): Tensor {
  x.checkDType('float32', 'x');
  const cols = x.shape[x.rank - 1];
  if (x.rank < 1 || !Number.isInteger(start) || !Number.isInteger(width) || start < 0 || width < 0 || start + width > cols) {
    throw new ValueError(`sliceLast(): argument 'start' = ${start} with width ${width} is outside the last axis of [${x.shape.join(', ')}]`, 'start');
  }
  const rows = x.size / Math.max(cols, 1);
  const outShape = [...x.shape.slice(0, -1), width];
  const y = runKernel('sliceColumns', { x }, { rows, cols, start, width, outShape });
  return record('sliceLast', y, [x], (dy) => {
    const parts: Tensor[] = [];
    const zeros = (w: number) => runKernel('fill', {}, { shape: [...x.shape.slice(0, -1), w], value: 0, device: x.device });
    if (start > 0) parts.push(zeros(start));
    parts.push(dy);
    if (cols - start - width > 0) parts.push(zeros(cols - start - width));
    const ins: Record<string, Tensor> = {};
    parts.forEach((t, i) => (ins[`xs[${i}]`] = t));
    return [runKernel('concatColumns', ins, { rows, outShape: x.shape })];
  });
}
