/** Row gather / scatter-add and per-row argmin/argmax. */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';

function checkTable(t: Tensor, name: string): void {
  if (t.rank < 1) throw new ShapeError(`argument '${name}' must have at least one dimension`, name);
}

/**
 * Rows of `table` ([R, ...]) at int32 `indices` (any shape) → [...indices.shape, ...].
 * The gradient is dense (scatter-add into zeros); `nn.Embedding` gives row-sparse ones.
 */
export function gather(table: Tensor, indices: Tensor): Tensor {
  checkTable(table, 'table');
  indices.checkDType('int32', 'indices');
  const y = runKernel('gatherRows', { table, indices });
  return record('gather', y, [table, indices], (dy) => {
    const g = runKernel('fill', {}, { shape: table.shape, value: 0, device: table.device });
    runKernel('scatterAddRows', { target: g, indices, source: dy });
    return [g, null];
  });
}

/**
 * `target` with `source` rows added at `indices` (a new tensor; duplicates add up in order).
 * See `indexAdd` for the in-place kernel.
 */
export function scatterAdd(target: Tensor, indices: Tensor, source: Tensor): Tensor {
  target.storage('target');
  source.storage('source');
  checkTable(target, 'target');
  indices.checkDType('int32', 'indices');
  // source is [...leading, ...rowShape] with the leading dims holding one row per index.
  const rowShape = target.shape.slice(1);
  const nLead = source.rank - rowShape.length;
  const lead = source.shape.slice(0, Math.max(nLead, 0));
  if (nLead < 0 || source.shape.slice(nLead).join() !== rowShape.join() || lead.reduce((p, d) => p * d, 1) !== indices.size) {
    throw new ShapeError(
      `scatterAdd(): argument 'source' [${source.shape.join(', ')}] must be [${[...indices.shape, ...rowShape].join(', ')}] (one row of shape [${rowShape.join(', ')}] per index)`,
      'source',
    );
  }
  const y = runKernel('copy', { x: target });
  runKernel('scatterAddRows', { target: y, indices, source });
  return record('scatterAdd', y, [target, indices, source], (dy) => [dy, null, runKernel('gatherRows', { table: dy, indices }).view(source.shape)]);
}

function argReduce(x: Tensor, isMax: boolean): Tensor {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) {
    throw new ShapeError(`argument 'x' needs a non-empty last axis, got [${x.shape.join(', ')}]`, 'x');
  }
  const cols = x.shape[x.rank - 1];
  return runKernel('argReduceRows', { x }, { rows: x.size / cols, cols, isMax, outShape: x.shape.slice(0, -1) });
}

/** Index of the largest value along the last axis (ties to the lower index; NaN wins). */
export const argmax = (x: Tensor): Tensor => argReduce(x, true);
/** Index of the smallest value along the last axis (ties to the lower index; NaN wins). */
export const argmin = (x: Tensor): Tensor => argReduce(x, false);
