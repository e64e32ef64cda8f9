/**
 * The capacity-constrained assignment of balanced k-means. It lives in lib/tensor (the CPU
 * `balancedAssign` kernel runs it, and the CUDA backend on a host copy); re-exported here for
 * callers of the quant layer.
 */
export { balancedAssign } from '../tensor/balanced_assign.js';
