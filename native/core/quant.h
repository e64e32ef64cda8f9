// Kernels behind k-means and the residual vector quantiser. All are deterministic: rows are
// grouped by code with a stable counting sort and each code's rows are reduced in increasing
// row order by whichever thread owns that code (FAISS-style ownership, no atomics), so the
// result does not depend on the thread count.
#pragma once
#include <cstdint>

namespace qarm {

// counts[c] = #{i : assign[i] == c}; for non-empty c, centroids[c] = mean of those rows of
// x[n,d] (accumulated in double). Rows of empty clusters are left untouched.
// Throws Error(Index) naming 'assignments' on a code outside [0, k).
void kmeans_update(const float* x, int64_t n, int64_t d, const int32_t* assign, int64_t k, float* centroids,
                   int32_t* counts);

// The k-means statistic (what a distributed k-means all-reduces): counts[c] = #{i : assign[i]
// == c} and sums[c, :] = sum of those rows of x[n,d] in increasing row order, in double
// (overwritten; empty clusters get 0). Throws Error(Index) naming 'assignments' on a code
// outside [0, k).
void cluster_sums(const float* x, int64_t n, int64_t d, const int32_t* assign, int64_t k, int32_t* counts,
                  double* sums);

// centroids[c, :] = float(sums[c, :] * (1.0 / counts[c])) for counts[c] > 0 (the rounding of
// kmeans_update); rows of empty clusters are left untouched.
void centroids_from_sums(const double* sums, const int32_t* counts, int64_t k, int64_t d, float* centroids);

// One residual-VQ level, forward: q = codebook[codes]; quantized += q; next = residual - q.
// Returns sum_i ||next_i||^2 (double).
double rvq_level_forward(const float* residual, const float* codebook, int64_t kc, int64_t d, const int32_t* codes,
                         int64_t n, float* quantized, float* next);

// grad[codes[i], :] += scale * rows[i, :] (deterministic scatter-add of a scaled gradient:
// the codebook-loss gradient of a VQ level, with rows = q - residual).
void vq_scatter_add_scaled(float* grad, int64_t kc, int64_t d, const int32_t* codes, int64_t n, const float* rows,
                           float scale);

// Straight-through backward: grad_x = grad_out + scale * sum_l rows_l, rows = [levels, n*d]
// (the commitment-loss term through every level's residual), rows may be null.
void rvq_ste_backward(const float* grad_out, const float* rows, int64_t levels, int64_t nd, float scale, float* grad_x);

// Per-code counts and row sums of x for EMA codebook updates: counts[k], sums[k, d] (both
// overwritten; accumulated in double).
void vq_code_sums(const float* x, int64_t n, int64_t d, const int32_t* codes, int64_t kc, float* counts, float* sums);

}  // namespace qarm
