// Row plans (coalescing a row-sparse gradient, the bag backward), bag pooling and the
// row-sparse optimizers, with the semantics of native/core/embedding.cc. Sums run per row in
// increasing source position after a stable sort (segment.cuh), and the products the CPU
// rounds before adding use __fmul_rn/__fadd_rn, so results match the CPU bit for bit where
// the CPU's order is serial.
#include <cub/device/device_scan.cuh>

#include <cmath>
#include <string>
#include <vector>

#include "api.h"
#include "segment.cuh"

namespace qarm::cuda {
namespace {

DeviceScratch g_flags, g_pos, g_scan_tmp;

struct Plan {
  SortedRows rows{};
  int64_t table_rows = 0;
  int32_t* pos = nullptr;  // exclusive scan of the run-start flags: output slot of each run
  int64_t U = 0;
  int64_t id = 0;
};
Plan g_plan;
int64_t g_next_id = 1;

__global__ void run_flags_kernel(SortedRows s, int64_t rows, int32_t* __restrict__ flags) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < s.n; p += int64_t(gridDim.x) * blockDim.x) {
    const int32_t k = s.keys[p];
    flags[p] = (k < rows && (p == 0 || s.keys[p - 1] != k)) ? 1 : 0;
  }
}

// One warp per sorted position; the warp at a run start writes that run's output row.
__global__ void coalesce_kernel(SortedRows s, int64_t rows, const int32_t* __restrict__ pos,
                                const float* __restrict__ src, int64_t dim, const int32_t* __restrict__ src_row,
                                const float* __restrict__ weight, int32_t* __restrict__ uniq,
                                float* __restrict__ values) {
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t p = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; p < s.n; p += nwarps) {
    const int32_t key = s.keys[p];
    if (key >= rows || (p > 0 && s.keys[p - 1] == key)) continue;
    int64_t end = p + 1;
    while (end < s.n && s.keys[end] == key) ++end;
    const int64_t u = pos[p];
    if (lane == 0) uniq[u] = key;
    float* dst = values + u * dim;
    for (int64_t d = lane; d < dim; d += 32) {
      float acc = 0.f;
      for (int64_t q = p; q < end; ++q) {
        const int32_t i = s.perm[q];
        const float v = src[(src_row ? int64_t(src_row[i]) : int64_t(i)) * dim + d];
        acc = weight ? __fadd_rn(acc, __fmul_rn(weight[i], v)) : __fadd_rn(acc, v);
      }
      dst[d] = acc;
    }
  }
}

__global__ void bag_weights_kernel(const int32_t* __restrict__ offsets, int64_t nbags,
                                   const float* __restrict__ weights, bool mean, int32_t* __restrict__ bag_of,
                                   float* __restrict__ scale) {
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < nbags; b += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = offsets[b], e = offsets[b + 1];
    const float inv = mean && e > s ? 1.0f / static_cast<float>(e - s) : 1.0f;
    for (int64_t j = s; j < e; ++j) {
      bag_of[j] = static_cast<int32_t>(b);
      scale[j] = weights ? __fmul_rn(weights[j], inv) : inv;
    }
  }
}

__global__ void validate_rows_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t rows, int32_t* err) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (idx[i] < 0 || idx[i] >= rows) report_bad(err, i);
}

// One warp per bag.
__global__ void bag_pool_kernel(const float* __restrict__ table, int64_t dim, const int32_t* __restrict__ values,
                                const int32_t* __restrict__ offsets, int64_t nbags, const float* __restrict__ weights,
                                bool mean, float* __restrict__ out, const int32_t* err) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t b = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; b < nbags; b += nwarps) {
    const int64_t s = offsets[b], e = offsets[b + 1];
    const float inv = 1.0f / static_cast<float>(e > s ? e - s : 1);
    for (int64_t d = lane; d < dim; d += 32) {
      float acc = 0.f;
      for (int64_t j = s; j < e; ++j) {
        const float v = table[int64_t(values[j]) * dim + d];
        acc = weights ? __fadd_rn(acc, __fmul_rn(weights[j], v)) : __fadd_rn(acc, v);
      }
      out[b * dim + d] = (mean && e > s) ? __fmul_rn(acc, inv) : acc;
    }
  }
}

// Strictly ascending ids inside [0, rows) (a coalesced gradient); the host tells the two
// failures apart from the value at the reported position.
__global__ void coalesced_check_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t rows, int32_t* err) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t v = idx[i];
    if (v < 0 || v >= rows || (i > 0 && v <= idx[i - 1])) report_bad(err, i);
  }
}

