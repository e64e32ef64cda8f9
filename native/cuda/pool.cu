// Attention pooling of a padded sequence (native/core/attention.h): a batch of tiny
// [M,H] x [H,D] products and their backward. One thread per output element, fixed order.
#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

// out[b, m, j] = sum_h w[b, m, h] k[b, h, j]
__global__ void pool_kernel(const float* __restrict__ w, const float* __restrict__ k, float* __restrict__ out,
                            int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t total = B * M * D;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = t % D, bm = t / D, b = bm / M;
    const float* wm = w + bm * H;
    const float* kb = k + b * H * D + j;
    float acc = 0.f;
    for (int64_t h = 0; h < H; ++h) {
      const float c = wm[h];
      if (c != 0.f) acc = __fadd_rn(acc, __fmul_rn(c, kb[h * D]));
    }
    out[t] = acc;
  }
}

// dw[b, m, h] = <dout[b, m, :], k[b, h, :]>
__global__ void pool_dw_kernel(const float* __restrict__ k, const float* __restrict__ dout, float* __restrict__ dw,
                               int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t total = B * M * H;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t h = t % H, bm = t / H, b = bm / M;
    const float* dm = dout + bm * D;
    const float* kr = k + (b * H + h) * D;
    float s = 0.f;
    for (int64_t j = 0; j < D; ++j) s = __fadd_rn(s, __fmul_rn(dm[j], kr[j]));
    dw[t] = s;
  }
}

// dk[b, h, j] = sum_m w[b, m, h] dout[b, m, j]
__global__ void pool_dk_kernel(const float* __restrict__ w, const float* __restrict__ dout, float* __restrict__ dk,
                               int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t total = B * H * D;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = t % D, bh = t / D, b = bh / H, h = bh % H;
    float acc = 0.f;
    for (int64_t m = 0; m < M; ++m) acc = __fadd_rn(acc, __fmul_rn(w[(b * M + m) * H + h], dout[(b * M + m) * D + j]));
    dk[t] = acc;
  }
}

}  // namespace

void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t total = B * M * D;
  if (total <= 0) return;
  pool_kernel<<<blocks_for(total, 256), 256>>>(w, k, out, B, M, H, D);
  check_launch("weightedPool");
}

void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw, float* dk, int64_t B,
                            int64_t M, int64_t H, int64_t D) {
  if (dw && B * M * H > 0) {
    pool_dw_kernel<<<blocks_for(B * M * H, 256), 256>>>(k, dout, dw, B, M, H, D);
    check_launch("weightedPoolBackward");
  }
  if (dk && B * H * D > 0) {
    pool_dk_kernel<<<blocks_for(B * H * D, 256), 256>>>(w, dout, dk, B, M, H, D);
    check_launch("weightedPoolBackward");
  }
}

}  // namespace qarm::cuda
