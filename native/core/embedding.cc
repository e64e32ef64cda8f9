#include "embedding.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "../common/checks.h"
#include "cpu_features.h"
#include "error.h"
#include "threadpool.h"

QARM_ISA_DECLARE(void index_add_span(float* target, int64_t dim, const int32_t* idx, const float* src,
                                     const int32_t* pos, int64_t first, int64_t m, int64_t ahead))

namespace qarm {
namespace {

[[noreturn]] void bad_index(const char* arg, int64_t pos, int32_t v, int64_t rows) {
  throw Error(ErrorCode::Index, std::string("argument '") + arg + "': index " + std::to_string(v) + " at position " +
                                    std::to_string(pos) + " is outside [0, " + std::to_string(rows) + ")");
}

// Rows per parallel chunk: about 16 KiB of floats, independent of the thread count.
int64_t row_grain(int64_t dim) { return std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(dim, 1)); }

inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
inline void prefetch_w(const void* p) { __builtin_prefetch(p, 1, 3); }

// dst[0..dim) += w * s[0..dim)
inline void axpy_row(float* __restrict dst, const float* __restrict s, float w, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) dst[j] += w * s[j];
}
inline void add_row(float* __restrict dst, const float* __restrict s, int64_t dim) {
  for (int64_t j = 0; j < dim; ++j) dst[j] += s[j];
}

}  // namespace

RowPlan plan_rows(const int32_t* idx, int64_t n, int64_t rows, const char* arg, bool skip_negative) {
  if (n > INT32_MAX) throw Error(ErrorCode::Shape, std::string("argument '") + arg + "' has more than 2^31-1 entries");
  // Keys and positions of the indices kept (validated before anything is written anywhere).
  std::vector<uint32_t> keys;
  std::vector<int32_t> pos;
  keys.reserve(static_cast<size_t>(n));
  pos.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = idx[i];
    if (v < 0 && skip_negative) continue;
    if (v < 0 || v >= rows) bad_index(arg, i, v, rows);
    keys.push_back(static_cast<uint32_t>(v));
    pos.push_back(static_cast<int32_t>(i));
  }
  const int64_t m = static_cast<int64_t>(keys.size());
  // Stable LSD radix sort on the row id, 11 bits per pass, only as many passes as `rows` needs:
  // positions of one row stay ascending, so sums run in the serial loop's order.
  int bits = 0;
  while (bits < 32 && (static_cast<uint64_t>(1) << bits) < static_cast<uint64_t>(rows)) ++bits;
  std::vector<uint32_t> keys2(static_cast<size_t>(m));
  std::vector<int32_t> pos2(static_cast<size_t>(m));
  constexpr int kDigit = 11;
  std::vector<int64_t> count(1u << kDigit);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    const uint32_t mask = (1u << kDigit) - 1u;
    for (int64_t i = 0; i < m; ++i) ++count[(keys[i] >> shift) & mask];
    int64_t sum = 0;
    for (auto& c : count) {
      const int64_t t = c;
      c = sum;
      sum += t;
    }
    for (int64_t i = 0; i < m; ++i) {
      const int64_t d = count[(keys[i] >> shift) & mask]++;
      keys2[d] = keys[i];
      pos2[d] = pos[i];
    }
    keys.swap(keys2);
    pos.swap(pos2);
  }
  RowPlan plan;
  plan.order = std::move(pos);
  plan.start.reserve(static_cast<size_t>(m) + 1);
  for (int64_t i = 0; i < m; ++i) {
    if (i == 0 || keys[i] != keys[i - 1]) {
      plan.uniq.push_back(static_cast<int32_t>(keys[i]));
      plan.start.push_back(i);
    }
  }
  plan.start.push_back(m);
  return plan;
}

void reduce_plan(const RowPlan& plan, const float* src, int64_t dim, const int32_t* src_row, const float* weight,
                 float* out) {
  const int64_t U = static_cast<int64_t>(plan.uniq.size());
  parallel_for(U, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      float* dst = out + u * dim;
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(dim));
      for (int64_t p = plan.start[u]; p < plan.start[u + 1]; ++p) {
        const int64_t i = plan.order[p];
        const float* s = src + (src_row ? static_cast<int64_t>(src_row[i]) : i) * dim;
        if (weight)
          axpy_row(dst, s, weight[i], dim);
        else
          add_row(dst, s, dim);
      }
    }
  });
}

