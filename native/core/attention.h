// Weighted pooling of a padded sequence for target attention: for each sample b and each of
// M weight vectors, out[b, m, :] = sum_h w[b, m, h] * k[b, h, :] (a batch of tiny [M,H]x[H,D]
// products), and its backward. Parallel over samples, fixed order: thread-count independent.
#pragma once
#include <cstdint>

namespace qarm {

void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H,
                   int64_t D);

// dw[b, m, h] = <dout[b, m, :], k[b, h, :]>; dk[b, h, :] = sum_m w[b, m, h] * dout[b, m, :].
// Either output may be null.
void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw,
                            float* dk, int64_t B, int64_t M, int64_t H, int64_t D);

}  // namespace qarm