__global__ void sparse_adam_kernel(float* __restrict__ param, float* __restrict__ m, float* __restrict__ v, int64_t dim,
                                   const int32_t* __restrict__ idx, int64_t n, const float* __restrict__ grad, float lr,
                                   float b1, float b2, float eps, float wd, bool decoupled, float step_size,
                                   float inv_sqrt_bc2, const int32_t* err) {
  if (guard_failed(err)) return;
  const int64_t total = n * dim;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t u = t / dim, j = t - u * dim;
    const int64_t r = int64_t(idx[u]) * dim + j;
    float gj = grad[t];
    float p = param[r];
    if (wd != 0.f) {
      if (decoupled)
        p = __fsub_rn(p, __fmul_rn(__fmul_rn(lr, wd), p));
      else
        gj = __fadd_rn(gj, __fmul_rn(wd, p));
    }
    const float mr = __fadd_rn(__fmul_rn(b1, m[r]), __fmul_rn(1.f - b1, gj));
    const float vr = __fadd_rn(__fmul_rn(b2, v[r]), __fmul_rn(__fmul_rn(1.f - b2, gj), gj));
    m[r] = mr;
    v[r] = vr;
    param[r] = __fsub_rn(p, __fdiv_rn(__fmul_rn(step_size, mr), __fadd_rn(__fmul_rn(sqrtf(vr), inv_sqrt_bc2), eps)));
  }
}

// One warp per coalesced row.
__global__ void rowwise_adagrad_kernel(float* __restrict__ param, float* __restrict__ state, int64_t dim,
                                       const int32_t* __restrict__ idx, int64_t n, const float* __restrict__ grad,
                                       float lr, float eps, float wd, const int32_t* err) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t u = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; u < n; u += nwarps) {
    const int64_t row = idx[u];
    float* p = param + row * dim;
    const float* g = grad + u * dim;
    double sq = 0;
    for (int64_t j = lane; j < dim; j += 32) {
      const float gj = __fadd_rn(g[j], __fmul_rn(wd, p[j]));
      sq += double(gj) * gj;
    }
    for (int o = 16; o > 0; o >>= 1) sq += __shfl_xor_sync(0xffffffffu, sq, o);
    const float st = __fadd_rn(state[row], static_cast<float>(sq / double(dim > 1 ? dim : 1)));
    const float s = __fdiv_rn(lr, __fadd_rn(sqrtf(st), eps));
    for (int64_t j = lane; j < dim; j += 32) {
      const float gj = __fadd_rn(g[j], __fmul_rn(wd, p[j]));
      p[j] = __fsub_rn(p[j], __fmul_rn(s, gj));
    }
    __syncwarp();
    if (lane == 0) state[row] = st;
  }
}

void raise_coalesced_error(const char* arg, int64_t pos, const int32_t* idx, int64_t rows) {
  int32_t v[2] = {0, 0};
  copy_d2h(&v[1], idx + pos, sizeof(int32_t));
  if (v[1] < 0 || v[1] >= rows) raise_index_error(arg, pos, idx, rows);
  throw Error(ErrorCode::Value, std::string("argument '") + arg +
                                    "' must be strictly ascending (a coalesced gradient), position " +
                                    std::to_string(pos));
}

void check_coalesced(const int32_t* idx, int64_t n, int64_t rows, const char* arg) {
  reset_error_word();
  if (n <= 0) return;
  coalesced_check_kernel<<<blocks_for(n, 256), 256>>>(idx, n, rows, error_word());
  check_launch("coalesced check");
}

void throw_if_not_coalesced(const int32_t* idx, int64_t rows, const char* arg) {
  const int64_t pos = read_error_word();
  if (pos >= 0) raise_coalesced_error(arg, pos, idx, rows);
}

}  // namespace

