// Reductions, mirroring native/core/reduce.cc: sums accumulate in double (as on the CPU, so
// results agree to float rounding rather than to summation order), row ops give one warp
// per row, and the row max/argmin rules (ties to the lower index, first NaN wins) match.
#include <cmath>

#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// inner == 1: one warp per row.
__global__ void sum_rows_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t len) {
  int lane = threadIdx.x & 31;
  int64_t warp = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += nwarps) {
    const float* xr = x + r * len;
    double s = 0;
    for (int64_t j = lane; j < len; j += 32) s += xr[j];
    s = warp_sum(s);
    if (lane == 0) out[r] = static_cast<float>(s);
  }
}

// A long row with few rows: one 1024-thread block per row.
__global__ void sum_long_rows_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t len) {
  __shared__ double part[32];
  const float* xr = x + int64_t(blockIdx.x) * len;
  double s = 0;
  for (int64_t j = threadIdx.x; j < len; j += blockDim.x) s += xr[j];
  s = warp_sum(s);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x < 32) {
    double t = threadIdx.x < (blockDim.x >> 5) ? part[threadIdx.x] : 0.0;
    t = warp_sum(t);
    if (threadIdx.x == 0) out[blockIdx.x] = static_cast<float>(t);
  }
}

// inner > 1: thread per (o, i), loop over len (coalesced along i). `chunk` splits len so
// that short-and-wide reductions still have enough threads; partial sums go to `partial`
// (double [outer, chunks, inner]) when chunks > 1.
__global__ void sum_inner_kernel(const float* __restrict__ x, float* __restrict__ out, double* __restrict__ partial,
                                 int64_t outer, int64_t len, int64_t inner, int64_t chunk, int64_t chunks) {
  int64_t total = outer * chunks * inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = t % inner;
    int64_t c = (t / inner) % chunks;
    int64_t o = t / (inner * chunks);
    int64_t l0 = c * chunk, l1 = min(len, l0 + chunk);
    const float* xo = x + o * len * inner + i;
    double s = 0;
    for (int64_t l = l0; l < l1; ++l) s += xo[l * inner];
    if (chunks == 1)
      out[o * inner + i] = static_cast<float>(s);
    else
      partial[t] = s;
  }
}

__global__ void sum_partials_kernel(const double* __restrict__ partial, float* __restrict__ out, int64_t outer,
                                    int64_t chunks, int64_t inner) {
  int64_t total = outer * inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = t % inner, o = t / inner;
    const double* p = partial + o * chunks * inner + i;
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += p[c * inner];
    out[t] = static_cast<float>(s);
  }
}

__global__ void softmax_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t rows, int64_t cols) {
  int lane = threadIdx.x & 31;
  int64_t warp = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += nwarps) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = -INFINITY;
    for (int64_t j = lane; j < cols; j += 32) m = fmaxf(m, xr[j]);
    m = warp_max(m);
    double s = 0;
    for (int64_t j = lane; j < cols; j += 32) {
      float e = expf(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    s = warp_sum(s);
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t j = lane; j < cols; j += 32) yr[j] *= inv;
  }
}

__global__ void logsumexp_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t cols) {
  int lane = threadIdx.x & 31;
  int64_t warp = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += nwarps) {
    const float* xr = x + r * cols;
    float m = -INFINITY;
    for (int64_t j = lane; j < cols; j += 32) m = fmaxf(m, xr[j]);
    m = warp_max(m);
    if (isinf(m)) {
      if (lane == 0) out[r] = m;
      continue;
    }
    double s = 0;
    for (int64_t j = lane; j < cols; j += 32) s += exp(static_cast<double>(xr[j] - m));
    s = warp_sum(s);
    if (lane == 0) out[r] = static_cast<float>(m + log(s));
  }
}

__global__ void l2norm_kernel(const float* __restrict__ x, float* __restrict__ y, float* __restrict__ norms,
                              int64_t rows, int64_t cols, float eps) {
  int lane = threadIdx.x & 31;
  int64_t warp = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += nwarps) {
    const float* xr = x + r * cols;
    double s = 0;
    for (int64_t j = lane; j < cols; j += 32) s += static_cast<double>(xr[j]) * xr[j];
    s = warp_sum(s);
    const float n = static_cast<float>(sqrt(s));
    if (norms && lane == 0) norms[r] = n;
    float* yr = y + r * cols;
    if (isfinite(n)) {
      const float inv = 1.f / fmaxf(n, eps);
      for (int64_t j = lane; j < cols; j += 32) yr[j] = xr[j] * inv;
    } else {
      // Norm beyond float range (as on the CPU): divide in double instead of scaling by 1/inf.
      const double inv = 1.0 / sqrt(s);
      for (int64_t j = lane; j < cols; j += 32) yr[j] = static_cast<float>(xr[j] * inv);
    }
  }
}

