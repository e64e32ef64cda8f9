// Blocked, packed SGEMM driver over the SIMD microkernel of isa/gemm_kernel.cc.
//
// Blocking (all sizes depend on the problem and the instruction set only, never on the
// thread count, so every C element is reduced over K in the same order on any pool):
//   * columns of C in blocks of NC, depth in blocks of KB (a multiple of KC): op(B)[KB, NC]
//     is packed once into a shared buffer (at most ~8 MB, so it stays in L3);
//   * C is split into tasks of whole MR × NR tiles (at most kMaxTaskRows rows; enough
//     tasks to keep every thread busy, so the split may follow the thread count); a task
//     walks its depth in KC steps, packs its A rows × KC into a thread-local buffer (fits
//     in L2), or reads A in place when it meets too few B panels to repay packing, and
//     runs the microkernel over its tiles.
// Tasks write disjoint tiles of C and every tile is computed by the same FMA sequence
// wherever it lands, so no reduction crosses threads and the split never changes a bit.
// Packed B lives in the calling thread's scratch (kept for reuse, at most ~8 MB), packed A
// in each worker's.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "gemm_kernel.h"
#include "threadpool.h"

namespace qarm {

const GemmKernels& gemm_kernels() { return (QARM_ISA_SELECT(gemm_kernels_isa))(); }

namespace {

constexpr int64_t kKC = 256;                // depth of one microkernel pass
constexpr int64_t kPackedBBytes = 8 << 20;  // budget of the shared packed-B block
constexpr int64_t kMaxTaskRows = 168;       // rows of A one task packs (168 = 12·14 = 28·6)
constexpr int64_t kSerialFlops = 1 << 20;   // multiply-adds below which waking the pool costs more than it saves
constexpr int64_t kDirectAMaxPanels = 2;    // tasks this narrow read A in place (no packing)

// A 64-byte aligned scratch buffer owned by the calling thread, grown on demand.
float* thread_scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n + 16) buf.resize(n + 16);
  auto p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) & ~static_cast<uintptr_t>(63));
}

thread_local std::vector<float> tls_a;  // packed A of the task a thread runs
thread_local std::vector<float> tls_b;  // packed B of an sgemm call (on the calling thread)

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(N, 1));
  parallel_for(M, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.f)
        std::fill(c, c + N, 0.f);
      else
        for (int64_t j = 0; j < N; ++j) c[j] *= beta;
    }
  });
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) {
    // BLAS semantics: A and B are not read; beta == 0 overwrites C (even NaN) with zeros.
    if (beta != 1.f) scale_c(M, N, beta, C, ldc);
    return;
  }
  const GemmKernels& kern = gemm_kernels();
  const int64_t MR = kern.mr, NR = kern.nr;

  // Column block NC and depth block KB of the shared packed B.
  const int64_t n_pad = ceil_div(N, NR) * NR;
  int64_t NC = n_pad, KB = K;
  const int64_t budget = kPackedBBytes / static_cast<int64_t>(sizeof(float));
  if (K * NC > budget) {
    NC = std::max<int64_t>(NR, budget / K / NR * NR);
    NC = std::min(n_pad, std::max<int64_t>(NC, 512 / NR * NR));
    if (K * NC > budget) KB = std::max<int64_t>(kKC, budget / NC / kKC * kKC);
  }

  const int64_t flops = M * N * K;
  const int threads = flops < kSerialFlops ? 1 : num_threads();
  const int64_t m_panels = ceil_div(M, MR);
  const int64_t max_task_panels = std::max<int64_t>(1, kMaxTaskRows / MR);

  float* bpack = thread_scratch(tls_b, static_cast<size_t>(std::min(KB, K) * NC));

  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t n_panels = ceil_div(nc, NR);
    // Tasks: row groups of whole MR panels × column groups of whole NR panels. More than
    // one task per thread balances the pool; any split gives the same numbers.
    int64_t tm =
        std::max(ceil_div(m_panels, max_task_panels), std::min<int64_t>(m_panels, threads > 1 ? 4 * threads : 1));
    int64_t tn = 1;
    if (threads > 1 && tm < 2 * threads) tn = std::min(n_panels, ceil_div(2 * threads, tm));
    const int64_t panels_per_tm = ceil_div(m_panels, tm);
    tm = ceil_div(m_panels, panels_per_tm);
    const int64_t panels_per_tn = ceil_div(n_panels, tn);
    tn = ceil_div(n_panels, panels_per_tn);

    for (int64_t kb = 0; kb < K; kb += KB) {
      const int64_t kbn = std::min(KB, K - kb);
      const int64_t panel_stride = kbn * NR;
      // Pack op(B)[kb:kb+kbn, jc:jc+nc], panel by panel, in parallel.
      const int64_t pack_grain = std::max<int64_t>(1, (1 << 16) / panel_stride);
      auto pack_b = [&](int64_t p0, int64_t p1) {
        const int64_t j = jc + p0 * NR;
        const float* src = trans_b ? B + j * ldb + kb : B + kb * ldb + j;
        kern.pack_b(trans_b, src, ldb, kbn, std::min(nc - p0 * NR, (p1 - p0) * NR), bpack + p0 * panel_stride,
                    panel_stride);
      };
      if (threads > 1)
        parallel_for(n_panels, pack_grain, pack_b);
      else
        pack_b(0, n_panels);

      auto task = [&](int64_t t) {
        const int64_t tmi = t / tn, tni = t % tn;
        const int64_t ip0 = tmi * panels_per_tm, ip1 = std::min(m_panels, ip0 + panels_per_tm);
        const int64_t jp0 = tni * panels_per_tn, jp1 = std::min(n_panels, jp0 + panels_per_tn);
        if (ip0 >= ip1 || jp0 >= jp1) return;
        const int64_t i0 = ip0 * MR, rows = std::min(M, ip1 * MR) - i0;
        // Packing A pays off only when each packed panel meets several B panels.
        const bool direct = jp1 - jp0 <= kDirectAMaxPanels;
        float* apack = direct ? nullptr : thread_scratch(tls_a, static_cast<size_t>((ip1 - ip0) * MR * kKC));
        const int64_t a_rs = trans_a ? 1 : lda, a_ps = trans_a ? lda : 1;
        for (int64_t pc = kb; pc < kb + kbn; pc += kKC) {
          const int64_t kc = std::min(kKC, kb + kbn - pc);
          if (!direct) kern.pack_a(trans_a, trans_a ? A + pc * lda + i0 : A + i0 * lda + pc, lda, rows, kc, apack);
          const float beta_eff = pc == 0 ? beta : 1.f;
          for (int64_t jp = jp0; jp < jp1; ++jp) {
            const int64_t j = jc + jp * NR;
            const int n = static_cast<int>(std::min(NR, N - j));
            const float* bp = bpack + jp * panel_stride + (pc - kb) * NR;
            for (int64_t ip = ip0; ip < ip1; ++ip) {
              const int64_t i = ip * MR;
              const int m = static_cast<int>(std::min(MR, M - i));
              if (direct)
                kern.micro_a_strided(kc, A + i * a_rs + pc * a_ps, a_rs, a_ps, bp, C + i * ldc + j, ldc, m, n, alpha,
                                     beta_eff);
              else
                kern.micro(kc, apack + (ip - ip0) * kc * MR, bp, C + i * ldc + j, ldc, m, n, alpha, beta_eff);
            }
          }
        }
      };
      if (threads > 1)
        parallel_chunks(tm * tn, task);
      else
        for (int64_t t = 0; t < tm * tn; ++t) task(t);
    }
  }
}

}  // namespace qarm
