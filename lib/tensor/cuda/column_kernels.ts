/**
 * Column-block copies of float32 matrices on CUDA (lib/tensor/cpu/column_kernels.ts on the
 * CPU): concatenation and slicing along the last axis of [rows, c] matrices, the ranker's
 * feature assembly, as strided 2-d device copies.
 * @internal
 */
import type { KernelGroup } from '../kernel_table.js';
import { cudaEmpty, f32, ptr } from './context.js';
import type { CudaAddon } from './native_cuda.js';

/** The column-copy kernels on CUDA, against `addon`. */
export function cudaColumnKernels(addon: CudaAddon) {
  return {
    concatColumns: (inputs, attrs) => {
      const xs = Object.values(inputs);
      const names = Object.keys(inputs);
      const { rows, outShape } = attrs;
      const cols = xs.reduce((s, t) => s + t.size / Math.max(rows, 1), 0);
      const out = cudaEmpty(outShape);
      let off = 0;
      xs.forEach((t, i) => {
        const w = rows ? t.size / rows : 0;
        addon.copy2d(ptr(out, 'out'), off * 4, cols * 4, f32(t, names[i]), 0, w * 4, w * 4, rows);
        off += w;
      });
      return out;
    },

    sliceColumns: ({ x }, attrs) => {
      const { rows, cols, start, width, outShape } = attrs;
      const out = cudaEmpty(outShape);
      addon.copy2d(ptr(out, 'out'), 0, width * 4, f32(x, 'x'), start * 4, cols * 4, width * 4, rows);
      return out;
    },
  } satisfies KernelGroup;
}
