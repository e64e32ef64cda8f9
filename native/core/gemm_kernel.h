// The packed SIMD GEMM building blocks behind sgemm(), exposed for other fused kernels
// (e.g. nearest-codeword search, which computes x·cᵀ tiles and reduces them in place).
//
// Layout (BLIS style). A register tile is MR rows × NR columns of C, held in MR × NR/W
// vector accumulators (W = the float vector width of the instruction set):
//   avx512: MR = 14, NR = 32     avx2: MR = 6, NR = 16     generic: MR = 6, NR = 8
// Query the numbers at run time with gemm_kernels().mr / .nr; never hard-code them.
//
//  * Packed A ("panels of rows"): op(A) rows [0, m) × depth [0, k) become ceil(m / MR)
//    panels, panel i at dst + i * k * MR, each laid out depth-major: element (row r, depth p)
//    of panel i sits at [p * MR + r]. Rows past m are zero.
//  * Packed B ("panels of columns"): op(B) depth [0, k) × columns [0, n) become ceil(n / NR)
//    panels, panel j at dst + j * panel_stride (panel_stride >= k * NR), each depth-major:
//    element (depth p, column c) at [p * NR + c]. Columns past n are zero.
//  * The microkernel multiplies one A panel by one B panel over kc depth steps:
//      acc[r][c] = sum_{p < kc} a[p * MR + r] * b[p * NR + c]      (FMA, p ascending)
//    then writes the top-left m × n (m <= MR, n <= NR) of it to C (row stride ldc):
//      C = alpha * acc + beta * C, and with beta == 0 exactly, C = alpha * acc (C not read).
//    Each accumulator is summed over p in ascending order starting from 0, so an element's
//    value does not depend on where its tile sits or on which thread runs it.
// Callers must pass panel pointers produced by the pack functions of the SAME instruction
// set (the struct below bundles them), and buffers with room for whole padded panels.
#pragma once
#include <cstdint>

#include "cpu_features.h"

namespace qarm {

struct GemmKernels {
  int mr;  // rows of a register tile
  int nr;  // columns of a register tile (a multiple of the vector width)
  // Packs op(A)[0:m, 0:k] (op(A)(i, p) = trans ? A[p * lda + i] : A[i * lda + p]).
  void (*pack_a)(bool trans, const float* A, int64_t lda, int64_t m, int64_t k, float* dst);
  // Packs op(B)[0:k, 0:n] (op(B)(p, j) = trans ? B[j * ldb + p] : B[p * ldb + j]).
  void (*pack_b)(bool trans, const float* B, int64_t ldb, int64_t k, int64_t n, float* dst, int64_t panel_stride);
  // One MR × NR tile: C[0:m, 0:n] = alpha * (A panel · B panel over kc) + beta * C.
  void (*micro)(int64_t kc, const float* a_panel, const float* b_panel, float* C, int64_t ldc, int m, int n,
                float alpha, float beta);
  // The same tile with A read in place: element (r, p) at a[r * a_rs + p * a_ps] for
  // r < m (rows m..MR-1 are not read). Row-major op(A) is (a_rs = lda, a_ps = 1), a
  // transposed one (a_rs = 1, a_ps = lda). Bit-identical to pack_a + micro; faster when
  // each A element meets only a few B panels (packing would cost more than it saves).
  void (*micro_a_strided)(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps, const float* b_panel, float* C,
                          int64_t ldc, int m, int n, float alpha, float beta);
};

// The kernels of the instruction set in force now (see cpu_features.h). Fetch once per
// call of your kernel and use that one struct throughout, so a concurrent setIsa() cannot
// mix panel layouts.
const GemmKernels& gemm_kernels();

}  // namespace qarm

QARM_ISA_DECLARE(const ::qarm::GemmKernels& gemm_kernels_isa())
