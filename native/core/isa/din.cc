// Per-sample inner loops of the fused DIN attention scoring (native/core/attention.cc), built
// once per instruction set. Raw pointers and VecF only (see the ODR note in simd.h).
// Rows over the hidden units are padded to Ap (a multiple of 16, zeros in the padding) so every
// vector op is full width, and sums stay in registers across the reduced index (no store-to-load
// round trips on partial vectors).
#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {
namespace {

constexpr int W = VecF::kWidth;

inline float act_grad(float s, int act) { return act == 0 ? s * (1.f - s) : (s > 0.f ? 1.f : 0.f); }

// σ(z) in place over n values (n a multiple of 16: rows are padded). exp(−z) = 2^t with
// t = −z·log2(e) clamped to ±126, split as 2^⌊t⌋ (exponent bits) · p(t − ⌊t⌋) (degree-6
// polynomial, relative error ~2e-7); vector code on AVX2/AVX-512, libm on the portable build.
#if defined(__AVX512F__) || defined(__AVX2__)
#if defined(__AVX512F__)
using RawF = __m512;
using RawI = __m512i;
inline RawF set1(float x) { return _mm512_set1_ps(x); }
inline RawF vfloor(RawF x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
inline RawF vpow2i(RawF fl) {
  const RawI e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fl), _mm512_set1_epi32(127)), 23);
  return _mm512_castsi512_ps(e);
}
#define QV(op, ...) _mm512_##op##_ps(__VA_ARGS__)
constexpr int kLanes = 16;
#else
using RawF = __m256;
using RawI = __m256i;
inline RawF set1(float x) { return _mm256_set1_ps(x); }
inline RawF vfloor(RawF x) { return _mm256_floor_ps(x); }
inline RawF vpow2i(RawF fl) {
  const RawI e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fl), _mm256_set1_epi32(127)), 23);
  return _mm256_castsi256_ps(e);
}
#define QV(op, ...) _mm256_##op##_ps(__VA_ARGS__)
constexpr int kLanes = 8;
#endif
inline void sigmoid_inplace(float* z, int64_t n) {
  const RawF c6 = set1(1.535336188319500e-4f), c5 = set1(1.339887440266574e-3f), c4 = set1(9.618437357674640e-3f),
             c3 = set1(5.550332471162809e-2f), c2 = set1(2.402264791363012e-1f), c1 = set1(6.931472028550421e-1f),
             one = set1(1.f), lo = set1(-126.f), hi = set1(126.f), nlog2e = set1(-1.44269504088896341f);
  for (int64_t i = 0; i < n; i += kLanes) {
    RawF t = QV(mul, QV(loadu, z + i), nlog2e);
    t = QV(max, lo, QV(min, hi, t));
    const RawF fl = vfloor(t);
    const RawF f = QV(sub, t, fl);
    RawF p = QV(fmadd, c6, f, c5);
    p = QV(fmadd, p, f, c4);
    p = QV(fmadd, p, f, c3);
    p = QV(fmadd, p, f, c2);
    p = QV(fmadd, p, f, c1);
    p = QV(fmadd, p, f, one);
    QV(storeu, z + i, QV(div, one, QV(fmadd, p, vpow2i(fl), one)));
  }
}
#undef QV
#else
inline void sigmoid_inplace(float* z, int64_t n) {
  for (int64_t i = 0; i < n; ++i) z[i] = 1.f / (1.f + __builtin_expf(-z[i]));
}
#endif

inline float dot_full(const float* a, const float* b, int64_t n) {
  VecF acc = VecF::zero();
  for (int64_t i = 0; i < n; i += W) acc = fma(VecF::load(a + i), VecF::load(b + i), acc);
  return acc.sum();
}

}  // namespace

