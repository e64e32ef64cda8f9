// Sort-based, deterministic row scatter-add shared by embedding.cu, kmeans.cu and ste.cu
// (after FBGEMM's table-batched backward): the int32 row ids are validated, stable-radix-
// sorted together with their positions, and each run of equal ids is summed by one warp in
// the original input order. Every output row therefore sees the same sequence of additions
// as the CPU kernel's in-order loop, whatever the launch configuration: bitwise deterministic.
#pragma once
#include <cstdint>

#include "common.cuh"

namespace qarm::cuda {

// Sorted ids (keys) and their input positions (perm), valid until the next sort_rows().
struct SortedRows {
  const int32_t* keys;
  const int32_t* perm;
  int64_t n;
};

// Validates idx against [0, rows) into the error word (reset first) and sorts. Kernels that
// consume the result must skip their work when the error word is set (see guard()), and the
// caller must read the word afterwards.
// With skip_negative, negative ids are not errors: they sort to the end with key == rows.
SortedRows sort_rows(const int32_t* idx, int64_t n, int64_t rows, bool skip_negative = false);

__device__ __forceinline__ bool guard_failed(const int32_t* err) { return *err != kClean; }

// One warp per sorted position; the warp at the start of a run sums that run.
// src(q, d) gives element d of the source row at input position q. Acc is the accumulator
// type; with kFromTarget the sum starts from the current target row (exact CPU order),
// otherwise from zero; with kMean the stored value is the sum over the run length (k-means
// centroids; rows without a run are left untouched). counts (nullable) gets run lengths.
template <class Acc, bool kFromTarget, bool kMean, class Src, class CountT = int32_t>
__global__ void segment_sum_kernel(SortedRows s, int64_t dim, float* __restrict__ target, CountT* __restrict__ counts,
                                   const int32_t* __restrict__ err, Src src) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t p = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; p < s.n; p += nwarps) {
    const int32_t key = s.keys[p];
    if (p > 0 && s.keys[p - 1] == key) continue;
    int64_t end = p + 1;
    while (end < s.n && s.keys[end] == key) ++end;
    float* row = target + int64_t(key) * dim;
    for (int64_t d = lane; d < dim; d += 32) {
      Acc acc = kFromTarget ? static_cast<Acc>(row[d]) : Acc(0);
      for (int64_t q = p; q < end; ++q) acc += static_cast<Acc>(src(s.perm[q], d));
      if (kMean) acc /= static_cast<Acc>(end - p);
      row[d] = static_cast<float>(acc);
    }
    if (counts && lane == 0) counts[key] = static_cast<CountT>(end - p);
  }
}

// Source rows read from a row-major [n, dim] matrix.
struct PlainSrc {
  const float* src;
  int64_t dim;
  __device__ float operator()(int32_t q, int64_t d) const { return src[int64_t(q) * dim + d]; }
};

inline unsigned segment_blocks(int64_t n) { return blocks_for(n, 8, 65535LL * 8); }

}  // namespace qarm::cuda
