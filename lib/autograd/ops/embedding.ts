/**
 * Embedding-table ops: in-place `indexAdd`, row lookup and pooled bags whose gradients are
 * row-sparse (only the rows a batch touched, duplicates summed deterministically).
 */
import { ShapeError, ValueError } from '../../errors.js';
import { runKernel, type KernelInputs } from '../../tensor/backend.js';
import { Tensor } from '../../tensor/tensor.js';
import { record, type Grad } from '../engine.js';
import { RowSparseGrad } from '../sparse.js';

function checkTable(t: Tensor, name = 'table'): void {
  if (!(t instanceof Tensor)) throw new ValueError(`argument '${name}' must be a Tensor`, name);
  t.checkDType('float32', name);
  if (t.rank < 1) throw new ShapeError(`argument '${name}' must have at least one dimension`, name);
}

/** A row-sparse gradient for a leaf table, or its dense form when the table is computed. */
function tableGrad(table: Tensor, idx: Tensor, values: Tensor): Grad {
  const g = new RowSparseGrad(idx, values, table.shape, true);
  if (!table.gradFn) return g;
  const dense = g.toDense();
  g.dispose();
  return dense;
}

/**
 * `target[indices[i], ...] += source[i, ...]` in place (PyTorch's `index_add_` on dim 0) and
 * returns `target`. Duplicate indices add up in order of `i`; the result is bit-identical
 * whatever the thread count. Not recorded for autograd. Throws an IndexError naming
 * 'indices' for an index outside [0, target.shape[0]) before anything is written.
 * @param target float32 [R, ...]
 * @param indices int32 [B]
 * @param source float32 [B, ...] with the same row shape as `target`
 */
export function indexAdd(target: Tensor, indices: Tensor, source: Tensor): Tensor {
  checkTable(target, 'target');
  indices.checkDType('int32', 'indices');
  source.checkDType('float32', 'source');
  if (indices.rank !== 1) throw new ShapeError(`indexAdd(): argument 'indices' must be 1-D, got [${indices.shape.join(', ')}]`, 'indices');
  const rowShape = target.shape.slice(1);
  if (source.rank !== target.rank || source.shape[0] !== indices.size || source.shape.slice(1).join() !== rowShape.join()) {
    throw new ShapeError(`indexAdd(): argument 'source' [${source.shape.join(', ')}] must be [${[indices.size, ...rowShape].join(', ')}]`, 'source');
  }
  return runKernel('indexAdd', { target, indices, source });
}

/** Options of {@link embeddingLookup}. */
export interface LookupOptions {
  /** Name used in index errors (default 'indices'). */
  argName?: string;
  /** Negative ids are padding: they give zero rows and no gradient (default false: they throw). */
  padNegative?: boolean;
}

/**
 * Rows of `table` at `indices` (any shape) → [...indices.shape, ...rowShape]. The table's
 * gradient is a coalesced {@link RowSparseGrad}: the unique rows looked up and their summed
 * upstream gradients. Throws an IndexError naming `argName` for an id outside the table.
 */
export function embeddingLookup(table: Tensor, indices: Tensor, opts: LookupOptions | string = {}): Tensor {
  const o = typeof opts === 'string' ? { argName: opts } : opts;
  const argName = o.argName ?? 'indices';
  const pad = o.padNegative ?? false;
  checkTable(table);
  indices.checkDType('int32', argName);
  const y = runKernel(pad ? 'gatherRowsPadded' : 'gatherRows', { table, indices }, { argName });
  return record('embeddingLookup', y, [table, indices], (dy) => {
    const [idx, values] = runKernel(
      'coalesceRows',
      { indices, source: dy },
      {
        rows: table.shape[0],
        rowShape: table.shape.slice(1),
        argName,
        skipNegative: pad,
      },
    );
    return [tableGrad(table, idx, values), null];
  });
}

/** Options of {@link embeddingBag}. */
export interface EmbeddingBagOptions {
  /** Pooling of each bag: 'sum' (default) or 'mean' (an empty bag pools to zeros). */
  mode?: 'sum' | 'mean';
  /** float32 [values.size] per-value weights (sum mode only), not trained. */
  weights?: Tensor;
  /** Name used in index errors (default 'values'). */
  argName?: string;
}