// Row h of the hidden layer, act(qt + Σ_j k[h, j] mt[j, :]), into z[h * Ap ..] (all Ap lanes),
// and scores[h] = b2 + w2 · that row. qt, w2 [Ap]; mt [K, Ap]; z [H, Ap].
void din_fwd_sample(const float* qt, const float* mt, const float* kb, int64_t H, int64_t K, int64_t A, int64_t Ap,
                    const float* w2, float b2, int act, float* zbuf, float* scores) {
  // Four history rows at a time: four independent FMA chains share each load of mt.
  int64_t h = 0;
  for (; h + 4 <= H; h += 4) {
    const float* k0 = kb + h * K;
    for (int64_t c = 0; c < Ap; c += W) {
      VecF a0 = VecF::load(qt + c), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t j = 0; j < K; ++j) {
        const VecF m = VecF::load(mt + j * Ap + c);
        a0 = fma(VecF::broadcast(k0[j]), m, a0);
        a1 = fma(VecF::broadcast(k0[K + j]), m, a1);
        a2 = fma(VecF::broadcast(k0[2 * K + j]), m, a2);
        a3 = fma(VecF::broadcast(k0[3 * K + j]), m, a3);
      }
      a0.store(zbuf + h * Ap + c);
      a1.store(zbuf + (h + 1) * Ap + c);
      a2.store(zbuf + (h + 2) * Ap + c);
      a3.store(zbuf + (h + 3) * Ap + c);
    }
  }
  for (; h < H; ++h) {
    const float* kh = kb + h * K;
    for (int64_t c = 0; c < Ap; c += W) {
      VecF acc = VecF::load(qt + c);
      for (int64_t j = 0; j < K; ++j) acc = fma(VecF::broadcast(kh[j]), VecF::load(mt + j * Ap + c), acc);
      acc.store(zbuf + h * Ap + c);
    }
  }
  for (h = 0; h < H; ++h) {
    float* z = zbuf + h * Ap;
    if (act == 0)
      sigmoid_inplace(z, Ap);
    else
      for (int64_t a = 0; a < Ap; ++a) z[a] = z[a] > 0.f ? z[a] : 0.f;
    if (scores) scores[h] = b2 + dot_full(z, w2, Ap);  // w2 is zero in the padding
  }
}

