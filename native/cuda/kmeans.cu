// k-means centroid update on the device. The sums are a sorted scatter-add of the rows into
// their clusters (segment.cuh): each centroid is the double-precision mean of its members
// taken in input order, so the update is deterministic and independent of launch shape.
// Empty clusters keep their previous centroid (the caller decides how to re-seed them).
// Below it, the kernels of the host-free k-means driver: the cluster statistic in double, the
// centroid update from it, and the sequential seeded steps (empty-cluster splits, k-means++
// rounds, ordered float64 sums) on one device thread each, in the CPU kernels' arithmetic
// (explicit _rn intrinsics: no fused multiply-add may change a rounding).
#include "api.h"
#include "segment.cuh"
#include "xoshiro.cuh"

namespace qarm::cuda {

void kmeans_update(const float* x, int64_t N, int64_t D, const int32_t* assign, int64_t K, float* centroids,
                   int32_t* counts) {
  if (K <= 0) throw Error(ErrorCode::Value, "argument 'centroids' must have at least one row");
  memset_zero(counts, static_cast<size_t>(K) * sizeof(int32_t));
  if (N <= 0) return;
  SortedRows s = sort_rows(assign, N, K);
  segment_sum_kernel<double, false, true, PlainSrc, int32_t>
      <<<segment_blocks(N), 256>>>(s, D, centroids, counts, error_word(), PlainSrc{x, D});
  check_launch("kmeansUpdate");
  throw_if_bad("assignments", assign, K);
}

}  // namespace qarm::cuda

// ---- the host-free k-means driver (lib/quant/kmeans.ts), same arithmetic as the CPU kernels ----

namespace qarm::cuda {
namespace {

// One warp per run of equal assignments in the sorted order: double sums of the run's rows in
// input order (the CPU's increasing row order) and the run length.
__global__ void cluster_sums_kernel(SortedRows s, int64_t dim, const float* __restrict__ x, double* __restrict__ sums,
                                    int32_t* __restrict__ counts, const int32_t* __restrict__ err) {
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t p = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; p < s.n; p += nwarps) {
    const int32_t key = s.keys[p];
    if (p > 0 && s.keys[p - 1] == key) continue;
    int64_t end = p + 1;
    while (end < s.n && s.keys[end] == key) ++end;
    for (int64_t d = lane; d < dim; d += 32) {
      double acc = 0.0;
      for (int64_t q = p; q < end; ++q) acc += static_cast<double>(x[int64_t(s.perm[q]) * dim + d]);
      sums[int64_t(key) * dim + d] = acc;
    }
    if (lane == 0) counts[key] = static_cast<int32_t>(end - p);
  }
}

__global__ void centroids_from_sums_kernel(const double* __restrict__ sums, const int32_t* __restrict__ counts,
                                           int64_t K, int64_t D, float* __restrict__ centroids) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < K * D; t += stride) {
    const int32_t c = counts[t / D];
    if (c <= 0) continue;
    const double inv = 1.0 / static_cast<double>(c);
    centroids[t] = static_cast<float>(__dmul_rn(sums[t], inv));
  }
}

// Sequential by nature (each split changes the counts the next draw sees): one thread.
__global__ void split_empty_kernel(float* c, int32_t* counts, int64_t K, int64_t D, int32_t* rng, int32_t* splits,
                                   int64_t n) {
  Xoshiro g;
  g.load(rng);
  const double eps = 1.0 / 1024.0;
  int32_t done = 0;
  for (int64_t ci = 0; ci < K; ++ci) {
    if (counts[ci] != 0) continue;
    int64_t cj = 0;
    for (int64_t guard = 0;; cj = (cj + 1) % K, ++guard) {
      const double p = __ddiv_rn(static_cast<double>(counts[cj]) - 1.0, static_cast<double>(n - K > 1 ? n - K : 1));
      if (g.uniform() < p || guard > 100 * K) break;
    }
    if (counts[cj] < 2) continue;
    for (int64_t j = 0; j < D; ++j) {
      const double v = static_cast<double>(c[cj * D + j]);
      const bool up = j % 2 == 0;
      c[ci * D + j] = static_cast<float>(__dmul_rn(v, up ? 1.0 + eps : 1.0 - eps));
      c[cj * D + j] = static_cast<float>(__dmul_rn(v, up ? 1.0 - eps : 1.0 + eps));
    }
    counts[ci] = counts[cj] >> 1;
    counts[cj] -= counts[ci];
    ++done;
  }
  g.store(rng);
  splits[0] += done;
}

