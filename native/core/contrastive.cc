#include "contrastive.h"

#include <algorithm>

#include "threadpool.h"

namespace qarm {
namespace {
constexpr int64_t kWork = 1 << 15;  // elements per task, so small batches stay on one thread
}

void infonce_logits(const float* s, const float* mask, int64_t b, double temperature, float* l) {
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(b, 1));
  parallel_for(b, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t j = 0; j < b; ++j) {
        const int64_t t = i * b + j;
        const double m = mask ? static_cast<double>(mask[t]) : 0.0;
        l[t] = static_cast<float>(static_cast<double>(s[t]) / temperature + m);
      }
    }
  });
}

float infonce_loss(const float* lse_r, const float* lse_c, const float* l, int64_t b) {
  double total = 0;
  for (int64_t k = 0; k < b; ++k) {
    const double sum = static_cast<double>(lse_r[k]) + static_cast<double>(lse_c[k]);
    const double twice = 2.0 * static_cast<double>(l[k * b + k]);
    total = total + (sum - twice);
  }
  return static_cast<float>(total / (2.0 * static_cast<double>(b)));
}

void infonce_grad(const float* pr, const float* pc, float dy, int64_t b, double temperature, float* g) {
  const double scale = static_cast<double>(dy) / (2.0 * static_cast<double>(b) * temperature);
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(b, 1));
  parallel_for(b, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      for (int64_t j = 0; j < b; ++j) {
        const double p = static_cast<double>(pr[i * b + j]) + static_cast<double>(pc[j * b + i]);
        g[i * b + j] = static_cast<float>((p - (i == j ? 2.0 : 0.0)) * scale);
      }
    }
  });
}

}  // namespace qarm