// Backward of one sample: adds weight gradients into gqd/gkd/gwp [K, Ap], gb1/gw2 [Ap], gb2, and
// writes dq [K] / dk [H, K] when given. wkd/wp/wqd [K, Ap]; w2 [Ap]; hidden [H, Ap] (recomputed
// by din_fwd_sample: cheaper than keeping [B, H, A] activations alive between passes).
// Scratch: g [H, Ap], dqt [Ap], mtT [Ap, Kp] (Kp = K rounded up to 16).
void din_bwd_sample(const float* qb, const float* kb, const float* wkd, const float* wp, const float* wqd,
                    const float* w2, const float* hidden, const float* ds, int act, int64_t H, int64_t K, int64_t A,
                    int64_t Ap, int64_t Kp, float* g, float* dqt, float* mtT, float* gqd, float* gkd, float* gwp,
                    float* gb1, float* gw2, float* gb2, float* dq, float* dk) {
  for (int64_t a = 0; a < Ap; ++a) dqt[a] = 0.f;
  for (int64_t h = 0; h < H; ++h) {
    const float d = ds[h];
    float* gh = g + h * Ap;
    const float* s = hidden + h * Ap;
    for (int64_t a = A; a < Ap; ++a) gh[a] = 0.f;
    if (d == 0.f) {
      for (int64_t a = 0; a < A; ++a) gh[a] = 0.f;
      continue;
    }
    *gb2 += d;
    for (int64_t a = 0; a < A; ++a) {
      gw2[a] += d * s[a];
      gh[a] = d * w2[a] * act_grad(s[a], act);
      dqt[a] += gh[a];
    }
  }
  for (int64_t a = 0; a < A; ++a) gb1[a] += dqt[a];
  // dM[j, :] = Σ_h k[h, j] g[h, :], kept in registers per block of hidden units; four j at a
  // time so four FMA chains share each load of g.
  auto finish_j = [&](int64_t j, int64_t c, VecF acc, VecF& dqacc) {
    const VecF qv = VecF::broadcast(qb[j]);
    const int64_t o = j * Ap + c;
    (VecF::load(gkd + o) + acc).store(gkd + o);
    fma(qv, acc, VecF::load(gwp + o)).store(gwp + o);
    const VecF t = VecF::load(dqt + c);
    fma(qv, t, VecF::load(gqd + o)).store(gqd + o);
    dqacc = fma(acc, VecF::load(wp + o), fma(t, VecF::load(wqd + o), dqacc));
  };
  int64_t j = 0;
  for (; j + 4 <= K; j += 4) {
    VecF d0 = VecF::zero(), d1 = d0, d2 = d0, d3 = d0;
    for (int64_t c = 0; c < Ap; c += W) {
      VecF a0 = VecF::zero(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t h = 0; h < H; ++h) {
        const VecF gv = VecF::load(g + h * Ap + c);
        const float* kh = kb + h * K + j;
        a0 = fma(VecF::broadcast(kh[0]), gv, a0);
        a1 = fma(VecF::broadcast(kh[1]), gv, a1);
        a2 = fma(VecF::broadcast(kh[2]), gv, a2);
        a3 = fma(VecF::broadcast(kh[3]), gv, a3);
      }
      finish_j(j, c, a0, d0);
      finish_j(j + 1, c, a1, d1);
      finish_j(j + 2, c, a2, d2);
      finish_j(j + 3, c, a3, d3);
    }
    if (dq) {
      dq[j] = d0.sum();
      dq[j + 1] = d1.sum();
      dq[j + 2] = d2.sum();
      dq[j + 3] = d3.sum();
    }
  }
  for (; j < K; ++j) {
    VecF dqacc = VecF::zero();
    for (int64_t c = 0; c < Ap; c += W) {
      VecF acc = VecF::zero();
      for (int64_t h = 0; h < H; ++h) acc = fma(VecF::broadcast(kb[h * K + j]), VecF::load(g + h * Ap + c), acc);
      finish_j(j, c, acc, dqacc);
    }
    if (dq) dq[j] = dqacc.sum();
  }
  if (dk) {
    // dk[h, :] = Σ_a g[h, a] M[:, a] with M[j, a] = wkd + q_j wp, stored transposed [Ap, Kp].
    for (int64_t a = 0; a < Ap; ++a) {
      float* row = mtT + a * Kp;
      for (int64_t j = 0; j < K; ++j) row[j] = wkd[j * Ap + a] + qb[j] * wp[j * Ap + a];
      for (int64_t j = K; j < Kp; ++j) row[j] = 0.f;
    }
    // Four history rows at a time share each load of mtT.
    int64_t h = 0;
    for (; h + 4 <= H; h += 4) {
      for (int64_t c = 0; c < K; c += W) {
        VecF a0 = VecF::zero(), a1 = a0, a2 = a0, a3 = a0;
        const float* g0 = g + h * Ap;
        for (int64_t a = 0; a < A; ++a) {
          const VecF m = VecF::load(mtT + a * Kp + c);
          a0 = fma(VecF::broadcast(g0[a]), m, a0);
          a1 = fma(VecF::broadcast(g0[Ap + a]), m, a1);
          a2 = fma(VecF::broadcast(g0[2 * Ap + a]), m, a2);
          a3 = fma(VecF::broadcast(g0[3 * Ap + a]), m, a3);
        }
        const VecF acc[4] = {a0, a1, a2, a3};
        for (int r = 0; r < 4; ++r) {
          float* dkh = dk + (h + r) * K;
          if (c + W <= K)
            acc[r].store(dkh + c);
          else
            acc[r].store_partial(dkh + c, static_cast<int>(K - c));
        }
      }
    }
    for (; h < H; ++h) {
      float* dkh = dk + h * K;
      const float* gh = g + h * Ap;
      for (int64_t c = 0; c < K; c += W) {
        VecF acc = VecF::zero();
        for (int64_t a = 0; a < A; ++a) acc = fma(VecF::broadcast(gh[a]), VecF::load(mtT + a * Kp + c), acc);
        if (c + W <= K)
          acc.store(dkh + c);
        else
          acc.store_partial(dkh + c, static_cast<int>(K - c));
      }
    }
  }
}

}  // namespace QARM_ISA_NS
}  // namespace qarm
