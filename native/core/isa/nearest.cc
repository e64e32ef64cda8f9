// Microkernel of the fused nearest-codeword search (see ../nearest.h). Compiled once per
// instruction set. A tile is MR rows of x times one panel of NV*W codewords; its MR*NV
// accumulators live in registers for the whole dot-product loop, are turned into keys with
// one FMA, and are compared with each row's current threshold (the k-th best key so far)
// before anything is stored. Only tiles holding a candidate below the threshold are spilled
// to a small stack buffer; their passing lanes go to the row's running best (k = 1) or are
// appended to the row's candidate buffer, which is cut back to the k best when full.
// Per ../isa/simd.h: no std:: templates here, only plain arrays and static functions.
#include "../nearest.h"
#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int NV = 4;  // 24 accumulators + 4 panel vectors + 1 broadcast of 32 zmm
inline uint64_t less_mask(VecF v, float t) { return _mm512_cmp_ps_mask(v.v, _mm512_set1_ps(t), _CMP_LT_OQ); }
inline float hmin(VecF v) { return _mm512_reduce_min_ps(v.v); }
#elif defined(__AVX2__)
constexpr int NV = 2;  // 12 accumulators + 2 + 1 of 16 ymm
inline uint64_t less_mask(VecF v, float t) {
  return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v.v, _mm256_set1_ps(t), _CMP_LT_OQ)));
}
inline float hmin(VecF v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v.v), _mm256_extractf128_ps(v.v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
#else
constexpr int NV = 2;
inline uint64_t less_mask(VecF v, float t) {
  uint64_t m = 0;
  for (int i = 0; i < VecF::kWidth; ++i)
    if (v.v[i] < t) m |= uint64_t{1} << i;
  return m;
}
inline float hmin(VecF v) {
  float m = v.v[0];
  for (int i = 1; i < VecF::kWidth; ++i) m = v.v[i] < m ? v.v[i] : m;
  return m;
}
#endif
constexpr int MR = 6;
constexpr int W = VecF::kWidth;
constexpr int NRW = NV * W;
// Codewords per cache block: the panels of one block (plus the rows of x) stay in L2 while
// every row micro-block of the caller's row block streams over them.
constexpr int64_t kBlockBytes = 384 * 1024;

template <int M>
inline void tile(const float* x, int64_t ldx, const NearestPanels& p, int64_t panel, int32_t base, int64_t k,
                 int64_t cap, NearestCand* cand, int32_t* count, float* thr) {
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
    float t = thr[r];
    VecF kv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) kv[v] = fma(acc[r][v], va[v], vb[v]);
    alignas(64) float buf[NRW];
    if (k == 1) {
      // Running minimum: one horizontal min per tile; the lane is looked up only when the
      // panel improves on the best so far (a few times per row). Keys are finite or +inf
      // (padding), never NaN, and the first lane equal to the minimum is the lowest index.
      VecF m = kv[0];
#pragma GCC unroll 8
      for (int v = 1; v < NV; ++v) m = vmin(m, kv[v]);
      const float hm = hmin(m);
      if (!(hm < t)) continue;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) kv[v].store(buf + v * W);
      int l = 0;
      while (buf[l] != hm) ++l;
      cand[r * cap] = {hm, base + l};
      count[r] = 1;
      thr[r] = hm;
      continue;
    }
    // One bit per codeword of the panel below the threshold; usually none.
    uint64_t bits = 0;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bits |= less_mask(kv[v], t) << (v * W);
    if (!bits) continue;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) kv[v].store(buf + v * W);
    NearestCand* c = cand + r * cap;
    // Ascending lane order keeps ties to the lower index; t only falls, so lanes that failed
    // the first test stay out.
    int32_t n = count[r];
    while (bits) {
      const int l = __builtin_ctzll(bits);
      bits &= bits - 1;
      if (buf[l] < t) {
        c[n++] = {buf[l], base + l};
        if (n == cap) t = nearest_compact(c, &n, k);
      }
    }
    count[r] = n;
    thr[r] = t;
  }
}

template <int M>
void rows_over_panels(const float* x, int64_t ldx, const NearestPanels& p, int64_t pb, int64_t pe, int64_t k,
                      int64_t cap, NearestCand* cand, int32_t* count, float* thr) {
  for (int64_t q = pb; q < pe; ++q) tile<M>(x, ldx, p, q, static_cast<int32_t>(q * NRW), k, cap, cand, count, thr);
}

}  // namespace

int64_t nearest_panel_width() { return NRW; }

void nearest_scan(const float* x, int64_t ldx, int64_t rows, const NearestPanels& p, int64_t p_begin, int64_t p_end,
                  int64_t k, int64_t cap, NearestCand* cand, int32_t* count, float* thr) {
  int64_t block = kBlockBytes / (p.dim * NRW * static_cast<int64_t>(sizeof(float)));
  if (block < 1) block = 1;
  for (int64_t b0 = p_begin; b0 < p_end; b0 += block) {
    int64_t b1 = b0 + block < p_end ? b0 + block : p_end;
    int64_t r = 0;
    for (; r + MR <= rows; r += MR)
      rows_over_panels<MR>(x + r * ldx, ldx, p, b0, b1, k, cap, cand + r * cap, count + r, thr + r);
    const float* xr = x + r * ldx;
    NearestCand* cr = cand + r * cap;
    int32_t* nr = count + r;
    float* tr = thr + r;
    switch (rows - r) {
      case 1:
        rows_over_panels<1>(xr, ldx, p, b0, b1, k, cap, cr, nr, tr);
        break;
      case 2:
        rows_over_panels<2>(xr, ldx, p, b0, b1, k, cap, cr, nr, tr);
        break;
      case 3:
        rows_over_panels<3>(xr, ldx, p, b0, b1, k, cap, cr, nr, tr);
        break;
      case 4:
        rows_over_panels<4>(xr, ldx, p, b0, b1, k, cap, cr, nr, tr);
        break;
      case 5:
        rows_over_panels<5>(xr, ldx, p, b0, b1, k, cap, cr, nr, tr);
        break;
      default:
        break;
    }
  }
}

}  // namespace QARM_ISA_NS
}  // namespace qarm