// One k-means++ round (the CPU kernel's loop, one thread; prefix is scratch [N]).
__global__ void dsquared_round_kernel(const float* dist, float* min_d, int32_t* chosen, int64_t N, const int32_t* round,
                                      int64_t R, int32_t* rng, int64_t m, int32_t* out, double* prefix) {
  for (int64_t t = 0; t < R; ++t) chosen[round[t]] = 1;
  double total = 0.0;
  for (int64_t i = 0; i < N; ++i) {
    const double di = static_cast<double>(dist[i]);
    const double v = chosen[i] ? 0.0 : (di > 0.0 ? di : 0.0);
    if (v < static_cast<double>(min_d[i])) min_d[i] = static_cast<float>(v);
    total = __dadd_rn(total, static_cast<double>(min_d[i]));
    prefix[i] = total;
  }
  Xoshiro g;
  g.load(rng);
  int64_t have = 0;
  for (int64_t guard = 0; have < m; ++guard) {
    const bool sampling = total > 0.0 && guard < 100 * m;
    int64_t p;
    if (sampling) {
      const double r = __dmul_rn(g.uniform(), total);
      int64_t lo = 0, hi = N - 1;
      while (lo < hi) {
        const int64_t mid = (lo + hi) >> 1;
        if (prefix[mid] > r)
          hi = mid;
        else
          lo = mid + 1;
      }
      p = lo;
    } else {
      p = g.below(N);
    }
    bool again = false;
    for (int64_t t = 0; t < have; ++t) again = again || out[t] == p;
    if (again || (sampling && chosen[p])) continue;
    out[have++] = static_cast<int32_t>(p);
  }
  g.store(rng);
}

// Float64 sum in element order (the host loop's order, so one thread).
__global__ void sum_f64_kernel(const float* x, int64_t n, bool square, double* out) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    s = __dadd_rn(s, square ? __dmul_rn(v, v) : v);
  }
  *out = s;
}

DeviceScratch prefix_scratch;

}  // namespace

void cluster_sums(const float* x, int64_t N, int64_t D, const int32_t* assign, int64_t K, int32_t* counts,
                  double* sums) {
  if (K <= 0) throw Error(ErrorCode::Value, "argument 'K' must be at least 1");
  memset_zero(counts, static_cast<size_t>(K) * sizeof(int32_t));
  memset_zero(sums, static_cast<size_t>(K * D) * sizeof(double));
  if (N <= 0) return;
  SortedRows s = sort_rows(assign, N, K);
  cluster_sums_kernel<<<segment_blocks(N), 256>>>(s, D, x, sums, counts, error_word());
  check_launch("clusterSums");
  throw_if_bad("assignments", assign, K);
}

void centroids_from_sums(const double* sums, const int32_t* counts, int64_t K, int64_t D, float* centroids) {
  if (K * D <= 0) return;
  centroids_from_sums_kernel<<<blocks_for(K * D, 256), 256>>>(sums, counts, K, D, centroids);
  check_launch("centroidsFromSums");
}

void split_empty_clusters(float* centroids, int32_t* counts, int64_t K, int64_t D, int32_t* rng, int32_t* splits,
                          int64_t n) {
  split_empty_kernel<<<1, 1>>>(centroids, counts, K, D, rng, splits, n);
  check_launch("splitEmptyClusters");
}

void dsquared_round(const float* distances, float* min_dist, int32_t* chosen, int64_t N, const int32_t* round,
                    int64_t R, int32_t* rng, int64_t m, int32_t* out) {
  auto* prefix = static_cast<double*>(prefix_scratch.get(static_cast<size_t>(N > 0 ? N : 1) * sizeof(double)));
  dsquared_round_kernel<<<1, 1>>>(distances, min_dist, chosen, N, round, R, rng, m, out, prefix);
  check_launch("dsquaredRound");
}

void sum_f64(const float* x, int64_t n, bool square, double* out) {
  sum_f64_kernel<<<1, 1>>>(x, n, square, out);
  check_launch("sumF64");
}

}  // namespace qarm::cuda
