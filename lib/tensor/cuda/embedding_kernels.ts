/**
 * Embedding-table kernels on CUDA (lib/tensor/cpu/embedding_kernels.ts on the CPU): coalesced
 * row-sparse gradients and bags. The row-sparse optimizers are in sparse_optim_kernels.ts,
 * attention pooling in attention_kernels.ts, the table-batched lookup in composed.ts.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import type { Tensor } from '../tensor.js';
import { cudaEmpty, f32, i32, prod, ptr, rowsDim } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The embedding kernels on CUDA, against `addon`. */
export function cudaEmbeddingKernels(addon: CudaAddon) {
  const coalesce = (
    indices: Tensor,
    rows: number,
    skipNegative: boolean,
    argName: string,
    source: Tensor,
    sourceRows: number,
    rowShape: number[],
    srcRow: bigint | null,
    weights: bigint | null,
  ): [Tensor, Tensor] => {
    const dim = prod(rowShape);
    const { count, plan } = addon.coalescePlan(i32(indices, argName), indices.size, rows, skipNegative, argName);
    const uniq = cudaEmpty([count], 'int32');
    const values = cudaEmpty([count, ...rowShape]);
    try {
      addon.coalesceReduce(plan, count, f32(source, 'source'), sourceRows, dim, indices.size, srcRow, weights, ptr(uniq, 'out'), ptr(values, 'out'));
    } catch (e) {
      uniq.dispose();
      values.dispose();
      throw e;
    }
    return [uniq, values];
  };

  return {
    coalesceRows: ({ indices, source }, attrs) => {
      const { rows, rowShape } = attrs;
      return coalesce(indices, rows, attrs.skipNegative ?? false, attrs.argName ?? 'indices', source, indices.size, rowShape, null, null);
    },

    bagBackward: ({ values, offsets, weights, dy }, attrs) => {
      const { rows, rowShape, mean } = attrs;
      const nv = values.size,
        nbags = offsets.size - 1;
      // Released right after the launches: later work on the stream is ordered after them.
      const bagOf = cudaEmpty([nv], 'int32');
      const scale = cudaEmpty([nv]);
      try {
        addon.bagWeights(i32(offsets, 'offsets'), nbags, nv, weights ? f32(weights, 'weights') : null, mean, ptr(bagOf, 'out'), ptr(scale, 'out'));
        return coalesce(values, rows, false, attrs.argName ?? 'values', dy, nbags, rowShape, ptr(bagOf, 'out'), ptr(scale, 'out'));
      } finally {
        bagOf.dispose();
        scale.dispose();
      }
    },

    bagPool: ({ table, values, offsets, weights }, attrs) => {
      const [rows, dim] = rowsDim(table);
      const nbags = offsets.size - 1;
      const out = cudaEmpty([nbags, ...table.shape.slice(1)]);
      const argName = attrs.argName ?? 'values';
      try {
        addon.bagPool(
          f32(table, 'table'),
          rows,
          dim,
          i32(values, argName),
          values.size,
          i32(offsets, 'offsets'),
          nbags,
          weights ? f32(weights, 'weights') : null,
          attrs.mean,
          ptr(out, 'out'),
          argName,
        );
      } catch (e) {
        out.dispose();
        throw e;
      }
      return out;
    },
  } satisfies KernelGroup;
}
