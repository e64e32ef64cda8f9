// A thin float-vector type for the per-instruction-set kernels in this folder. Each .cc
// here is compiled three times (generic, avx2, avx512) with QARM_ISA_NS naming the
// namespace; code in this folder must stay inside that namespace and must not instantiate
// out-of-line templates from shared headers (std::vector, std::sort...), or the linker
// could merge an AVX-512 copy into code that runs on older CPUs.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#ifndef QARM_ISA_NS
#error "QARM_ISA_NS must name the instruction-set namespace"
#endif

namespace qarm {
namespace QARM_ISA_NS {

#if defined(__AVX512F__)
struct VecF {
  static constexpr int kWidth = 16;
  __m512 v;
  static inline VecF load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static inline VecF broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static inline VecF zero() { return {_mm512_setzero_ps()}; }
  // Loads the first n (< kWidth) lanes, zero elsewhere.
  static inline VecF load_partial(const float* p, int n) {
    return {_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p)};
  }
  inline void store(float* p) const { _mm512_storeu_ps(p, v); }
  inline void store_partial(float* p, int n) const {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
  }
  friend inline VecF fma(VecF a, VecF b, VecF c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  friend inline VecF operator+(VecF a, VecF b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend inline VecF operator-(VecF a, VecF b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend inline VecF operator*(VecF a, VecF b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend inline VecF vmin(VecF a, VecF b) { return {_mm512_min_ps(a.v, b.v)}; }
  friend inline VecF vmax(VecF a, VecF b) { return {_mm512_max_ps(a.v, b.v)}; }
  inline float sum() const { return _mm512_reduce_add_ps(v); }
};
#elif defined(__AVX2__)
struct VecF {
  static constexpr int kWidth = 8;
  __m256 v;
  static inline __m256i mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
  }
  static inline VecF load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static inline VecF broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static inline VecF zero() { return {_mm256_setzero_ps()}; }
  static inline VecF load_partial(const float* p, int n) { return {_mm256_maskload_ps(p, mask(n))}; }
  inline void store(float* p) const { _mm256_storeu_ps(p, v); }
  inline void store_partial(float* p, int n) const { _mm256_maskstore_ps(p, mask(n), v); }
  friend inline VecF fma(VecF a, VecF b, VecF c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend inline VecF operator+(VecF a, VecF b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend inline VecF operator-(VecF a, VecF b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend inline VecF operator*(VecF a, VecF b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend inline VecF vmin(VecF a, VecF b) { return {_mm256_min_ps(a.v, b.v)}; }
  friend inline VecF vmax(VecF a, VecF b) { return {_mm256_max_ps(a.v, b.v)}; }
  inline float sum() const {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
  }
};
#else
// Portable 4-lane vector (GCC/Clang vector extension): SSE2 on x86-64, NEON on arm64.
struct VecF {
  static constexpr int kWidth = 4;
  typedef float raw __attribute__((vector_size(16)));
  raw v;
  static inline VecF load(const float* p) {
    VecF r;
    __builtin_memcpy(&r.v, p, sizeof(raw));
    return r;
  }
  static inline VecF broadcast(float x) { return {raw{x, x, x, x}}; }
  static inline VecF zero() { return {raw{0, 0, 0, 0}}; }
  static inline VecF load_partial(const float* p, int n) {
    VecF r = zero();
    for (int i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  inline void store(float* p) const { __builtin_memcpy(p, &v, sizeof(raw)); }
  inline void store_partial(float* p, int n) const {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
  friend inline VecF fma(VecF a, VecF b, VecF c) { return {a.v * b.v + c.v}; }
  friend inline VecF operator+(VecF a, VecF b) { return {a.v + b.v}; }
  friend inline VecF operator-(VecF a, VecF b) { return {a.v - b.v}; }
  friend inline VecF operator*(VecF a, VecF b) { return {a.v * b.v}; }
  friend inline VecF vmin(VecF a, VecF b) { return {a.v < b.v ? a.v : b.v}; }
  friend inline VecF vmax(VecF a, VecF b) { return {a.v > b.v ? a.v : b.v}; }
  inline float sum() const { return (v[0] + v[1]) + (v[2] + v[3]); }
};
#endif

}  // namespace QARM_ISA_NS
}  // namespace qarm
