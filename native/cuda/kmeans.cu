// k-means centroid update on the device. The sums are a sorted scatter-add of the rows into
// their clusters (segment.cuh): each centroid is the double-precision mean of its members
// taken in input order, so the update is deterministic and independent of launch shape.
// Empty clusters keep their previous centroid (the caller decides how to re-seed them).
#include "api.h"
#include "segment.cuh"

namespace qarm::cuda {

void kmeans_update(const float* x, int64_t N, int64_t D, const int32_t* assign, int64_t K, float* centroids,
                   int32_t* counts) {
  if (K <= 0) throw Error(ErrorCode::Value, "argument 'centroids' must have at least one row");
  memset_zero(counts, static_cast<size_t>(K) * sizeof(int32_t));
  if (N <= 0) return;
  SortedRows s = sort_rows(assign, N, K);
  segment_sum_kernel<double, false, true, PlainSrc, int32_t><<<segment_blocks(N), 256>>>(s, D, centroids, counts, error_word(),
                                                                       PlainSrc{x, D});
  check_launch("kmeansUpdate");
  throw_if_bad("assignments", assign, K);
}

}  // namespace qarm::cuda
