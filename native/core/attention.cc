#include "attention.h"

#include <algorithm>
#include <cstring>

#include "threadpool.h"

namespace qarm {

void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H,
                   int64_t D) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(M * H * D, 1));
  parallel_for(B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* kb = k + b * H * D;
      for (int64_t m = 0; m < M; ++m) {
        const float* wm = w + (b * M + m) * H;
        float* __restrict o = out + (b * M + m) * D;
        std::memset(o, 0, sizeof(float) * static_cast<size_t>(D));
        for (int64_t h = 0; h < H; ++h) {
          const float c = wm[h];
          if (c == 0.f) continue;
          const float* __restrict kr = kb + h * D;
          for (int64_t j = 0; j < D; ++j) o[j] += c * kr[j];
        }
      }
    }
  });
}

void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw,
                            float* dk, int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(M * H * D, 1));
  parallel_for(B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* kb = k + b * H * D;
      const float* db = dout + b * M * D;
      for (int64_t h = 0; h < H; ++h) {
        const float* __restrict kr = kb + h * D;
        if (dw) {
          for (int64_t m = 0; m < M; ++m) {
            const float* __restrict dm = db + m * D;
            float s = 0.f;
            for (int64_t j = 0; j < D; ++j) s += dm[j] * kr[j];
            dw[(b * M + m) * H + h] = s;
          }
        }
        if (dk) {
          float* __restrict dr = dk + (b * H + h) * D;
          std::memset(dr, 0, sizeof(float) * static_cast<size_t>(D));
          for (int64_t m = 0; m < M; ++m) {
            const float c = w[(b * M + m) * H + h];
            const float* __restrict dm = db + m * D;
            for (int64_t j = 0; j < D; ++j) dr[j] += c * dm[j];
          }
        }
      }
    }
  });
}

}  // namespace qarm
