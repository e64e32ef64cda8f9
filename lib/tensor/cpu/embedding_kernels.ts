/**
 * CPU kernels of embedding tables: in-place index-add, padded row gathers, row-sparse gradient
 * reduction (coalesce), pooled bags and the table-batched lookup. Thin wrappers over
 * native/binding/bind_embedding.cc.
 */
import { uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';

declare module '../native.js' {
  interface NativeAddon {
    indexAdd(target: Float32Array, rows: number, dim: number, indices: Int32Array, source: Float32Array, argName?: string): void;
    gatherRowsPadded(table: Float32Array, rows: number, dim: number, indices: Int32Array, out: Float32Array, argName?: string): void;
    coalesceRows(indices: Int32Array, rows: number, dim: number, source: Float32Array, argName?: string, skipNegative?: boolean): [Int32Array, Float32Array];
    tbeForward(
      tables: Float32Array[],
      rows: number[],
      ids: Int32Array[],
      group: number[],
      G: number,
      n: number,
      dim: number,
      out: Float32Array,
      argName?: string,
    ): void;
    coalesceStrided(
      indices: Int32Array,
      rows: number,
      dim: number,
      source: Float32Array,
      stride: number,
      offset: number,
      argName?: string,
    ): [Int32Array, Float32Array];
    bagPool(
      table: Float32Array,
      rows: number,
      dim: number,
      values: Int32Array,
      offsets: Int32Array,
      weights: Float32Array | null,
      mean: boolean,
      out: Float32Array,
      argName?: string,
    ): void;
    bagBackward(
      values: Int32Array,
      offsets: Int32Array,
      weights: Float32Array | null,
      mean: boolean,
      rows: number,
      dim: number,
      dy: Float32Array,
      argName?: string,
    ): [Int32Array, Float32Array];
  }
}

/** [rows, row width] of a table. @internal */
export function rowsDim(t: Tensor): [number, number] {
  // The row width comes from the shape, not size / rows: a table with 0 rows still has width D,
  // and its bags (all empty) must be [B, D] zeros, not a tensor with no data.
  return [t.shape[0] ?? 1, t.shape.slice(1).reduce((p, d) => p * d, 1)];
}

/** Embedding-table kernels on the CPU. @internal */
export const cpuEmbeddingKernels = {
  indexAdd: ({ target, indices, source }, attrs) => {
    const [rows, dim] = rowsDim(target);
    native.indexAdd(target.f32('target'), rows, dim, indices.i32('indices'), source.f32('source'), attrs.argName ?? 'indices');
    return target;
  },

  // Rows of `table` at `indices`, zeros where an index is negative (padding).
  gatherRowsPadded: ({ table, indices }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const out = Tensor.fromArray(new Float32Array(indices.size * dim), [...indices.shape, ...table.shape.slice(1)], 'float32');
    native.gatherRowsPadded(table.f32('table'), rows, dim, indices.i32('indices'), out.f32(), attrs.argName ?? 'indices');
    return out;
  },

  // Unique ascending rows of `indices` and the summed `source` rows of each: [indices, values].
  coalesceRows: ({ indices, source }, attrs) => {
    const { rows, rowShape } = attrs;
    const dim = rowShape.reduce((p, d) => p * d, 1);
    const [u, v] = native.coalesceRows(indices.i32('indices'), rows, dim, source.f32('source'), attrs.argName ?? 'indices', attrs.skipNegative ?? false);
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, ...rowShape], 'float32')];
  },

  bagPool: ({ table, values, offsets, weights }, attrs) => {
    const [rows, dim] = rowsDim(table);
    const nbags = offsets.size - 1;
    const out = Tensor.fromArray(new Float32Array(nbags * dim), [nbags, ...table.shape.slice(1)], 'float32');
    native.bagPool(
      table.f32('table'),
      rows,
      dim,
      values.i32('values'),
      offsets.i32('offsets'),
      weights ? weights.f32('weights') : null,
      attrs.mean,
      out.f32(),
      attrs.argName ?? 'values',
    );
    return out;
  },

  bagBackward: ({ values, offsets, weights, dy }, attrs) => {
    const { rows, rowShape, mean } = attrs;
    const dim = rowShape.reduce((p, d) => p * d, 1);
    const [u, v] = native.bagBackward(
      values.i32('values'),
      offsets.i32('offsets'),
      weights ? weights.f32('weights') : null,
      mean,
      rows,
      dim,
      dy.f32('dy'),
      attrs.argName ?? 'values',
    );
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, ...rowShape], 'float32')];
  },

  // Table-batched lookup: block g of each output row sums the tables of group g (ids < 0: padding).
  tbeLookup: (inputs, attrs) => {
    const { ids, group, G, n, dim, argName } = attrs;
    const tables = Object.values(inputs);
    const out = uninitialized([n, G * dim]); // every row is cleared, then summed into
    native.tbeForward(
      tables.map((t, i) => t.f32(`tables[${i}]`)),
      tables.map((t) => t.shape[0]),
      ids,
      group,
      G,
      n,
      dim,
      out.f32(),
      argName ?? 'ids',
    );
    return out;
  },

  // Coalesced row-sparse gradient of one table from its column block of a [n, stride] gradient.
  coalesceStrided: ({ source }, attrs) => {
    const { ids, rows, dim, offset, argName } = attrs;
    const [u, v] = native.coalesceStrided(ids, rows, dim, source.f32('source'), source.shape[1], offset, argName ?? 'ids');
    return [Tensor.fromArray(u, [u.length], 'int32'), Tensor.fromArray(v, [u.length, dim], 'float32')];
  },
} satisfies KernelGroup;
