// See quant.h. Grouping by code uses one stable counting sort; each chunk of codes is then
// reduced by one thread in increasing row order.
#include "quant.h"

#include <algorithm>
#include <string>
#include <vector>

#include "error.h"
#include "threadpool.h"

namespace qarm {
namespace {

// Stable counting sort of row ids by code: order[start[c] .. start[c+1]) are c's rows, ascending.
void group_by_code(const int32_t* codes, int64_t n, int64_t kc, const char* arg, std::vector<int64_t>& start,
                   std::vector<int64_t>& order) {
  start.assign(static_cast<size_t>(kc + 1), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t c = codes[i];
    if (c < 0 || c >= kc)
      throw Error(ErrorCode::Index, std::string("argument '") + arg + "' holds " + std::to_string(c) + " at " +
                                        std::to_string(i) + ", outside [0, " + std::to_string(kc) + ")");
    ++start[static_cast<size_t>(c) + 1];
  }
  for (int64_t c = 0; c < kc; ++c) start[c + 1] += start[c];
  order.resize(static_cast<size_t>(n));
  std::vector<int64_t> pos(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(pos[codes[i]]++)] = i;
}

// Codes per work chunk: enough rows per chunk to amortise the dispatch.
int64_t code_grain(int64_t n, int64_t kc, int64_t d) {
  const int64_t per_code = (n / (kc > 0 ? kc : 1) + 1) * d;
  int64_t g = 65536 / (per_code > 0 ? per_code : 1);
  return g < 1 ? 1 : g;
}

}  // namespace

void kmeans_update(const float* x, int64_t n, int64_t d, const int32_t* assign, int64_t k, float* centroids,
                   int32_t* counts) {
  std::vector<int64_t> start, order;
  group_by_code(assign, n, k, "assignments", start, order);
  parallel_for(k, code_grain(n, k, d), [&](int64_t cb, int64_t ce) {
    std::vector<double> acc(static_cast<size_t>(d));
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t b = start[c], e = start[c + 1];
      counts[c] = static_cast<int32_t>(e - b);
      if (b == e) continue;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = b; t < e; ++t) {
        const float* r = x + order[t] * d;
        for (int64_t j = 0; j < d; ++j) acc[j] += r[j];
      }
      const double inv = 1.0 / static_cast<double>(e - b);
      for (int64_t j = 0; j < d; ++j) centroids[c * d + j] = static_cast<float>(acc[j] * inv);
    }
  });
}

void cluster_sums(const float* x, int64_t n, int64_t d, const int32_t* assign, int64_t k, int32_t* counts,
                  double* sums) {
  std::vector<int64_t> start, order;
  group_by_code(assign, n, k, "assignments", start, order);
  parallel_for(k, code_grain(n, k, d), [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double* acc = sums + c * d;
      std::fill(acc, acc + d, 0.0);
      for (int64_t t = start[c]; t < start[c + 1]; ++t) {
        const float* r = x + order[t] * d;
        for (int64_t j = 0; j < d; ++j) acc[j] += r[j];
      }
      counts[c] = static_cast<int32_t>(start[c + 1] - start[c]);
    }
  });
}

void centroids_from_sums(const double* sums, const int32_t* counts, int64_t k, int64_t d, float* centroids) {
  for (int64_t c = 0; c < k; ++c) {
    if (counts[c] <= 0) continue;
    const double inv = 1.0 / static_cast<double>(counts[c]);
    for (int64_t j = 0; j < d; ++j) centroids[c * d + j] = static_cast<float>(sums[c * d + j] * inv);
  }
}

double rvq_level_forward(const float* residual, const float* codebook, int64_t kc, int64_t d, const int32_t* codes,
                         int64_t n, float* quantized, float* next) {
  for (int64_t i = 0; i < n; ++i)
    if (codes[i] < 0 || codes[i] >= kc)
      throw Error(ErrorCode::Index, "argument 'codes' holds " + std::to_string(codes[i]) + " at " + std::to_string(i) +
                                        ", outside [0, " + std::to_string(kc) + ")");
  const int64_t grain = 256;
  std::vector<double> part(static_cast<size_t>((n + grain - 1) / grain), 0.0);
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    double s = 0;
    for (int64_t i = b; i < e; ++i) {
      const float* q = codebook + static_cast<int64_t>(codes[i]) * d;
      const float* r = residual + i * d;
      float* qo = quantized + i * d;
      float* nx = next + i * d;
      for (int64_t j = 0; j < d; ++j) {
        qo[j] += q[j];
        nx[j] = r[j] - q[j];
        s += static_cast<double>(nx[j]) * nx[j];
      }
    }
    part[static_cast<size_t>(b / grain)] = s;
  });
  double total = 0;
  for (double p : part) total += p;
  return total;
}

void vq_scatter_add_scaled(float* grad, int64_t kc, int64_t d, const int32_t* codes, int64_t n, const float* rows,
                           float scale) {
  std::vector<int64_t> start, order;
  group_by_code(codes, n, kc, "codes", start, order);
  parallel_for(kc, code_grain(n, kc, d), [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      float* g = grad + c * d;
      for (int64_t t = start[c]; t < start[c + 1]; ++t) {
        const float* r = rows + order[t] * d;
        for (int64_t j = 0; j < d; ++j) g[j] += scale * r[j];
      }
    }
  });
}

void rvq_ste_backward(const float* grad_out, const float* rows, int64_t levels, int64_t nd, float scale,
                      float* grad_x) {
  parallel_for(nd, 16384, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float s = 0.f;
      if (rows)
        for (int64_t l = 0; l < levels; ++l) s += rows[l * nd + t];
      grad_x[t] = grad_out ? grad_out[t] + scale * s : scale * s;
    }
  });
}

void vq_code_sums(const float* x, int64_t n, int64_t d, const int32_t* codes, int64_t kc, float* counts, float* sums) {
  std::vector<int64_t> start, order;
  group_by_code(codes, n, kc, "codes", start, order);
  parallel_for(kc, code_grain(n, kc, d), [&](int64_t cb, int64_t ce) {
    std::vector<double> acc(static_cast<size_t>(d));
    for (int64_t c = cb; c < ce; ++c) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = start[c]; t < start[c + 1]; ++t) {
        const float* r = x + order[t] * d;
        for (int64_t j = 0; j < d; ++j) acc[j] += r[j];
      }
      counts[c] = static_cast<float>(start[c + 1] - start[c]);
      for (int64_t j = 0; j < d; ++j) sums[c * d + j] = static_cast<float>(acc[j]);
    }
  });
}

}  // namespace qarm