// Candidate (v, j) beats (bv, bj): a NaN beats any number (the first NaN wins), otherwise
// the strictly better value, ties to the lower index.
__device__ __forceinline__ bool arg_better(float v, int64_t j, float bv, int64_t bj, bool is_max) {
  bool vn = isnan(v), bn = isnan(bv);
  if (vn || bn) return vn && (!bn || j < bj);
  if (v == bv) return j < bj;
  return is_max ? v > bv : v < bv;
}

__global__ void argreduce_kernel(const float* __restrict__ x, int32_t* __restrict__ out, int64_t rows, int64_t cols,
                                 bool is_max) {
  int lane = threadIdx.x & 31;
  int64_t warp = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = warp; r < rows; r += nwarps) {
    const float* xr = x + r * cols;
    float bv = NAN;
    int64_t bj = -1;
    for (int64_t j = lane; j < cols; j += 32) {
      float v = xr[j];
      if (bj < 0 || arg_better(v, j, bv, bj, is_max)) {
        bv = v;
        bj = j;
      }
    }
    for (int o = 16; o > 0; o >>= 1) {
      float ov = __shfl_xor_sync(0xffffffffu, bv, o);
      int64_t oj = __shfl_xor_sync(0xffffffffu, bj, o);
      if (oj >= 0 && (bj < 0 || arg_better(ov, oj, bv, bj, is_max))) {
        bv = ov;
        bj = oj;
      }
    }
    if (lane == 0) out[r] = static_cast<int32_t>(bj);
  }
}

unsigned warp_blocks(int64_t rows) { return blocks_for(rows, kWarpsPerBlock, 65535LL * 8); }

// Grow-only device scratch for two-pass reductions (freed never: a few MB at most).
double* scratch_doubles(int64_t n) {
  static double* buf = nullptr;
  static int64_t cap = 0;
  if (n > cap) {
    if (buf) check(cudaFree(buf), "cudaFree(scratch)");
    buf = nullptr;
    check(cudaMalloc(&buf, n * sizeof(double)), "cudaMalloc(scratch)");
    cap = n;
  }
  return buf;
}

}  // namespace

void reduce_sum(const float* x, float* out, int64_t outer, int64_t len, int64_t inner) {
  int64_t n_out = outer * inner;
  if (n_out <= 0) return;
  if (len == 0) {
    fill_f32(out, n_out, 0.f);
    return;
  }
  if (inner == 1) {
    if (outer < 128 && len > 8192)
      sum_long_rows_kernel<<<static_cast<unsigned>(outer), 1024>>>(x, out, len);
    else
      sum_rows_kernel<<<warp_blocks(outer), 32 * kWarpsPerBlock>>>(x, out, outer, len);
    check_launch("sumAxis");
    return;
  }
  // Aim for >= 64K threads: split len into chunks when outer * inner alone is too small.
  int64_t chunks = 1;
  if (n_out < 65536 && len > 64) {
    chunks = std::min<int64_t>((65536 + n_out - 1) / n_out, (len + 63) / 64);
    chunks = std::min<int64_t>(chunks, 4096);
  }
  int64_t chunk = (len + chunks - 1) / chunks;
  chunks = (len + chunk - 1) / chunk;
  double* partial = chunks > 1 ? scratch_doubles(n_out * chunks) : nullptr;
  sum_inner_kernel<<<blocks_for(n_out * chunks, 256), 256>>>(x, out, partial, outer, len, inner, chunk, chunks);
  check_launch("sumAxis");
  if (chunks > 1) {
    sum_partials_kernel<<<blocks_for(n_out, 256), 256>>>(partial, out, outer, chunks, inner);
    check_launch("sumAxis");
  }
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0) return;
  softmax_kernel<<<warp_blocks(rows), 32 * kWarpsPerBlock>>>(x, y, rows, cols);
  check_launch("softmaxRows");
}
void logsumexp_rows(const float* x, float* out, int64_t rows, int64_t cols) {
  if (rows <= 0) return;
  logsumexp_kernel<<<warp_blocks(rows), 32 * kWarpsPerBlock>>>(x, out, rows, cols);
  check_launch("logsumexpRows");
}
void l2_normalize_rows(const float* x, float* y, float* norms, int64_t rows, int64_t cols, float eps) {
  if (rows <= 0) return;
  l2norm_kernel<<<warp_blocks(rows), 32 * kWarpsPerBlock>>>(x, y, norms, rows, cols, eps);
  check_launch("l2NormalizeRows");
}
void argreduce_rows(const float* x, int32_t* out, int64_t rows, int64_t cols, bool is_max) {
  if (rows <= 0) return;
  argreduce_kernel<<<warp_blocks(rows), 32 * kWarpsPerBlock>>>(x, out, rows, cols, is_max);
  check_launch("argReduceRows");
}

}  // namespace qarm::cuda
