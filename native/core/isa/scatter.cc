// The inner loop of index_add (native/core/embedding.cc), built once per instruction set:
// target[idx[i], :] += src[i, :] over a list of source positions, in list order, with the table
// rows fetched ahead. Raw pointers and VecF only (see the ODR note in simd.h).
#include <cstdint>

#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {
namespace {

constexpr int W = VecF::kWidth;

inline void prefetch_row(const float* p, int64_t n, bool write) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) & ~static_cast<uintptr_t>(63);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p + n);
  for (uintptr_t a = first; a < end; a += 64) {
    if (write)
      __builtin_prefetch(reinterpret_cast<const void*>(a), 1, 3);
    else
      __builtin_prefetch(reinterpret_cast<const void*>(a), 0, 3);
  }
}

// Elementwise d[j] += s[j], j in [0, n): no reassociation, so any vector width gives the same bits.
inline void add_span(float* d, const float* s, int64_t n) {
  int64_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    const VecF a0 = VecF::load(d + j) + VecF::load(s + j);
    const VecF a1 = VecF::load(d + j + W) + VecF::load(s + j + W);
    const VecF a2 = VecF::load(d + j + 2 * W) + VecF::load(s + j + 2 * W);
    const VecF a3 = VecF::load(d + j + 3 * W) + VecF::load(s + j + 3 * W);
    a0.store(d + j);
    a1.store(d + j + W);
    a2.store(d + j + 2 * W);
    a3.store(d + j + 3 * W);
  }
  for (; j + W <= n; j += W) (VecF::load(d + j) + VecF::load(s + j)).store(d + j);
  if (j < n) {
    const int r = static_cast<int>(n - j);
    (VecF::load_partial(d + j, r) + VecF::load_partial(s + j, r)).store_partial(d + j, r);
  }
}

}  // namespace

// For k in [0, m): i = first + (pos ? pos[k] : k); target[idx[i], :] += src[i, :], in order.
// `ahead` updates are prefetched ahead (each is a cache miss on the table; with pos set, on the
// source too, which is then read with gaps).
void index_add_span(float* target, int64_t dim, const int32_t* idx, const float* src, const int32_t* pos, int64_t first,
                    int64_t m, int64_t ahead) {
  auto at = [&](int64_t k) { return first + (pos ? static_cast<int64_t>(pos[k]) : k); };
  for (int64_t k = 0; k < m; ++k) {
    if (k + ahead < m) {
      const int64_t i2 = at(k + ahead);
      prefetch_row(target + static_cast<int64_t>(idx[i2]) * dim, dim, true);
      if (pos) prefetch_row(src + i2 * dim, dim, false);
    }
    const int64_t i = at(k);
    add_span(target + static_cast<int64_t>(idx[i]) * dim, src + i * dim, dim);
  }
}

}  // namespace QARM_ISA_NS
}  // namespace qarm
