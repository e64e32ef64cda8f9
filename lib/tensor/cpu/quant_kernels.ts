/**
 * CPU kernels of quantisation (see native/core/nearest.h and quant.h): fused nearest-codeword
 * search (sync and async), k-means centroid update, residual-VQ forward/backward pieces.
 * The ops in `quant/` validate shapes and dtypes; these allocate outputs and pass sizes down.
 */
import { empty } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';
import type { NearestMetric } from '../op_codes.js';
import type { Tensor } from '../tensor.js';

declare module '../native.js' {
  interface NativeAddon {
    nearest(
      x: Float32Array,
      N: number,
      D: number,
      codebook: Float32Array,
      K: number,
      k: number,
      metric: NearestMetric,
      outIdx: Int32Array,
      outDist: Float32Array,
    ): void;
    nearestAsync(
      x: Float32Array,
      N: number,
      D: number,
      codebook: Float32Array,
      K: number,
      k: number,
      metric: NearestMetric,
      outIdx: Int32Array,
      outDist: Float32Array,
    ): Promise<void>;
    kmeansUpdate(x: Float32Array, n: number, d: number, assignments: Int32Array, k: number, centroids: Float32Array, counts: Int32Array): void;
    rvqLevelForward(
      residual: Float32Array,
      codebook: Float32Array,
      K: number,
      d: number,
      codes: Int32Array,
      n: number,
      quantized: Float32Array,
      next: Float32Array,
    ): number;
    vqScatterAddScaled(grad: Float32Array, K: number, d: number, codes: Int32Array, n: number, rows: Float32Array, scale: number): void;
    rvqSteBackward(gradOut: Float32Array | null, rows: Float32Array | null, levels: number, nd: number, scale: number, gradX: Float32Array): void;
    vqCodeSums(x: Float32Array, n: number, d: number, codes: Int32Array, K: number, counts: Float32Array, sums: Float32Array): void;
  }
}

function nearestOut(x: Tensor, k: number): [Tensor, Tensor] {
  return [empty([x.shape[0], k], 'int32'), empty([x.shape[0], k], 'float32')];
}

/** Quantisation kernels on the CPU. @internal */
export const cpuQuantKernels = {
  dropSelf: ({ indices }) => {
    const [n, k1] = indices.shape;
    const k = k1 - 1;
    const src = indices.i32('indices');
    const out = empty([n, k], 'int32');
    const dst = out.i32();
    for (let i = 0; i < n; i++) {
      let w = 0;
      for (let t = 0; t <= k && w < k; t++) {
        const id = src[i * k1 + t];
        // Drop the item itself once (a duplicate of it elsewhere in the pool is kept).
        if (id === i && w === t) continue;
        dst[i * k + w++] = id;
      }
    }
    return out;
  },

  nearest: ({ x, codebook }, attrs) => {
    const { k, metric } = attrs;
    const [idx, dist] = nearestOut(x, k);
    native.nearest(x.f32('x'), x.shape[0], x.shape[1], codebook.f32('codebook'), codebook.shape[0], k, metric, idx.i32(), dist.f32());
    return { indices: idx, distances: dist };
  },

  nearestAsync: ({ x, codebook }, attrs) => {
    const { k, metric } = attrs;
    const [idx, dist] = nearestOut(x, k);
    return native
      .nearestAsync(x.f32('x'), x.shape[0], x.shape[1], codebook.f32('codebook'), codebook.shape[0], k, metric, idx.i32(), dist.f32())
      .then(() => ({ indices: idx, distances: dist }));
  },

  kmeansUpdate: ({ x, assignments, centroids }) => {
    const k = centroids.shape[0];
    const counts = empty([k], 'int32');
    native.kmeansUpdate(x.f32('x'), x.shape[0], x.shape[1], assignments.i32('assignments'), k, centroids.f32('centroids'), counts.i32());
    return counts;
  },

  rvqLevelForward: ({ residual, codebook, codes, quantized, next }) => {
    return native.rvqLevelForward(
      residual.f32('residual'),
      codebook.f32('codebook'),
      codebook.shape[0],
      codebook.shape[1],
      codes.i32('codes'),
      residual.shape[0],
      quantized.f32('quantized'),
      next.f32('next'),
    );
  },

  vqScatterAddScaled: ({ grad, codes, rows }, attrs) => {
    native.vqScatterAddScaled(grad.f32('grad'), grad.shape[0], grad.shape[1], codes.i32('codes'), codes.size, rows.f32('rows'), attrs.scale);
    return grad;
  },

  rvqSteBackward: ({ gradOut, rows }, attrs) => {
    const { levels, shape, scale } = attrs;
    const out = empty(shape);
    native.rvqSteBackward(gradOut ? gradOut.f32('gradOut') : null, rows ? rows.f32('rows') : null, levels, out.size, scale, out.f32());
    return out;
  },

  vqCodeSums: ({ x, codes }, attrs) => {
    const { K } = attrs;
    const counts = empty([K]);
    const sums = empty([K, x.shape[1]]);
    native.vqCodeSums(x.f32('x'), x.shape[0], x.shape[1], codes.i32('codes'), K, counts.f32(), sums.f32());
    return { counts, sums };
  },
} satisfies KernelGroup;
