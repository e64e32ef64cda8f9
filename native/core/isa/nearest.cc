// Microkernel of the fused nearest-codeword search (see ../nearest.h). Compiled once per
// instruction set. A tile is MR rows of x times one panel of NV*W codewords; its MR*NV
// accumulators live in registers for the whole dot-product loop, are turned into keys with
// one FMA, and are compared with each row's current threshold (the k-th best key so far)
// before anything is stored. Only tiles holding a candidate below the threshold are spilled
// to a small stack buffer and pushed into the row's bounded max-heap.
// Per ../isa/simd.h: no std:: templates here, only plain arrays and static functions.
#include "../nearest.h"
#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int NV = 4;  // 24 accumulators + 4 panel vectors + 1 broadcast of 32 zmm
inline bool any_less(VecF v, float t) {
  return _mm512_cmp_ps_mask(v.v, _mm512_set1_ps(t), _CMP_LT_OQ) != 0;
}
#elif defined(__AVX2__)
constexpr int NV = 2;  // 12 accumulators + 2 + 1 of 16 ymm
inline bool any_less(VecF v, float t) {
  return _mm256_movemask_ps(_mm256_cmp_ps(v.v, _mm256_set1_ps(t), _CMP_LT_OQ)) != 0;
}
#else
constexpr int NV = 2;
inline bool any_less(VecF v, float t) {
  for (int i = 0; i < VecF::kWidth; ++i)
    if (v.v[i] < t) return true;
  return false;
}
#endif
constexpr int MR = 6;
constexpr int W = VecF::kWidth;
constexpr int NRW = NV * W;
// Codewords per cache block: the panels of one block (plus the rows of x) stay in L2 while
// every row micro-block of the caller's row block streams over them.
constexpr int64_t kBlockBytes = 384 * 1024;

// (key, index) lexicographic order: the heap keeps the k smallest pairs, top = largest.
inline bool pair_gt(float ka, int32_t ia, float kb, int32_t ib) {
  return ka > kb || (ka == kb && ia > ib);
}

inline void heap_push(float* hk, int32_t* hi, int32_t& cnt, int64_t k, float key, int32_t id) {
  if (cnt < k) {  // sift up
    int64_t i = cnt++;
    while (i > 0) {
      int64_t parent = (i - 1) >> 1;
      if (!pair_gt(key, id, hk[parent], hi[parent])) break;
      hk[i] = hk[parent];
      hi[i] = hi[parent];
      i = parent;
    }
    hk[i] = key;
    hi[i] = id;
    return;
  }
  if (!pair_gt(hk[0], hi[0], key, id)) return;
  int64_t i = 0;  // replace the top, sift down
  for (;;) {
    int64_t l = 2 * i + 1;
    if (l >= k) break;
    int64_t r = l + 1;
    int64_t m = (r < k && pair_gt(hk[r], hi[r], hk[l], hi[l])) ? r : l;
    if (!pair_gt(hk[m], hi[m], key, id)) break;
    hk[i] = hk[m];
    hi[i] = hi[m];
    i = m;
  }
  hk[i] = key;
  hi[i] = id;
}

inline float threshold(const float* hk, int32_t cnt, int64_t k) {
  return cnt < k ? __builtin_inff() : hk[0];
}

template <int M>
inline void tile(const float* x, int64_t ldx, const NearestPanels& p, int64_t panel, int32_t base,
                 int64_t k, float* keys, int32_t* idx, int32_t* count) {
  const int64_t D = p.dim;
  const float* pan = p.data + panel * D * NRW;
  VecF acc[M][NV];
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = VecF::zero();
  const float* xr[M];
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r) xr[r] = x + r * ldx;
  for (int64_t j = 0; j < D; ++j) {
    VecF b[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) b[v] = VecF::load(pan + j * NRW + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < M; ++r) {
      VecF a = VecF::broadcast(xr[r][j]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = fma(a, b[v], acc[r][v]);
    }
  }
  const float* al = p.alpha + panel * NRW;
  const float* be = p.beta + panel * NRW;
  VecF va[NV], vb[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    va[v] = VecF::load(al + v * W);
    vb[v] = VecF::load(be + v * W);
  }
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r) {
    float* hk = keys + r * k;
    int32_t* hi = idx + r * k;
    float thr = threshold(hk, count[r], k);
    VecF kv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) kv[v] = fma(acc[r][v], va[v], vb[v]);
    VecF m = kv[0];
#pragma GCC unroll 8
    for (int v = 1; v < NV; ++v) m = vmin(m, kv[v]);
    if (!any_less(m, thr)) continue;
    alignas(64) float buf[NRW];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) kv[v].store(buf + v * W);
    for (int l = 0; l < NRW; ++l) {
      if (buf[l] < thr) {
        heap_push(hk, hi, count[r], k, buf[l], base + l);
        thr = threshold(hk, count[r], k);
      }
    }
  }
}

template <int M>
void rows_over_panels(const float* x, int64_t ldx, const NearestPanels& p, int64_t pb, int64_t pe,
                      int64_t k, float* keys, int32_t* idx, int32_t* count) {
  for (int64_t q = pb; q < pe; ++q)
    tile<M>(x, ldx, p, q, static_cast<int32_t>(q * NRW), k, keys, idx, count);
}

}  // namespace

int64_t nearest_panel_width() { return NRW; }

void nearest_scan(const float* x, int64_t ldx, int64_t rows, const NearestPanels& p, int64_t p_begin,
                  int64_t p_end, int64_t k, float* keys, int32_t* idx, int32_t* count) {
  int64_t block = kBlockBytes / (p.dim * NRW * static_cast<int64_t>(sizeof(float)));
  if (block < 1) block = 1;
  for (int64_t b0 = p_begin; b0 < p_end; b0 += block) {
    int64_t b1 = b0 + block < p_end ? b0 + block : p_end;
    int64_t r = 0;
    for (; r + MR <= rows; r += MR)
      rows_over_panels<MR>(x + r * ldx, ldx, p, b0, b1, k, keys + r * k, idx + r * k, count + r);
    const float* xr = x + r * ldx;
    float* kr = keys + r * k;
    int32_t* ir = idx + r * k;
    int32_t* cr = count + r;
    switch (rows - r) {
      case 1: rows_over_panels<1>(xr, ldx, p, b0, b1, k, kr, ir, cr); break;
      case 2: rows_over_panels<2>(xr, ldx, p, b0, b1, k, kr, ir, cr); break;
      case 3: rows_over_panels<3>(xr, ldx, p, b0, b1, k, kr, ir, cr); break;
      case 4: rows_over_panels<4>(xr, ldx, p, b0, b1, k, kr, ir, cr); break;
      case 5: rows_over_panels<5>(xr, ldx, p, b0, b1, k, kr, ir, cr); break;
      default: break;
    }
  }
}

}  // namespace QARM_ISA_NS
}  // namespace qarm
