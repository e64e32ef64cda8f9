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

#include "cpu_features.h"

namespace qarm {

enum class Metric { L2 = 0, IP = 1, Cosine = 2 };

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

// Searches and writes indices [N,k] and distances [N,k], rows sorted ascending by distance,
// ties to the lower index. Validates sizes, k and finiteness (throws qarm::Error naming the
// argument). `x_name`/`c_name` name the arguments in errors.
void nearest_search(const float* x, int64_t n, const float* c, int64_t kc, int64_t d, int64_t k,
                    Metric metric, int32_t* out_idx, float* out_dist, const char* x_name = "x",
                    const char* c_name = "codebook");

}  // namespace qarm

// Per-ISA pieces (isa/nearest.cc): the panel width the microkernel wants, and the scan of
// rows [0, rows) of x (row stride ldx) over panels [p_begin, p_end) that pushes every
// (key, codeword) pair below the row's running k-th best into the row's bounded max-heap
// (keys/idx [rows][k], count [rows]; heap order is (key, index) lexicographic).
QARM_ISA_DECLARE(int64_t nearest_panel_width())
QARM_ISA_DECLARE(void nearest_scan(const float* x, int64_t ldx, int64_t rows,
                                   const ::qarm::NearestPanels& p, int64_t p_begin,
                                   int64_t p_end, int64_t k, float* keys, int32_t* idx,
                                   int32_t* count))
