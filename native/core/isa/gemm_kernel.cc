// Packing and the register-tiled microkernel of the SGEMM (see ../gemm_kernel.h for the
// layouts). Compiled once per instruction set; the tile shape follows the register file:
// avx512 14×32 (28 accumulators of 32 zmm), avx2 6×16 (12 of 16 ymm), generic 6×8.
#include "../gemm_kernel.h"

#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kMR = 14;
constexpr int kNV = 2;
#elif defined(__AVX2__)
constexpr int kMR = 6;
constexpr int kNV = 2;
#else
constexpr int kMR = 6;
constexpr int kNV = 2;
#endif
constexpr int kW = VecF::kWidth;
constexpr int kNR = kNV * kW;
constexpr int kPrefetchA = 64;  // floats ahead of the current depth step

void pack_a(bool trans, const float* A, int64_t lda, int64_t m, int64_t k, float* dst) {
  for (int64_t i0 = 0; i0 < m; i0 += kMR) {
    const int rows = static_cast<int>(m - i0 < kMR ? m - i0 : kMR);
    float* d = dst + i0 * k;  // panel i0 / MR starts at (i0 / MR) * k * MR = i0 * k
    if (trans) {
      // op(A)(i, p) = A[p * lda + i]: each depth step reads `rows` contiguous floats.
      for (int64_t p = 0; p < k; ++p) {
        const float* s = A + p * lda + i0;
        float* o = d + p * kMR;
        int r = 0;
        for (; r < rows; ++r) o[r] = s[r];
        for (; r < kMR; ++r) o[r] = 0.f;
      }
    } else {
      // Read each row contiguously, write it with stride MR (the panel stays in cache).
      for (int r = 0; r < rows; ++r) {
        const float* s = A + (i0 + r) * lda;
        for (int64_t p = 0; p < k; ++p) d[p * kMR + r] = s[p];
      }
      for (int r = rows; r < kMR; ++r)
        for (int64_t p = 0; p < k; ++p) d[p * kMR + r] = 0.f;
    }
  }
}

void pack_b(bool trans, const float* B, int64_t ldb, int64_t k, int64_t n, float* dst, int64_t panel_stride) {
  for (int64_t j0 = 0; j0 < n; j0 += kNR) {
    const int cols = static_cast<int>(n - j0 < kNR ? n - j0 : kNR);
    float* d = dst + (j0 / kNR) * panel_stride;
    if (!trans) {
      for (int64_t p = 0; p < k; ++p) {
        const float* s = B + p * ldb + j0;
        float* o = d + p * kNR;
        if (cols == kNR) {
          for (int v = 0; v < kNV; ++v) VecF::load(s + v * kW).store(o + v * kW);
        } else {
          int c = 0;
          for (; c < cols; ++c) o[c] = s[c];
          for (; c < kNR; ++c) o[c] = 0.f;
        }
      }
    } else {
      // op(B)(p, j) = B[j * ldb + p]: read each stored row contiguously, scatter by NR.
      for (int c = 0; c < cols; ++c) {
        const float* s = B + (j0 + c) * ldb;
        for (int64_t p = 0; p < k; ++p) d[p * kNR + c] = s[p];
      }
      for (int c = cols; c < kNR; ++c)
        for (int64_t p = 0; p < k; ++p) d[p * kNR + c] = 0.f;
    }
  }
}

// Writes one accumulator vector of row r: C = alpha * acc + beta * C over `cols` lanes.
inline void store_vec(VecF acc, float* c, int cols, VecF valpha, float beta) {
  VecF v = acc * valpha;
  if (cols >= kW) {
    if (beta != 0.f) v = fma(VecF::broadcast(beta), VecF::load(c), v);
    v.store(c);
  } else if (cols > 0) {
    if (beta != 0.f) v = fma(VecF::broadcast(beta), VecF::load_partial(c, cols), v);
    v.store_partial(c, cols);
  }
}

// The register tile: element (r, p) of the A operand is a[aoff(r) + p * a_ps]. kPacked
// fixes aoff(r) = r and a_ps = MR at compile time (packed panels); otherwise the caller
// gives per-row offsets (rows past m repeat the last row, so nothing outside A is read) and
// the depth stride, which lets thin problems read A in place instead of packing it.
template <bool kPacked>
inline void micro_core(int64_t kc, const float* __restrict a, const int64_t* aoff, int64_t a_ps,
                       const float* __restrict b, float* c, int64_t ldc, int m, int n, float alpha, float beta) {
  int64_t off[kMR];
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) off[r] = kPacked ? r : aoff[r];
  const int64_t ps = kPacked ? kMR : a_ps;
  // The C tile is read (beta != 0) and written at the end: start fetching it now.
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) {
    if (r >= m) break;
    __builtin_prefetch(c + r * ldc, 1);
    if (kNR > 16) __builtin_prefetch(c + r * ldc + kNR - 1, 1);
  }
  VecF acc[kMR][kNV];
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[r][v] = VecF::zero();

  for (int64_t p = 0; p < kc; ++p) {
    VecF bv[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) bv[v] = VecF::load(b + v * kW);
    __builtin_prefetch(b + 8 * kNR);
    if (!kPacked && a_ps == 1) {
      // In-place row-major A: 14 row streams far apart; fetch each row's line 4 ahead,
      // one row per step (a row needs a new line every 16 steps).
      const int64_t pr = p & 15;
      if (pr < kMR) __builtin_prefetch(a + aoff[pr] + kPrefetchA);
    }
#pragma GCC unroll 16
    for (int r = 0; r < kMR; ++r) {
      const VecF ar = VecF::broadcast(a[off[r]]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[r][v] = fma(ar, bv[v], acc[r][v]);
    }
    a += ps;
    b += kNR;
  }

  const VecF valpha = VecF::broadcast(alpha);
  if (m == kMR && n == kNR) {
#pragma GCC unroll 16
    for (int r = 0; r < kMR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) store_vec(acc[r][v], c + r * ldc + v * kW, kW, valpha, beta);
    return;
  }
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) {
    if (r >= m) break;
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) store_vec(acc[r][v], c + r * ldc + v * kW, n - v * kW, valpha, beta);
  }
}

void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, float alpha, float beta) {
  micro_core<true>(kc, a, nullptr, kMR, b, c, ldc, m, n, alpha, beta);
}

void micro_a_strided(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps, const float* b, float* c, int64_t ldc,
                     int m, int n, float alpha, float beta) {
  int64_t aoff[kMR];
  for (int r = 0; r < kMR; ++r) aoff[r] = (r < m ? r : m - 1) * a_rs;
  micro_core<false>(kc, a, aoff, a_ps, b, c, ldc, m, n, alpha, beta);
}

const GemmKernels kKernels = {kMR, kNR, pack_a, pack_b, micro, micro_a_strided};

}  // namespace

const GemmKernels& gemm_kernels_isa() { return kKernels; }

}  // namespace QARM_ISA_NS
}  // namespace qarm