void reduce_plan_strided(const RowPlan& plan, const float* src, int64_t dim, int64_t src_stride, float* out) {
  const int64_t U = static_cast<int64_t>(plan.uniq.size());
  parallel_for(U, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      float* dst = out + u * dim;
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(dim));
      for (int64_t p = plan.start[u]; p < plan.start[u + 1]; ++p)
        add_row(dst, src + static_cast<int64_t>(plan.order[p]) * src_stride, dim);
    }
  });
}

bool prefer_dense_sum(int64_t n, int64_t rows, int64_t dim) {
  return rows <= n && rows * std::max<int64_t>(dim, 1) <= (1 << 16);
}

int64_t sum_rows_dense(const int32_t* idx, int64_t n, int64_t rows, const float* src, int64_t dim, int64_t src_stride,
                       bool skip_negative, const char* arg, float* acc, uint8_t* touched) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = idx[i];
    if (v < 0 && skip_negative) continue;
    if (v < 0 || v >= rows) bad_index(arg, i, v, rows);
  }
  int64_t distinct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = idx[i];
    if (v < 0) continue;
    distinct += touched[v] == 0;
    touched[v] = 1;
    add_row(acc + static_cast<int64_t>(v) * dim, src + i * src_stride, dim);
  }
  return distinct;
}

void compact_dense_rows(const float* acc, const uint8_t* touched, int64_t rows, int64_t dim, int32_t* uniq,
                        float* out) {
  int64_t u = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (!touched[r]) continue;
    uniq[u] = static_cast<int32_t>(r);
    std::memcpy(out + u * dim, acc + r * dim, sizeof(float) * static_cast<size_t>(dim));
    ++u;
  }
}

void tbe_forward(const float* const* tables, const int64_t* rows, const int32_t* const* ids, const int32_t* group,
                 int T, int G, int64_t n, int64_t dim, float* out, const char* arg) {
  for (int t = 0; t < T; ++t)
    for (int64_t i = 0; i < n; ++i)
      if (ids[t][i] >= rows[t])
        throw Error(ErrorCode::Index, std::string("argument '") + arg + "[" + std::to_string(t) + "]': index " +
                                          std::to_string(ids[t][i]) + " at position " + std::to_string(i) +
                                          " is outside [0, " + std::to_string(rows[t]) + ")");
  const int64_t width = G * dim;
  parallel_for(n, row_grain(width), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float* row = out + i * width;
      std::memset(row, 0, sizeof(float) * static_cast<size_t>(width));
      for (int t = 0; t < T; ++t) {
        if (i + 4 < e && ids[t][i + 4] >= 0) prefetch(tables[t] + static_cast<int64_t>(ids[t][i + 4]) * dim);
        const int32_t id = ids[t][i];
        if (id >= 0) add_row(row + group[t] * dim, tables[t] + static_cast<int64_t>(id) * dim, dim);
      }
    }
  });
}

