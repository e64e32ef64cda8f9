/**
 * Embedding-table kernels on CUDA (on the CPU: lib/tensor/cpu/embedding_kernels.ts,
 * sparse_optim_kernels.ts and attention_kernels.ts):
 * coalesced row-sparse gradients, bags, the row-sparse optimizers and attention pooling.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import type { Tensor } from '../tensor.js';
import { cudaEmpty, f32, i32, prod, ptr, rowsDim } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The embedding kernels on CUDA, against `addon`. */
export function cudaEmbeddingKernels(addon: CudaAddon) {
  const coalesce = (indices: Tensor, rows: number, skipNegative: boolean, argName: string, source: Tensor, sourceRows: number,
    rowShape: number[], srcRow: bigint | null, weights: bigint | null): [Tensor, Tensor] => {
    const dim = prod(rowShape);
    const { count, plan } = addon.coalescePlan(i32(indices, argName), indices.size, rows, skipNegative, argName);
    const uniq = cudaEmpty([count], 'int32');
    const values = cudaEmpty([count, ...rowShape]);
    try {
      addon.coalesceReduce(plan, count, f32(source, 'source'), sourceRows, dim, indices.size, srcRow, weights, ptr(uniq, 'out'),
        ptr(values, 'out'));
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
      return coalesce(indices, rows, attrs.skipNegative ?? false, attrs.argName ?? 'indices', source,
        indices.size, rowShape, null, null);
    },

    bagBackward: ({ values, offsets, weights, dy }, attrs) => {
      const { rows, rowShape, mean } = attrs;
      const nv = values.size, nbags = offsets.size - 1;
      // Released right after the launches: later work on the stream is ordered after them.
      const bagOf = cudaEmpty([nv], 'int32');
      const scale = cudaEmpty([nv]);
      try {
        addon.bagWeights(i32(offsets, 'offsets'), nbags, nv, weights ? f32(weights, 'weights') : null, mean, ptr(bagOf, 'out'),
          ptr(scale, 'out'));
        return coalesce(values, rows, false, attrs.argName ?? 'values', dy, nbags, rowShape, ptr(bagOf, 'out'),
          ptr(scale, 'out'));
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
        addon.bagPool(f32(table, 'table'), rows, dim, i32(values, argName), values.size, i32(offsets, 'offsets'), nbags,
          weights ? f32(weights, 'weights') : null, attrs.mean, ptr(out, 'out'), argName);
      } catch (e) {
        out.dispose();
        throw e;
      }
      return out;
    },

    sparseAdamUpdate: ({ param, m, v, indices, grad }, attrs) => {
      const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = attrs;
      const [rows, dim] = rowsDim(param);
      addon.sparseAdam(f32(param, 'param'), f32(m, 'm'), f32(v, 'v'), rows, dim, i32(indices, 'indices'), indices.size,
        f32(grad, 'grad'), lr, beta1, beta2, eps, weightDecay, decoupled, step);
      return param;
    },

    rowwiseAdagradUpdate: ({ param, state, indices, grad }, attrs) => {
      const { lr, eps, weightDecay } = attrs;
      const [rows, dim] = rowsDim(param);
      addon.rowwiseAdagrad(f32(param, 'param'), f32(state, 'state'), rows, dim, i32(indices, 'indices'), indices.size,
        f32(grad, 'grad'), lr, eps, weightDecay);
      return param;
    },

    weightedPool: ({ w, k }) => {
      const [B, M, H] = w.shape;
      const D = k.shape[2];
      const out = cudaEmpty([B, M, D]);
      addon.weightedPool(f32(w, 'w'), f32(k, 'k'), ptr(out, 'out'), B, M, H, D);
      return out;
    },

    weightedPoolBackward: ({ w, k, dout }, attrs) => {
      const [B, M, H] = w.shape;
      const D = k.shape[2];
      const dw = attrs.needW ? cudaEmpty(w.shape) : null;
      const dk = attrs.needK ? cudaEmpty(k.shape) : null;
      addon.weightedPoolBackward(f32(w, 'w'), f32(k, 'k'), f32(dout, 'dout'), dw ? ptr(dw, 'dw') : null, dk ? ptr(dk, 'dk') : null,
        B, M, H, D);
      return [dw, dk];
    },
  } satisfies KernelGroup;
}
