export * from './dtype.js';
export { Tensor, shapeSize } from './tensor.js';
export { tensor, zeros, ones, full, arange, rand, randn, randint, empty, type RandomOptions } from './creation.js';
export { Generator, seed } from './random.js';
export { tidy, keep, memory, type MemoryInfo } from './memory.js';
export { registerKernel, runKernel, hasKernel } from './backend.js';
export { setNumThreads, numThreads, isa, setIsa } from './runtime.js';
import './cpu/kernels.js';
import './cpu/optim_kernels.js';