void index_add(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
               const char* arg) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= rows) bad_index(arg, i, idx[i], rows);
  if (n == 0 || dim == 0) return;
  auto span = QARM_ISA_SELECT(index_add_span);
  // Each update is a cache miss on a table row: keep about 64 lines in flight.
  const int64_t ahead = std::clamp<int64_t>(64 / ((dim + 15) / 16), 8, 32);
  const int T = num_threads();
  if (T == 1 || n * dim < (1 << 16)) {
    span(target, dim, idx, src, nullptr, 0, n, ahead);
    return;
  }
  // Row ownership: chunk c owns the rows [cut[c], cut[c+1]); its thread scans idx in order and
  // applies only that chunk's updates. So every row receives its additions in increasing i from one thread —
  // the serial loop's order, bit for bit, however the rows are cut — with no sort, lock or atomic.
  // The cuts balance an estimated cost per bucket of rows: a first touch of a row is a cache
  // miss, a repeat is nearly free, so a bucket of w rows with c updates costs about
  // c + kMiss * w * (1 - exp(-c / w)) (expected distinct rows). Skewed (Zipf) indices would
  // otherwise leave one thread with the few hot rows and the other with every miss.
  int shift = 0;
  while (((rows - 1) >> shift) >= 1024) ++shift;
  const int64_t nb = ((rows - 1) >> shift) + 1;
  std::vector<int64_t> count(static_cast<size_t>(nb), 0);
  for (int64_t i = 0; i < n; ++i) ++count[static_cast<size_t>(idx[i] >> shift)];
  constexpr double kMiss = 8.0;
  std::vector<double> cost(static_cast<size_t>(nb));
  double total = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const double c = static_cast<double>(count[static_cast<size_t>(b)]);
    const double w = static_cast<double>(std::min(rows, (b + 1) << shift) - (b << shift));
    cost[static_cast<size_t>(b)] = c + kMiss * w * -std::expm1(-c / w);
    total += cost[static_cast<size_t>(b)];
  }
  // Two ranges per thread, pulled dynamically: a thread the OS holds back (a shared machine)
  // leaves its second range to the others instead of stalling the whole call.
  const int P = 2 * T;
  std::vector<int64_t> cut(static_cast<size_t>(P) + 1, rows);
  cut[0] = 0;
  double acc = 0;
  int t = 1;
  for (int64_t b = 0; b < nb && t < P; ++b) {
    acc += cost[static_cast<size_t>(b)];
    while (t < P && acc * P >= total * t) cut[static_cast<size_t>(t++)] = std::min(rows, (b + 1) << shift);
  }
  parallel_chunks(P, [&](int64_t c) {
    const int64_t lo = cut[static_cast<size_t>(c)];
    const uint64_t width = static_cast<uint64_t>(cut[static_cast<size_t>(c) + 1] - lo);
    if (width == 0) return;
    // This thread's positions, a block at a time (branch-free compaction, in order).
    constexpr int64_t kBlock = 4096;
    int32_t pos[kBlock];
    for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
      const int64_t b1 = std::min(n, b0 + kBlock);
      int64_t m = 0;
      for (int64_t i = b0; i < b1; ++i) {
        pos[m] = static_cast<int32_t>(i - b0);
        m += static_cast<uint64_t>(static_cast<int64_t>(idx[i]) - lo) < width;
      }
      span(target, dim, idx, src, pos, b0, m, ahead);
    }
  });
}

void gather_rows_padded(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                        const char* arg) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] >= rows) bad_index(arg, i, idx[i], rows);
  parallel_for(n, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (i + 4 < e && idx[i + 4] >= 0) prefetch(table + static_cast<int64_t>(idx[i + 4]) * dim);
      float* dst = out + i * dim;
      if (idx[i] < 0)
        std::memset(dst, 0, sizeof(float) * static_cast<size_t>(dim));
      else
        std::memcpy(dst, table + static_cast<int64_t>(idx[i]) * dim, sizeof(float) * static_cast<size_t>(dim));
    }
  });
}

void bag_pool(const float* table, int64_t rows, int64_t dim, const int32_t* values, int64_t nv, const int32_t* offsets,
              int64_t nbags, const float* weights, bool mean, float* out, const char* arg) {
  check_offsets(offsets, nbags, nv, "offsets");
  for (int64_t j = 0; j < nv; ++j)
    if (values[j] < 0 || values[j] >= rows) bad_index(arg, j, values[j], rows);
  const int64_t grain = std::max<int64_t>(1, row_grain(dim) / 8);
  parallel_for(nbags, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dst = out + b * dim;
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(dim));
      const int64_t s = offsets[b], e = offsets[b + 1];
      for (int64_t j = s; j < e; ++j) {
        if (j + 2 < e) prefetch(table + static_cast<int64_t>(values[j + 2]) * dim);
        const float* row = table + static_cast<int64_t>(values[j]) * dim;
        if (weights)
          axpy_row(dst, row, weights[j], dim);
        else
          add_row(dst, row, dim);
      }
      if (mean && e > s) {
        const float inv = 1.0f / static_cast<float>(e - s);
        for (int64_t k = 0; k < dim; ++k) dst[k] *= inv;
      }
    }
  });
}

