// Single-precision GEMM on row-major matrices:
//   C[M,N] = alpha * op(A) * op(B) + beta * C
// op(A) is A[M,K] (lda >= K) or, with trans_a, A stored as [K,M] (lda >= M); likewise B.
// Deterministic: each element of C is reduced over K in a fixed order whatever the thread count.
#pragma once
#include <cstdint>

namespace qarm {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace qarm
