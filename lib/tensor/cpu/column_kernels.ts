/**
 * CPU kernels that copy column blocks of float32 matrices (concatenation and slicing along the
 * last axis). Thin wrappers over native/binding/bind_columns.cc.
 */
import { uninitialized } from '../creation.js';
import type { KernelGroup } from '../kernel_table.js';
import { native } from '../native.js';

declare module '../native.js' {
  interface NativeAddon {
    copyColumns(src: Float32Array, rows: number, srcCols: number, srcOff: number, dst: Float32Array, dstCols: number, dstOff: number, width: number): void;
  }
}

/** Column-copy kernels on the CPU. @internal */
export const cpuColumnKernels = {
  // Concatenation of float32 [rows, c_i] matrices along the last axis (native strided copies).
  concatColumns: (inputs, attrs) => {
    const xs = Object.values(inputs);
    const { rows, outShape } = attrs;
    const cols = xs.reduce((s, t) => s + t.size / Math.max(rows, 1), 0);
    const out = uninitialized(outShape); // the blocks cover every column
    let off = 0;
    xs.forEach((t, i) => {
      const w = rows ? t.size / rows : 0;
      native.copyColumns(t.f32(`xs[${i}]`), rows, w, 0, out.f32(), cols, off, w);
      off += w;
    });
    return out;
  },

  // Columns [start, start + width) of a float32 [rows, cols] matrix.
  sliceColumns: ({ x }, attrs) => {
    const { rows, cols, start, width, outShape } = attrs;
    const out = uninitialized(outShape); // every row's block is copied
    native.copyColumns(x.f32('x'), rows, cols, start, out.f32(), width, 0, width);
    return out;
  },
} satisfies KernelGroup;
