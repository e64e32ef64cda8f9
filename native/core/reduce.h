// Reductions over one axis of a tensor viewed as [outer, len, inner], and row-wise ops on
// [rows, cols] matrices. Accumulation is in double and in a fixed order.
#pragma once
#include <cstdint>

namespace qarm {

// out[o, i] = sum_l x[o, l, i]
void reduce_sum(const float* x, float* out, int64_t outer, int64_t len, int64_t inner);

// y[r, :] = softmax(x[r, :]); lse[r] = log(sum(exp(x[r, :])))
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void logsumexp_rows(const float* x, float* out, int64_t rows, int64_t cols);

// y[r, :] = x[r, :] / max(||x[r, :]||, eps); norms[r] = ||x[r, :]|| (norms may be null)
void l2_normalize_rows(const float* x, float* y, float* norms, int64_t rows, int64_t cols, float eps);

// l2_normalize_rows' backward terms: clamped[i] = float(eps) and mask[i] = 0 where
// double(norms[i]) < eps, else clamped[i] = norms[i] and mask[i] = 1.
void clamp_norms(const float* norms, int64_t n, double eps, float* clamped, float* mask);

// Index of the min (or max) per row; ties go to the lower index; a NaN wins (first NaN).
void argreduce_rows(const float* x, int32_t* out, int64_t rows, int64_t cols, bool is_max);

}  // namespace qarm
