// Residual-VQ kernels (the straight-through quantiser's forward and backward pieces), with
// the semantics of native/core/quant.cc. Products that the CPU rounds before adding are
// written with __fmul_rn/__fadd_rn so nvcc cannot fuse them into an FMA: the sorted
// scatter-add then matches the CPU bit for bit.
#include "api.h"
#include "segment.cuh"

namespace qarm::cuda {
namespace {

__global__ void validate_codes_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t K, int32_t* err) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (idx[i] < 0 || idx[i] >= K) report_bad(err, i);
}

// One warp per row; part[i] = ||next_i||^2 in double.
__global__ void level_forward_kernel(const float* __restrict__ res, const float* __restrict__ cb, int64_t d,
                                     const int32_t* __restrict__ codes, int64_t n, float* __restrict__ quantized,
                                     float* __restrict__ next, double* __restrict__ part, const int32_t* err) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; i < n; i += nwarps) {
    const float* q = cb + int64_t(codes[i]) * d;
    double s = 0;
    for (int64_t j = lane; j < d; j += 32) {
      quantized[i * d + j] += q[j];
      const float nx = res[i * d + j] - q[j];
      next[i * d + j] = nx;
      s += double(nx) * nx;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) part[i] = s;
  }
}

// Sums part[0..n) in a fixed order: 1024 threads stride, then a fixed tree.
__global__ void sum_doubles_kernel(const double* __restrict__ part, int64_t n, double* __restrict__ out) {
  __shared__ double sh[1024];
  double s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += part[i];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) sh[threadIdx.x] += sh[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) *out = sh[0];
}

__global__ void ste_backward_kernel(const float* __restrict__ gout, const float* __restrict__ rows, int64_t levels,
                                    int64_t nd, float scale, float* __restrict__ gx) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nd; t += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    if (rows)
      for (int64_t l = 0; l < levels; ++l) s = __fadd_rn(s, rows[l * nd + t]);
    const float term = __fmul_rn(scale, s);
    gx[t] = gout ? __fadd_rn(gout[t], term) : term;
  }
}

struct ScaledSrc {
  const float* rows;
  int64_t dim;
  float scale;
  __device__ float operator()(int32_t q, int64_t d) const { return __fmul_rn(scale, rows[int64_t(q) * dim + d]); }
};

double* doubles(size_t n) {
  static double* p = nullptr;
  static size_t cap = 0;
  if (n > cap) {
    if (p) check(cudaFree(p), "cudaFree(scratch)");
    p = nullptr;
    cap = 0;
    check(cudaMalloc(&p, n * sizeof(double)), "cudaMalloc(scratch)");
    cap = n;
  }
  return p;
}

}  // namespace

double rvq_level_forward(const float* residual, const float* codebook, int64_t kc, int64_t d, const int32_t* codes,
                         int64_t n, float* quantized, float* next) {
  if (n <= 0) return 0.0;
  reset_error_word();
  validate_codes_kernel<<<blocks_for(n, 256), 256>>>(codes, n, kc, error_word());
  check_launch("rvqLevelForward");
  double* part = doubles(static_cast<size_t>(n) + 1);
  level_forward_kernel<<<blocks_for(n, 8, 65535LL * 8), 256>>>(residual, codebook, d, codes, n, quantized, next, part,
                                                               error_word());
  check_launch("rvqLevelForward");
  sum_doubles_kernel<<<1, 1024>>>(part, n, part + n);
  check_launch("rvqLevelForward");
  throw_if_bad("codes", codes, kc);
  double total = 0;
  copy_d2h(&total, part + n, sizeof(double));
  return total;
}

namespace {
// One thread per row: the row without its first entry equal to the row's own index.
__global__ void drop_self_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t k, int32_t* __restrict__ out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t* row = idx + i * (k + 1);
    int64_t p = k;
    for (int64_t t = 0; t < k; ++t)
      if (row[t] == i) {
        p = t;
        break;
      }
    for (int64_t w = 0; w < k; ++w) out[i * k + w] = row[w < p ? w : w + 1];
  }
}
}  // namespace

void drop_self(const int32_t* idx, int64_t n, int64_t k, int32_t* out) {
  if (n <= 0 || k <= 0) return;
  drop_self_kernel<<<blocks_for(n, 256), 256>>>(idx, n, k, out);
  check_launch("dropSelf");
}

void vq_scatter_add_scaled(float* grad, int64_t kc, int64_t d, const int32_t* codes, int64_t n, const float* rows,
                           float scale) {
  if (n <= 0) return;
  SortedRows s = sort_rows(codes, n, kc);
  if (d > 0) {
    segment_sum_kernel<float, true, false, ScaledSrc, int32_t>
        <<<segment_blocks(n), 256>>>(s, d, grad, nullptr, error_word(), ScaledSrc{rows, d, scale});
    check_launch("vqScatterAddScaled");
  }
  throw_if_bad("codes", codes, kc);
}

void rvq_ste_backward(const float* grad_out, const float* rows, int64_t levels, int64_t nd, float scale,
                      float* grad_x) {
  if (nd <= 0) return;
  ste_backward_kernel<<<blocks_for(nd, 256), 256>>>(grad_out, rows, levels, nd, scale, grad_x);
  check_launch("rvqSteBackward");
}

void vq_code_sums(const float* x, int64_t n, int64_t d, const int32_t* codes, int64_t kc, float* counts, float* sums) {
  memset_zero(counts, static_cast<size_t>(kc) * sizeof(float));
  memset_zero(sums, static_cast<size_t>(kc * d) * sizeof(float));
  if (n <= 0) return;
  SortedRows s = sort_rows(codes, n, kc);
  segment_sum_kernel<double, false, false, PlainSrc, float>
      <<<segment_blocks(n), 256>>>(s, d, sums, counts, error_word(), PlainSrc{x, d});
  check_launch("vqCodeSums");
  throw_if_bad("codes", codes, kc);
}

}  // namespace qarm::cuda
