// Straight-through vector quantiser (VQ-VAE style) on the device; see api.h for the exact
// formulas. Forward and backward validate the code indices before writing anything.
#include "api.h"
#include "segment.cuh"

namespace qarm::cuda {
namespace {

__global__ void validate_codes_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t K, int32_t* err) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (idx[i] < 0 || idx[i] >= K) report_bad(err, i);
}

// One warp per row (guarded: does nothing once a bad index was reported).
__global__ void ste_forward_kernel(const float* __restrict__ x, int64_t N, int64_t D, const float* __restrict__ cb,
                                   const int32_t* __restrict__ idx, float* __restrict__ y, float* __restrict__ sqerr,
                                   const int32_t* err) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; r < N; r += nwarps) {
    const float* xr = x + r * D;
    const float* qr = cb + int64_t(idx[r]) * D;
    double s = 0;
    for (int64_t d = lane; d < D; d += 32) {
      const float diff = qr[d] - xr[d];
      y[r * D + d] = xr[d] + diff;
      s += double(diff) * diff;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) sqerr[r] = static_cast<float>(s);
  }
}

__global__ void ste_dx_kernel(const float* __restrict__ dy, const float* __restrict__ x, int64_t N, int64_t D,
                              const float* __restrict__ cb, const int32_t* __restrict__ idx, float commit,
                              float* __restrict__ dx, const int32_t* err) {
  if (guard_failed(err)) return;
  const int64_t total = N * D;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = t / D, d = t - r * D;
    dx[t] = dy[t] + commit * (x[t] - cb[int64_t(idx[r]) * D + d]);
  }
}

// Codebook-loss gradient rows: scale * (q - x) for the row at input position q.
struct SteSrc {
  const float* x;
  const float* cb;
  const int32_t* idx;
  int64_t dim;
  float scale;
  __device__ float operator()(int32_t q, int64_t d) const {
    return scale * (cb[int64_t(idx[q]) * dim + d] - x[int64_t(q) * dim + d]);
  }
};

}  // namespace

void ste_forward(const float* x, int64_t N, int64_t D, const float* cb, int64_t K, const int32_t* idx, float* y,
                 float* sqerr) {
  if (N <= 0) return;
  reset_error_word();
  validate_codes_kernel<<<blocks_for(N, 256), 256>>>(idx, N, K, error_word());
  check_launch("steForward");
  ste_forward_kernel<<<blocks_for(N, 8, 65535LL * 8), 256>>>(x, N, D, cb, idx, y, sqerr, error_word());
  check_launch("steForward");
  throw_if_bad("indices", idx, K);
}

void ste_backward(const float* dy, const float* x, int64_t N, int64_t D, const float* cb, int64_t K, const int32_t* idx,
                  float commit_scale, float codebook_scale, float* dx, float* dcodebook) {
  if (N <= 0) return;
  SortedRows s = sort_rows(idx, N, K);  // validates into the error word
  if (D > 0) {
    ste_dx_kernel<<<blocks_for(N * D, 256), 256>>>(dy, x, N, D, cb, idx, commit_scale, dx, error_word());
    check_launch("steBackward");
    segment_sum_kernel<float, true, false><<<segment_blocks(N), 256>>>(s, D, dcodebook, nullptr, error_word(),
                                                                        SteSrc{x, cb, idx, D, codebook_scale});
    check_launch("steBackward");
  }
  throw_if_bad("indices", idx, K);
}

}  // namespace qarm::cuda
