// Dense SGEMM. cuBLAS is used when the library can be dlopen'ed at run time
// (cublas_loader.cc); otherwise, and when forced for testing, this file's tiled kernel runs:
// 64 x 64 output tiles per 256-thread block, 16-deep K slices staged in shared memory, a
// 4 x 4 register micro-tile per thread (rows ty + 16 i, columns tx + 16 j, so shared-memory
// reads are conflict-free broadcasts). Plain fp32 FMA, no tensor cores: accuracy equals the
// CPU kernel's up to summation order.
#include "api.h"
#include "common.cuh"

namespace qarm::cuda {

// From cublas_loader.cc: true when cuBLAS ran the product.
bool cublas_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

namespace {

constexpr int BM = 64, BN = 64, BK = 16;

__global__ void __launch_bounds__(256)
    sgemm_kernel(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* __restrict__ A,
                 int64_t lda, const float* __restrict__ B, int64_t ldb, float beta, float* __restrict__ C,
                 int64_t ldc) {
  __shared__ float As[BK][BM + 4];
  __shared__ float Bs[BK][BN + 4];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    // 1024 elements of each operand per slice, 4 per thread; the index order keeps global
    // reads contiguous for the untransposed layouts.
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      int e = tid + r * 256;
      int mm, kk;
      if (!ta) {
        mm = e / BK;
        kk = e % BK;
      } else {
        kk = e / BM;
        mm = e % BM;
      }
      int64_t gm = m0 + mm, gk = k0 + kk;
      As[kk][mm] = (gm < M && gk < K) ? (ta ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.f;
      int nn;
      if (!tb) {
        kk = e / BN;
        nn = e % BN;
      } else {
        nn = e / BK;
        kk = e % BK;
      }
      int64_t gn = n0 + nn;
      gk = k0 + kk;
      Bs[kk][nn] = (gn < N && gk < K) ? (tb ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    int64_t gm = m0 + ty + 16 * i;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      int64_t gn = n0 + tx + 16 * j;
      if (gn >= N) continue;
      float* c = C + gm * ldc + gn;
      *c = beta == 0.f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
    }
  }
}

__global__ void scale_kernel(float* C, int64_t M, int64_t N, int64_t ldc, float beta) {
  int64_t total = M * N;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    float* c = C + (t / N) * ldc + t % N;
    *c = beta == 0.f ? 0.f : beta * *c;
  }
}

bool g_force_builtin = false;

}  // namespace

void sgemm_builtin(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K == 0) {
    scale_kernel<<<blocks_for(M * N, 256), 256>>>(C, M, N, ldc, beta);
    check_launch("matmul");
    return;
  }
  if ((M + BM - 1) / BM > 65535)
    throw Error(ErrorCode::Shape, "argument 'a': the built-in CUDA GEMM supports at most 4194240 rows");
  dim3 grid(static_cast<unsigned>((N + BN - 1) / BN), static_cast<unsigned>((M + BM - 1) / BM));
  sgemm_kernel<<<grid, 256>>>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  check_launch("matmul");
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (!g_force_builtin && cublas_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
  sgemm_builtin(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool cublas_available();

const char* gemm_backend() { return !g_force_builtin && cublas_available() ? "cublas" : "builtin"; }

const char* set_gemm_builtin(bool builtin) {
  g_force_builtin = builtin;
  return gemm_backend();
}

}  // namespace qarm::cuda
