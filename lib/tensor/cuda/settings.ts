/** Process-wide choices of the CUDA backend (see `cuda.configure`). @internal */
export const settings: {
  /** Row scatter-add used by `scatterAddRows` (embedding backward): deterministic or atomic. */
  scatter: 'sorted' | 'atomic';
  /** Nearest-codeword kernel: exact fp32 CUDA cores, or TF32 tensor cores + exact re-rank. */
  nearest: 'fp32' | 'tf32';
  /** Candidates per row the TF32 kernel re-ranks (0 = max(2k, k + 16), capped at 128). */
  nearestCandidates: number;
  /** Dense GEMM: cuBLAS when it can be loaded ('auto'), or always the built-in kernel. */
  gemm: 'auto' | 'builtin';
} = { scatter: 'sorted', nearest: 'fp32', nearestCandidates: 0, gemm: 'auto' };
