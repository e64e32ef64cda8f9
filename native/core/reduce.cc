#include "reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "threadpool.h"

namespace qarm {
namespace {
constexpr int64_t kWork = 1 << 15;  // elements per task, so small problems stay on one thread
}

void reduce_sum(const float* x, float* out, int64_t outer, int64_t len, int64_t inner) {
  if (inner == 1 && outer == 1) {
    // One long vector: fixed-size blocks summed in parallel, partials added in order.
    const int64_t block = 1 << 16;
    const int64_t nb = (len + block - 1) / block;
    std::vector<double> partial(static_cast<size_t>(std::max<int64_t>(nb, 1)), 0.0);
    parallel_chunks(nb, [&](int64_t c) {
      double s = 0;
      const int64_t e = std::min(len, (c + 1) * block);
      for (int64_t i = c * block; i < e; ++i) s += x[i];
      partial[c] = s;
    });
    double s = 0;
    for (double p : partial) s += p;
    out[0] = static_cast<float>(s);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(len * inner, 1));
  parallel_for(outer, grain, [&](int64_t o0, int64_t o1) {
    std::vector<double> acc(static_cast<size_t>(inner));
    for (int64_t o = o0; o < o1; ++o) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const float* base = x + o * len * inner;
      for (int64_t l = 0; l < len; ++l) {
        const float* row = base + l * inner;
        for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
      }
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(acc[i]);
    }
  });
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float m = -INFINITY;
      for (int64_t j = 0; j < cols; ++j) m = std::max(m, xr[j]);
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) {
        float e = std::exp(xr[j] - m);
        yr[j] = e;
        s += e;
      }
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
    }
  });
}

void logsumexp_rows(const float* x, float* out, int64_t rows, int64_t cols) {
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float m = -INFINITY;
      bool has_nan = false;
      for (int64_t j = 0; j < cols; ++j) {
        if (std::isnan(xr[j]))
          has_nan = true;
        else
          m = std::max(m, xr[j]);
      }
      // A NaN anywhere gives NaN; all -inf gives -inf; any +inf gives +inf.
      if (has_nan || std::isinf(m)) {
        out[r] = has_nan ? NAN : m;
        continue;
      }
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) s += std::exp(static_cast<double>(xr[j] - m));
      out[r] = static_cast<float>(m + std::log(s));
    }
  });
}

void l2_normalize_rows(const float* x, float* y, float* norms, int64_t rows, int64_t cols, float eps) {
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      double s = 0;
      for (int64_t j = 0; j < cols; ++j) s += static_cast<double>(xr[j]) * xr[j];
      const float n = static_cast<float>(std::sqrt(s));
      if (norms) norms[r] = n;
      float* yr = y + r * cols;
      if (std::isfinite(n)) {
        const float inv = 1.f / std::max(n, eps);
        for (int64_t j = 0; j < cols; ++j) yr[j] = xr[j] * inv;
      } else {
        // The norm overflows float (sum of squares > FLT_MAX, elements finite): divide in double,
        // where it is finite, instead of multiplying by 1/inf = 0.
        const double inv = 1.0 / std::sqrt(s);
        for (int64_t j = 0; j < cols; ++j) yr[j] = static_cast<float>(xr[j] * inv);
      }
    }
  });
}

void clamp_norms(const float* norms, int64_t n, double eps, float* clamped, float* mask) {
  for (int64_t i = 0; i < n; ++i) {
    const bool small = static_cast<double>(norms[i]) < eps;
    clamped[i] = small ? static_cast<float>(eps) : norms[i];
    mask[i] = small ? 0.f : 1.f;
  }
}

void argreduce_rows(const float* x, int32_t* out, int64_t rows, int64_t cols, bool is_max) {
  const int64_t grain = std::max<int64_t>(1, kWork / std::max<int64_t>(cols, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      int64_t best = 0;
      float bv = xr[0];
      if (!std::isnan(bv)) {
        for (int64_t j = 1; j < cols; ++j) {
          const float v = xr[j];
          if (std::isnan(v)) {
            best = j;
            break;
          }
          if (is_max ? v > bv : v < bv) {
            bv = v;
            best = j;
          }
        }
      }
      out[r] = static_cast<int32_t>(best);
    }
  });
}

}  // namespace qarm
