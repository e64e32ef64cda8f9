/** Embedding tables with row-sparse gradients: `Embedding` (lookup) and `EmbeddingBag` (pooled bags). */
import { embeddingBag, embeddingLookup } from '../autograd/ops/embedding.js';
import { ShapeError, ValueError } from '../errors.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { normal } from './init.js';
import { Module, parameter } from './module.js';

/** Options of {@link Embedding} and {@link EmbeddingBag}. */
export interface EmbeddingOptions {
  /**
   * Add one out-of-vocabulary row (index `numEmbeddings`) that every id outside
   * [0, numEmbeddings) maps to — unseen users or items — instead of throwing (default false).
   */
  oov?: boolean;
  /** Standard deviation of the N(0, std²) initialisation (default 0.05). */
  initStd?: number;
  /** Seed of the initialisation (default 0). */
  seed?: number;
  /** Generator to draw from instead of a seed (used by containers). */
  generator?: Generator;
  /**
   * Keep only rows [start, end) of the table (the OOV row counts as the last row): row-wise
   * sharded construction (lib/rank/sharded_tables.ts). The generator still draws every value of
   * the whole table, in row order, so the kept rows are bit for bit those of the whole table and
   * the generator ends where it would; only `(end - start) · embeddingDim` floats are held
   * (the draw keeps no chunk). Default: every row. @internal
   */
  rows?: readonly [number, number];
}

function checkPositive(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ValueError(`argument '${name}' must be a positive integer, got ${v}`, name);
}

/** Ids as an int32 tensor (a typed array is wrapped, not copied). */
function idTensor(ids: Tensor | Int32Array, name: string): Tensor {
  if (ids instanceof Int32Array) return Tensor.fromArray(ids, [ids.length], 'int32');
  if (!(ids instanceof Tensor)) throw new ValueError(`argument '${name}' must be an int32 Tensor or an Int32Array`, name);
  ids.checkDType('int32', name);
  return ids;
}

/**
 * Rows [s, e) of `normal([rows, width], std, g)`, bit for bit, holding only them: every value of
 * the whole table is drawn in order (the normals come in Box–Muller pairs and reject u = 0, so
 * the stream cannot be skipped ahead) and those outside the rows are dropped.
 */
function normalRows(rows: number, width: number, s: number, e: number, std: number, g: Generator): Tensor {
  const a = new Float32Array((e - s) * width);
  const lo = s * width;
  const hi = e * width;
  const n = rows * width;
  for (let i = 0; i < n; i++) {
    const v = std * g.normal();
    if (i >= lo && i < hi) a[i - lo] = v;
  }
  return Tensor.fromArray(a, [e - s, width], 'float32');
}

/**
 * Where a table's lookups read while its rows live elsewhere (row-wise sharded training,
 * lib/rank/sharded_tables.ts): a small working table of the rows one batch needs.
 * @internal
 */
export interface TableRowView {
  /** [rows the batch needs, embeddingDim]: what the lookups read instead of `weight`. */
  readonly weight: Tensor;
  /** Rows of the whole table (after the OOV mapping) as rows of `weight`; negative ids (padding) stay. */
  local(rows: Int32Array): Int32Array;
}

/** The part `Embedding` and `EmbeddingBag` share: the weight, OOV mapping and row views. */
export abstract class Table extends Module {
  readonly weight: Tensor;
  readonly oov: boolean;
  /** Set only by row-wise sharded training (see {@link TableRowView}); null otherwise. @internal */
  rowView: TableRowView | null = null;
  /** Rows of the whole table (`numEmbeddings`, plus the OOV row). */
  readonly totalRows: number;
  /** The whole table's rows [start, end) that `weight` holds when built with `rows`; null when whole. @internal */
  readonly builtRows: readonly [number, number] | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions,
  ) {
    super();
    checkPositive('numEmbeddings', numEmbeddings);
    checkPositive('embeddingDim', embeddingDim);
    const std = opts.initStd ?? 0.05;
    if (!(std >= 0 && Number.isFinite(std))) throw new ValueError(`argument 'initStd' must be finite and non-negative, got ${std}`, 'initStd');
    this.oov = opts.oov ?? false;
    const g = opts.generator ?? new Generator(opts.seed ?? 0);
    this.totalRows = numEmbeddings + (this.oov ? 1 : 0);
    if (opts.rows === undefined) {
      this.builtRows = null;
      this.weight = parameter(normal([this.totalRows, embeddingDim], std, g));
    } else {
      const [s, e] = opts.rows;
      if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= this.totalRows))
        throw new ValueError(`argument 'rows' must be [start, end) within [0, ${this.totalRows}], got [${s}, ${e})`, 'rows');
      this.builtRows = [s, e];
      this.weight = parameter(normalRows(this.totalRows, embeddingDim, s, e, std, g));
    }
  }

  protected override ownParameters(): Record<string, Tensor> {
    return { weight: this.weight };
  }

  /**
   * Replaces the weight (returns the old one, not disposed): row-wise sharded training keeps
   * only the rank's rows here while it trains, and the whole table again after. @internal
   */
  swapWeight(t: Tensor): Tensor {
    const old = this.weight;
    (this as { weight: Tensor }).weight = t;
    return old;
  }

  /** The tensor lookups read: the weight, or the working table of a row view. @internal */
  lookupWeight(): Tensor {
    if (this.rowView) return this.rowView.weight;
    const b = this.builtRows;
    if (b && (b[0] !== 0 || b[1] !== this.totalRows))
      throw new ValueError(
        `this table holds rows [${b[0]}, ${b[1]}) of ${this.totalRows} (built sharded): look it up through row-wise sharded training or evaluation (dist)`,
        'rows',
      );
    return this.weight;
  }

  /** Rows of the whole table as rows of `lookupWeight()` (`rows` itself without a view). @internal */
  lookupRows(rows: Int32Array): Int32Array {
    return this.rowView ? this.rowView.local(rows) : rows;
  }

  /** Mapped ids as ids of `lookupWeight()` (`ids` itself without a view). @internal */
  protected viewIds(ids: Tensor, name: string): Tensor {
    if (!this.rowView) return ids;
    return Tensor.fromArray(this.rowView.local(ids.i32(name)), ids.shape, 'int32');
  }

  /**
   * `ids` as rows of this table: with `oov`, ids outside the vocabulary become the OOV row
   * (negative ids too, unless `keepNegative` marks them as padding); without it, unchanged
   * (the lookup throws on bad ids). Returns `ids` itself when nothing changes.
   */
  rowsOf(ids: Int32Array, keepNegative = false): Int32Array {
    // Host ids (a batch's input) stay on the host: no tensor to read back.
    return this.oov ? (this.mapIdArray(ids, keepNegative) ?? ids) : ids;
  }

  /**
   * The ids with out-of-vocabulary ones mapped to the OOV row (a new tensor only when some
   * are). With `keepNegative`, negative ids stay as they are (padding).
   */
  protected mapIds(ids: Tensor | Int32Array, name: string, keepNegative = false): Tensor {
    const t = idTensor(ids, name);
    if (!this.oov) return t;
    // Host ids are mapped where they are; a tensor's are read (ids are inputs, not device state).
    const out = this.mapIdArray(ids instanceof Int32Array ? ids : t.i32(name), keepNegative);
    return out ? Tensor.fromArray(out, t.shape, 'int32') : t;
  }

  /** A mapped copy of host ids `a`, or null when every id is already a row. */
  private mapIdArray(a: Int32Array, keepNegative: boolean): Int32Array | null {
    const n = this.numEmbeddings;
    const lo = keepNegative ? -0x80000000 : 0;
    let i = 0;
    while (i < a.length && a[i] >= lo && a[i] < n) i++;
    if (i === a.length) return null;
    const out = Int32Array.from(a);
    for (; i < out.length; i++) if ((out[i] < 0 && !keepNegative) || out[i] >= n) out[i] = n;
    return out;
  }
}