/**
 * Pooled bags over a jagged batch (TorchRec's values + offsets layout): bag b holds
 * `values[offsets[b] .. offsets[b+1])`, and its output row is the sum (or mean) of those table
 * rows → [offsets.size − 1, ...rowShape]. The gradient of `table` is row-sparse.
 * @param values int32 [nv] row ids
 * @param offsets int32 [nbags + 1], non-decreasing from 0 to nv
 */
export function embeddingBag(table: Tensor, values: Tensor, offsets: Tensor, opts: EmbeddingBagOptions = {}): Tensor {
  checkTable(table);
  const argName = opts.argName ?? 'values';
  values.checkDType('int32', argName);
  offsets.checkDType('int32', 'offsets');
  const mode = opts.mode ?? 'sum';
  if (mode !== 'sum' && mode !== 'mean') throw new ValueError(`argument 'mode' must be 'sum' or 'mean', got ${String(mode)}`, 'mode');
  if (offsets.rank !== 1 || offsets.size < 1) throw new ShapeError("argument 'offsets' must be 1-D with at least one entry", 'offsets');
  if (values.rank !== 1) throw new ShapeError(`argument '${argName}' must be 1-D`, argName);
  const weights = opts.weights;
  if (weights) {
    weights.checkDType('float32', 'weights');
    if (mode === 'mean') throw new ValueError("argument 'weights' is only supported with mode 'sum'", 'weights');
    if (weights.size !== values.size) throw new ShapeError(`argument 'weights' must have ${values.size} entries`, 'weights');
  }
  const mean = mode === 'mean';
  const inputs: KernelInputs<'bagPool'> = { table, values, offsets };
  if (weights) inputs.weights = weights;
  const y = runKernel('bagPool', inputs, { mean, argName });
  return record('embeddingBag', y, [table, values, offsets], (dy) => {
    const bwdInputs: KernelInputs<'bagBackward'> = { values, offsets, dy };
    if (weights) bwdInputs.weights = weights;
    const [idx, vals] = runKernel('bagBackward', bwdInputs, {
      rows: table.shape[0],
      rowShape: table.shape.slice(1),
      mean,
      argName,
    });
    return [tableGrad(table, idx, vals), null, null];
  });
}

/**
 * Table-batched lookup (after FBGEMM's TBE): several tables of equal width d looked up for the
 * same n rows in one pass. `ids[t]` (int32, length n; negative = padding, contributes nothing)
 * indexes `tables[t]`; output block g ([n, d] at columns g·d) is the sum of the tables with
 * `group[t] === g` → [n, G·d]. Each table gets a coalesced row-sparse gradient read straight
 * from its block of the upstream gradient (no per-table outputs, sums or concatenations).
 */
export function embeddingLookupMulti(tables: readonly Tensor[], ids: readonly Int32Array[], group: readonly number[], argName = 'ids'): Tensor {
  if (!tables.length) throw new ValueError("argument 'tables' is empty", 'tables');
  if (ids.length !== tables.length || group.length !== tables.length) {
    throw new ShapeError("arguments 'tables', 'ids' and 'group' must have one entry per table", 'ids');
  }
  const d = tables[0].shape[1];
  tables.forEach((t, i) => {
    checkTable(t, `tables[${i}]`);
    if (t.rank !== 2 || t.shape[1] !== d) throw new ShapeError(`argument 'tables[${i}]' must be [rows, ${d}], got [${t.shape.join(', ')}]`, `tables[${i}]`);
  });
  const n = ids[0]?.length ?? 0;
  ids.forEach((a, i) => {
    if (!(a instanceof Int32Array) || a.length !== n)
      throw new ShapeError(`argument '${argName}[${i}]' must be an Int32Array of length ${n}`, `${argName}[${i}]`);
  });
  const G = Math.max(...group) + 1;
  group.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0) throw new ValueError(`argument 'group[${i}]' must be a non-negative integer`, 'group');
  });
  const inputs: Record<string, Tensor> = {};
  tables.forEach((t, i) => (inputs[`tables[${i}]`] = t));
  const attrs = { ids: [...ids], group: [...group], G, n, dim: d, argName };
  const y = runKernel('tbeLookup', inputs, attrs);
  return record('embeddingLookupMulti', y, tables, (dy) =>
    tables.map((t, i) => {
      if (!t.requiresGrad) return null;
      const [idx, values] = runKernel(
        'coalesceStrided',
        { source: dy },
        {
          ids: ids[i],
          rows: t.shape[0],
          dim: d,
          offset: group[i] * d,
          argName: `${argName}[${i}]`,
        },
      );
      return tableGrad(t, idx, values);
    }),
  );
}