void bag_value_weights(const int32_t* offsets, int64_t nbags, int64_t nv, const float* weights, bool mean,
                       int32_t* bag_of, float* scale) {
  check_offsets(offsets, nbags, nv, "offsets");
  for (int64_t b = 0; b < nbags; ++b) {
    const int64_t s = offsets[b], e = offsets[b + 1];
    const float inv = mean && e > s ? 1.0f / static_cast<float>(e - s) : 1.0f;
    for (int64_t j = s; j < e; ++j) {
      bag_of[j] = static_cast<int32_t>(b);
      scale[j] = weights ? weights[j] * inv : inv;
    }
  }
}

void check_coalesced(const int32_t* idx, int64_t n, int64_t rows, const char* arg) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] < 0 || idx[i] >= rows) bad_index(arg, i, idx[i], rows);
    if (i > 0 && idx[i] <= idx[i - 1])
      throw Error(ErrorCode::Value, std::string("argument '") + arg +
                                        "' must be strictly ascending (a coalesced gradient), position " +
                                        std::to_string(i));
  }
}

void sparse_adam(float* param, float* m, float* v, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                 const float* grad, const AdamHyper& h, const char* arg) {
  check_coalesced(idx, n, rows, arg);
  const double bc1 = 1.0 - std::pow(static_cast<double>(h.beta1), static_cast<double>(h.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(h.beta2), static_cast<double>(h.step));
  const float step_size = static_cast<float>(h.lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float b1 = h.beta1, b2 = h.beta2, eps = h.eps, wd = h.weight_decay, lr = h.lr;
  const bool decoupled = h.decoupled;
  const float c1 = 1.f - b1, c2 = 1.f - b2;
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim);
  parallel_for(n, row_grain(dim), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      // Rows are scattered over the table: fetch a few rows ahead in all three arrays.
      if (u + 4 < e) {
        const int64_t rn = static_cast<int64_t>(idx[u + 4]) * dim;
        for (size_t j = 0; j < row_bytes; j += 64) {
          prefetch_w(reinterpret_cast<const char*>(param + rn) + j);
          prefetch_w(reinterpret_cast<const char*>(m + rn) + j);
          prefetch_w(reinterpret_cast<const char*>(v + rn) + j);
        }
      }
      const int64_t r = static_cast<int64_t>(idx[u]) * dim;
      float* __restrict p = param + r;
      float* __restrict mr = m + r;
      float* __restrict vr = v + r;
      const float* __restrict g = grad + u * dim;
      // Branch-free inner loops (one per weight-decay mode) so they vectorise.
      if (wd != 0.f && decoupled) {
        for (int64_t j = 0; j < dim; ++j) p[j] -= lr * wd * p[j];
      }
      if (wd != 0.f && !decoupled) {
        for (int64_t j = 0; j < dim; ++j) {
          const float gj = g[j] + wd * p[j];
          mr[j] = b1 * mr[j] + c1 * gj;
          vr[j] = b2 * vr[j] + c2 * gj * gj;
          p[j] -= step_size * mr[j] / (std::sqrt(vr[j]) * inv_sqrt_bc2 + eps);
        }
      } else {
        for (int64_t j = 0; j < dim; ++j) {
          const float gj = g[j];
          mr[j] = b1 * mr[j] + c1 * gj;
          vr[j] = b2 * vr[j] + c2 * gj * gj;
          p[j] -= step_size * mr[j] / (std::sqrt(vr[j]) * inv_sqrt_bc2 + eps);
        }
      }
    }
  });
}

void rowwise_adagrad(float* param, float* state, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                     const float* grad, float lr, float eps, float weight_decay, const char* arg) {
  check_coalesced(idx, n, rows, arg);
  parallel_for(n, row_grain(dim), [&](int64_t b, int64_t e) {
    std::vector<float> gbuf(static_cast<size_t>(dim));
    for (int64_t u = b; u < e; ++u) {
      const int64_t row = idx[u];
      float* __restrict p = param + row * dim;
      const float* __restrict g = grad + u * dim;
      double sq = 0;
      for (int64_t j = 0; j < dim; ++j) {
        const float gj = g[j] + weight_decay * p[j];
        gbuf[j] = gj;
        sq += static_cast<double>(gj) * gj;
      }
      state[row] += static_cast<float>(sq / static_cast<double>(std::max<int64_t>(dim, 1)));
      const float s = lr / (std::sqrt(state[row]) + eps);
      for (int64_t j = 0; j < dim; ++j) p[j] -= s * gbuf[j];
    }
  });
}

}  // namespace qarm