/**
 * A lookup table [numEmbeddings (+1 OOV row), embeddingDim]. `forward(ids)` returns
 * [...ids.shape, embeddingDim]; the table's gradient is row-sparse (only looked-up rows),
 * to be consumed by `optim.SparseAdam` or `optim.RowWiseAdagrad`. Without `oov`, an id outside
 * the table throws an IndexError naming 'ids'.
 */
export class Embedding extends Table {
  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super(numEmbeddings, embeddingDim, opts);
  }

  /**
   * @param ids int32 ids, any shape
   * @param opts.padNegative negative ids are padding: zero rows, no gradient (default false)
   */
  forward(ids: Tensor | Int32Array, opts: { padNegative?: boolean } = {}): Tensor {
    const pad = opts.padNegative ?? false;
    const mapped = this.viewIds(this.mapIds(ids, 'ids', pad), 'ids');
    return embeddingLookup(this.lookupWeight(), mapped, { argName: 'ids', padNegative: pad });
  }
}

/** Options of {@link EmbeddingBag}. */
export interface EmbeddingBagLayerOptions extends EmbeddingOptions {
  /** Pooling of each bag (default 'mean'). */
  mode?: 'sum' | 'mean';
}

/**
 * Pooled embedding bags over jagged input (TorchRec's values + offsets): bag b is
 * `values[offsets[b] .. offsets[b+1])` and pools to one row → [numBags, embeddingDim].
 * Gradients are row-sparse.
 */
export class EmbeddingBag extends Table {
  readonly mode: 'sum' | 'mean';
  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingBagLayerOptions = {}) {
    super(numEmbeddings, embeddingDim, opts);
    this.mode = opts.mode ?? 'mean';
    if (this.mode !== 'sum' && this.mode !== 'mean') throw new ValueError(`argument 'mode' must be 'sum' or 'mean'`, 'mode');
  }

  /**
   * @param values int32 [nv] ids of all bags, concatenated
   * @param offsets int32 [numBags + 1], from 0 to nv
   * @param weights optional float32 [nv] per-value weights (sum mode)
   */
  forward(values: Tensor | Int32Array, offsets: Tensor | Int32Array, weights?: Tensor): Tensor {
    const v = this.viewIds(this.mapIds(values, 'values'), 'values');
    const o = idTensor(offsets, 'offsets');
    return embeddingBag(this.lookupWeight(), v, o, { mode: this.mode, weights, argName: 'values' });
  }

  /**
   * Pools fixed-width bags given as a dense [numBags, width] id matrix in which negative ids
   * mark empty slots (e.g. padded VQ codes): they are dropped before pooling.
   */
  forwardPadded(ids: Int32Array, width: number): Tensor {
    checkPositive('width', width);
    if (ids.length % width !== 0) throw new ShapeError(`argument 'ids' has ${ids.length} entries, not a multiple of width ${width}`, 'ids');
    const nb = ids.length / width;
    const offsets = new Int32Array(nb + 1);
    let count = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) count++;
    let values = ids;
    if (count === ids.length) {
      for (let b = 0; b <= nb; b++) offsets[b] = b * width;
    } else {
      values = new Int32Array(count);
      let k = 0;
      for (let b = 0; b < nb; b++) {
        for (let j = 0; j < width; j++) {
          const id = ids[b * width + j];
          if (id >= 0) values[k++] = id;
        }
        offsets[b + 1] = k;
      }
    }
    return this.forward(values, offsets);
  }
}
