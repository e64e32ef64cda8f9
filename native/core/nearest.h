// Fused nearest-codeword search: for each row of x[N,D], the k codebook rows of c[K,D] with the
// smallest distance, found without ever materialising the N x K distance matrix.
//
// Distances are ranked through a per-codeword affine "key" of the inner product,
//   key = alpha[c] * <x, c> + beta[c],
// which the ISA microkernel computes tile by tile in registers and filters against each row's
// current k-th best key before anything leaves the registers:
//   l2:     alpha = -2,        beta = ||c||^2   distance = max(0, ||x||^2 + key)
//   ip:     alpha = -1,        beta = 0         distance = key
//   cosine: alpha = -1/||c||,  beta = 0         distance = 1 + key / ||x||
// The row term (||x||^2, 1/||x||) is a positive monotone map, so it is applied only to the k
// survivors. Every key is an FMA chain over d = 0..D-1 in order, independent of tiling,
// blocking and threads, so results are bit-identical whatever the thread count.
#pragma once
#include <cstdint>

#include "../common/op_codes.h"
#include "cpu_features.h"

namespace qarm {

// Packed codebook as the microkernel reads it: panels of `width` codewords, each stored
// [D][width] (dimension-major), padded with zero codewords whose beta is +inf.
struct NearestPanels {
  const float* data;   // [num_panels][D][width]
  const float* alpha;  // [num_panels * width]
  const float* beta;   // [num_panels * width]
  int64_t num_panels;
  int64_t width;
  int64_t dim;
};

// A candidate (key, codeword index). Order: key, then index.
struct NearestCand {
  float key;
  int32_t idx;
};

// Keeps the k smallest of buf[0, count) (moved to the front, count becomes k) and returns the
// k-th smallest key: the new admission threshold. Called by the scan when a row's candidate
// buffer is full; lives outside isa/ because it uses std::nth_element.
float nearest_compact(NearestCand* buf, int32_t* count, int64_t k);

// Searches and writes indices [N,k] and distances [N,k], rows sorted ascending by distance,
// ties to the lower index. Validates sizes, k and finiteness (throws qarm::Error naming the
// argument). `x_name`/`c_name` name the arguments in errors.
void nearest_search(const float* x, int64_t n, const float* c, int64_t kc, int64_t d, int64_t k, Metric metric,
                    int32_t* out_idx, float* out_dist, const char* x_name = "x", const char* c_name = "codebook");

}  // namespace qarm

// Per-ISA pieces (isa/nearest.cc): the panel width the microkernel wants, and the scan of
// rows [0, rows) of x (row stride ldx) over panels [p_begin, p_end). Row r keeps candidates in
// cand[r * cap, r * cap + count[r]) and admits a (key, codeword) pair only if key < thr[r]
// (start thr at +inf, count at 0). k = 1: the single best is kept in place. k > 1: admitted
// pairs are appended and, when the buffer (cap >= 2k) is full, nearest_compact keeps the k
// best and lowers thr[r]. At the end each row's buffer holds its k best (and possibly more).
QARM_ISA_DECLARE(int64_t nearest_panel_width())
QARM_ISA_DECLARE(void nearest_scan(const float* x, int64_t ldx, int64_t rows, const ::qarm::NearestPanels& p,
                                   int64_t p_begin, int64_t p_end, int64_t k, int64_t cap, ::qarm::NearestCand* cand,
                                   int32_t* count, float* thr))
