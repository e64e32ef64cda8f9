#include "gemm.h"

#include <algorithm>
#include <vector>

#include "threadpool.h"

namespace qarm {

// Straightforward row-parallel GEMM; the packed SIMD microkernel replaces this path.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc) {
  parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> acc(static_cast<size_t>(N));
    std::vector<float> brow(static_cast<size_t>(N));
    for (int64_t i = r0; i < r1; ++i) {
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t p = 0; p < K; ++p) {
        float a = trans_a ? A[p * lda + i] : A[i * lda + p];
        const float* b;
        if (trans_b) {
          for (int64_t j = 0; j < N; ++j) brow[j] = B[j * ldb + p];
          b = brow.data();
        } else {
          b = B + p * ldb;
        }
        for (int64_t j = 0; j < N; ++j) acc[j] += a * b[j];
      }
      float* c = C + i * ldc;
      if (beta == 0.f) {
        for (int64_t j = 0; j < N; ++j) c[j] = alpha * acc[j];
      } else {
        for (int64_t j = 0; j < N; ++j) c[j] = alpha * acc[j] + beta * c[j];
      }
    }
  });
}

}  // namespace qarm
