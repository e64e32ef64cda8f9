export { Optimizer } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, type AdamOptions } from './adam.js';
export { clipGradNorm } from './clip.js';
export { SparseAdam, RowWiseAdagrad, type SparseAdamOptions, type RowWiseAdagradOptions } from './sparse.js';
