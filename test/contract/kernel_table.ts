// Compile-time checks of the kernel contract (lib/tensor/kernel_table.ts), run by
// test/kernel_contract.test.js with `tsc -p test/contract`. Each `@ts-expect-error` line must
// be a type error: if the contract stops catching it, tsc reports the directive as unused.
import { runKernel } from '../../lib/tensor/backend.js';
import { cpuKernels } from '../../lib/tensor/cpu/index.js';
import { cudaKernels } from '../../lib/tensor/cuda/index.js';
import type { CudaAddon } from '../../lib/tensor/cuda/native_cuda.js';
import type { KernelImpls } from '../../lib/tensor/kernel_table.js';
import { tensor } from '../../lib/tensor/creation.js';
import type { Tensor } from '../../lib/tensor/tensor.js';

// Both backends implement every kernel.
export const cpu: KernelImpls = cpuKernels;
export const cuda: (a: CudaAddon) => KernelImpls = cudaKernels;

// A backend that lacks one kernel is not a backend.
const { nearest: _nearest, ...withoutNearest } = cpuKernels;
// @ts-expect-error -- 'nearest' is missing
export const lacking: KernelImpls = withoutNearest;

// A kernel with the wrong attributes or result is not an implementation.
export const wrongAttrs: KernelImpls = {
  ...cpuKernels,
  // @ts-expect-error -- softmaxRows has no attribute 'width'
  softmaxRows: ({ x }, attrs: { width: number }) => x.view([attrs.width]),
};
export const wrongResult: KernelImpls = {
  ...cpuKernels,
  // @ts-expect-error -- kmeansUpdate returns the counts tensor, not a number
  kmeansUpdate: () => 0,
};

const x = tensor([1, 2, 3, 4], [2, 2]);
// Calls are typed by the table: the result needs no cast.
export const lse: Tensor = runKernel('logsumexpRows', { x }, { rows: 2, cols: 2, outShape: [2] });
export const pair: [Tensor, Tensor] = runKernel('l2NormalizeRows', { x }, { rows: 2, cols: 2, eps: 1e-12 });
export const counts: number = runKernel('rvqLevelForward', { residual: x, codebook: x, codes: x, quantized: x, next: x });
export const copied: Tensor = runKernel('copy', { x });

// @ts-expect-error -- unknown kernel
runKernel('softmax', { x }, { rows: 2, cols: 2 });
// @ts-expect-error -- 'cols' is required
runKernel('softmaxRows', { x }, { rows: 2 });
// @ts-expect-error -- softmaxRows needs its attributes
runKernel('softmaxRows', { x });
// @ts-expect-error -- the input is named 'x'
runKernel('softmaxRows', { y: x }, { rows: 2, cols: 2 });
// @ts-expect-error -- not a unary op
runKernel('unary', { x }, { op: 'cube' });
// @ts-expect-error -- not a metric
runKernel('nearest', { x, codebook: x }, { k: 1, metric: 'manhattan' });
// @ts-expect-error -- the result is a pair, not a tensor
export const notOne: Tensor = runKernel('coalesceRows', { indices: x, source: x }, { rows: 2, rowShape: [2] });
