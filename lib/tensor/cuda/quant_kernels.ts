/**
 * Quantisation kernels on CUDA (lib/tensor/cpu/quant_kernels.ts on the CPU): nearest-codeword
 * search, the k-means centroid update and the residual-VQ pieces.
 * @internal
 */
import type { KernelAttrs, KernelGroup } from '../kernel_table.js';
import type { Tensor } from '../tensor.js';
import { cudaEmpty, f32, i32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';
import { settings } from './settings.js';

/** The quantisation kernels on CUDA, against `addon`. */
export function cudaQuantKernels(addon: CudaAddon) {
  const nearest = (x: Tensor, codebook: Tensor, attrs: KernelAttrs<'nearest'>) => {
    const { k, metric } = attrs;
    const [N, D] = x.shape;
    const K = codebook.shape[0];
    const indices = cudaEmpty([N, k], 'int32');
    const distances = cudaEmpty([N, k]);
    const tf32 = (attrs.variant ?? settings.nearest) === 'tf32';
    try {
      addon.nearest(
        f32(x, 'x'),
        N,
        D,
        f32(codebook, 'codebook'),
        K,
        k,
        metric,
        ptr(indices, 'indices'),
        ptr(distances, 'distances'),
        tf32,
        attrs.candidates ?? settings.nearestCandidates,
      );
    } catch (e) {
      indices.dispose();
      distances.dispose();
      throw e;
    }
    return { indices, distances };
  };

  return {
    nearest: ({ x, codebook }, attrs) => nearest(x, codebook, attrs),
    nearestAsync: ({ x, codebook }, attrs) => {
      try {
        return Promise.resolve(nearest(x, codebook, attrs));
      } catch (e) {
        return Promise.reject(e);
      }
    },

    kmeansUpdate: ({ x, assignments, centroids }) => {
      const K = centroids.shape[0];
      const counts = cudaEmpty([K], 'int32');
      addon.kmeansUpdate(f32(x, 'x'), x.shape[0], x.shape[1], i32(assignments, 'assignments'), K, f32(centroids, 'centroids'), ptr(counts, 'counts'));
      return counts;
    },

    rvqLevelForward: ({ residual, codebook, codes, quantized, next }) =>
      addon.rvqLevelForward(
        f32(residual, 'residual'),
        f32(codebook, 'codebook'),
        codebook.shape[0],
        codebook.shape[1],
        i32(codes, 'codes'),
        residual.shape[0],
        f32(quantized, 'quantized'),
        f32(next, 'next'),
      ),

    dropSelf: ({ indices }) => {
      const [n, k1] = indices.shape;
      const out = cudaEmpty([n, k1 - 1], 'int32');
      addon.dropSelf(i32(indices, 'indices'), n, k1 - 1, ptr(out, 'out'));
      return out;
    },

    vqScatterAddScaled: ({ grad, codes, rows }, attrs) => {
      addon.vqScatterAddScaled(f32(grad, 'grad'), grad.shape[0], grad.shape[1], i32(codes, 'codes'), codes.size, f32(rows, 'rows'), attrs.scale);
      return grad;
    },

    rvqSteBackward: ({ gradOut, rows }, attrs) => {
      const { levels, shape, scale } = attrs;
      const out = cudaEmpty(shape);
      addon.rvqSteBackward(gradOut ? f32(gradOut, 'gradOut') : null, rows ? f32(rows, 'rows') : null, levels, out.size, scale, ptr(out, 'out'));
      return out;
    },

    vqCodeSums: ({ x, codes }, attrs) => {
      const K = attrs.K;
      const counts = cudaEmpty([K]);
      const sums = cudaEmpty([K, x.shape[1]]);
      addon.vqCodeSums(f32(x, 'x'), x.shape[0], x.shape[1], i32(codes, 'codes'), K, ptr(counts, 'counts'), ptr(sums, 'sums'));
      return { counts, sums };
    },
  } satisfies KernelGroup;
}