int64_t coalesce_plan(const int32_t* idx, int64_t n, int64_t rows, bool skip_negative, const char* arg,
                      int64_t* plan_id) {
  g_plan = Plan{};
  g_plan.id = g_next_id++;
  g_plan.table_rows = rows;
  if (plan_id) *plan_id = g_plan.id;
  if (n <= 0) {
    g_plan.rows = SortedRows{nullptr, nullptr, 0};
    return 0;
  }
  g_plan.rows = sort_rows(idx, n, rows, skip_negative);
  throw_if_bad(arg, idx, rows);  // synchronises; nothing was written yet
  auto* flags = static_cast<int32_t*>(g_flags.get(static_cast<size_t>(n) * sizeof(int32_t)));
  auto* pos = static_cast<int32_t*>(g_pos.get(static_cast<size_t>(n) * sizeof(int32_t)));
  run_flags_kernel<<<blocks_for(n, 256), 256>>>(g_plan.rows, rows, flags);
  check_launch("coalesce (flags)");
  size_t temp = 0;
  check(cub::DeviceScan::ExclusiveSum(nullptr, temp, flags, pos, static_cast<int>(n)), "scan (size query)");
  check(cub::DeviceScan::ExclusiveSum(g_scan_tmp.get(temp), temp, flags, pos, static_cast<int>(n)), "scan");
  int32_t last[2] = {0, 0};
  copy_d2h(&last[0], pos + n - 1, sizeof(int32_t));
  copy_d2h(&last[1], flags + n - 1, sizeof(int32_t));
  g_plan.pos = pos;
  g_plan.U = int64_t(last[0]) + last[1];
  return g_plan.U;
}

void coalesce_reduce(int64_t plan_id, const float* src, int64_t src_rows, int64_t dim, const int32_t* src_row,
                     const float* weight, int32_t* uniq, float* values) {
  if (plan_id != g_plan.id)
    throw Error(ErrorCode::Value, "coalesce_reduce: the row plan is stale (another plan was made since)");
  if (g_plan.U == 0) return;
  if (src_row) {
    reset_error_word();
    validate_rows_kernel<<<blocks_for(g_plan.rows.n, 256), 256>>>(src_row, g_plan.rows.n, src_rows, error_word());
    check_launch("coalesce (source rows)");
    throw_if_bad("srcRow", src_row, src_rows);
  }
  coalesce_kernel<<<segment_blocks(g_plan.rows.n), 256>>>(g_plan.rows, g_plan.table_rows, g_plan.pos, src, dim, src_row,
                                                          weight, uniq, values);
  check_launch("coalesce");
}

void bag_value_weights(const int32_t* offsets, int64_t nbags, int64_t nv, const float* weights, bool mean,
                       int32_t* bag_of, float* scale) {
  if (nbags <= 0 || nv <= 0) return;
  bag_weights_kernel<<<blocks_for(nbags, 128), 128>>>(offsets, nbags, weights, mean, bag_of, scale);
  check_launch("bag weights");
}

void bag_pool(const float* table, int64_t rows, int64_t dim, const int32_t* values, int64_t nv, const int32_t* offsets,
              int64_t nbags, const float* weights, bool mean, float* out, const char* arg) {
  reset_error_word();
  if (nv > 0) {
    validate_rows_kernel<<<blocks_for(nv, 256), 256>>>(values, nv, rows, error_word());
    check_launch("bagPool");
  }
  if (nbags > 0 && dim > 0) {
    bag_pool_kernel<<<blocks_for(nbags, 8, 65535LL * 8), 256>>>(table, dim, values, offsets, nbags, weights, mean, out,
                                                                error_word());
    check_launch("bagPool");
  }
  throw_if_bad(arg, values, rows);
}

void sparse_adam(float* param, float* m, float* v, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                 const float* grad, float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                 int64_t step, const char* arg) {
  check_coalesced(idx, n, rows, arg);
  if (n > 0 && dim > 0) {
    const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
    const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
    sparse_adam_kernel<<<blocks_for(n * dim, 256), 256>>>(param, m, v, dim, idx, n, grad, lr, beta1, beta2, eps,
                                                          weight_decay, decoupled, static_cast<float>(lr / bc1),
                                                          static_cast<float>(1.0 / std::sqrt(bc2)), error_word());
    check_launch("sparseAdamUpdate");
  }
  if (n > 0) throw_if_not_coalesced(idx, rows, arg);
}

void rowwise_adagrad(float* param, float* state, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                     const float* grad, float lr, float eps, float weight_decay, const char* arg) {
  check_coalesced(idx, n, rows, arg);
  if (n > 0) {
    rowwise_adagrad_kernel<<<blocks_for(n, 8, 65535LL * 8), 256>>>(param, state, dim, idx, n, grad, lr, eps,
                                                                   weight_decay, error_word());
    check_launch("rowwiseAdagradUpdate");
    throw_if_not_coalesced(idx, rows, arg);
  }
}

}  // namespace qarm::cuda
