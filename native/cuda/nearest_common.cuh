// Pieces shared by the two fused nearest-codeword kernels (nearest.cu, nearest_tc.cu):
// per-row norm terms, the score each kernel ranks by, and its conversion to the distance
// the API returns.
//   l2:     score = ||c||^2 - 2 x.c        distance = max(||x||^2 + score, 0)
//   ip:     score = -x.c                   distance = score
//   cosine: score = -x.c / ||c||           distance = 1 + score / ||x||
// Dropping the row-constant term (||x||^2, 1/||x||) keeps the ranking and saves work in the
// inner loop. Zero vectors get 1/||v|| = 0, i.e. cosine distance 1 to everything.
#pragma once
#include <cstdint>

#include "api.h"
#include "common.cuh"

namespace qarm::cuda {

// term[r] = ||v_r||^2 (want_inverse = false) or 1/||v_r|| (true), one warp per row.
void row_norm_terms(const float* v, int64_t rows, int64_t dim, bool want_inverse, float* term);

// Throws the argument errors both kernels share (empty codebook, k outside [1, min(K, 128)]).
void check_nearest_args(int64_t N, int64_t K, int k);

// Throws ErrorCode::Value naming `name` when v[0..n) holds a NaN or an infinity (as the CPU
// kernel does; one read of the data, small next to the search).
void check_finite(const float* v, int64_t n, const char* name);

// Grow-only device scratch for the nearest kernels.
float* nearest_scratch(int which, size_t floats);

__device__ __forceinline__ float score_of(float dot, int metric, const float* cterm, int64_t j) {
  if (metric == static_cast<int>(Metric::L2)) return cterm[j] - 2.f * dot;
  if (metric == static_cast<int>(Metric::IP)) return -dot;
  return -dot * cterm[j];
}

__device__ __forceinline__ float distance_of(float score, int metric, const float* xterm, int64_t row) {
  if (metric == static_cast<int>(Metric::L2)) return fmaxf(xterm[row] + score, 0.f);
  if (metric == static_cast<int>(Metric::IP)) return score;
  return 1.f + score * xterm[row];
}

}  // namespace qarm::cuda
