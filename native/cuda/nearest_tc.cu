// Tensor-core nearest-codeword search: TF32 mma (wmma m16n16k8, fp32 accumulate) computes
// the 64 x 64 dot-product tiles, each warp keeps the best `candidates` codewords per row by
// that approximate score (topk.cuh), and a second kernel re-ranks every row's candidates
// with exact fp32 distances. The result equals the fp32 search whenever the true k nearest
// are among the TF32 top `candidates` (TF32 keeps 10 mantissa bits, so scores move by about
// 1e-3 relative; the default margin of max(2k, k + 16) candidates absorbs near-ties).
#include <mma.h>

#include <cfloat>

#include "nearest_common.cuh"
#include "topk.cuh"

namespace qarm::cuda {
namespace {

constexpr int BM = 64, BN = 64, BK = 32, LDT = BK + 4, LDS = BN + 4;
constexpr int64_t kChunkRows = 1 << 18;  // rows per pass, bounds the candidate buffer

// RF row fragments per warp: a block covers 64 RF query rows x 64 codewords, each warp a
// (16 RF) x 32 slab, so every B fragment loaded from shared memory feeds RF mma ops. The
// operand tiles and the score tile share one shared-memory buffer (they are never live at
// the same time; the barriers around the epilogue separate them).
template <int SLOTS, int RF>
__global__ void __launch_bounds__(256)
    candidates_kernel(const float* __restrict__ x, int64_t N, int64_t D, const float* __restrict__ cb, int64_t K, int C,
                      int metric, const float* __restrict__ cterm, int32_t* __restrict__ cand) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  constexpr int BMR = BM * RF;            // query rows per block
  constexpr int ROWS_PER_WARP = BMR / 8;  // epilogue rows per warp
  constexpr int OPERANDS = (BMR + BN) * LDT, SCORES = BMR * LDS;
  __shared__ __align__(128) float smem[OPERANDS > SCORES ? OPERANDS : SCORES];
  float* Xs = smem;
  float* Cs = smem + BMR * LDT;
  float* S = smem;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wr = warp >> 1, wc = warp & 1;  // this warp's (16 RF)-row band and 32-column half
  const int64_t m0 = int64_t(blockIdx.x) * BMR;

  WarpList<SLOTS> lists[ROWS_PER_WARP];
  float kth_v[ROWS_PER_WARP];
  int32_t kth_i[ROWS_PER_WARP];
#pragma unroll
  for (int r = 0; r < ROWS_PER_WARP; ++r) {
    lists[r].clear();
    kth_v[r] = FLT_MAX;
    kth_i[r] = INT32_MAX;
  }

  for (int64_t n0 = 0; n0 < K; n0 += BN) {
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[RF][2];
#pragma unroll
    for (int rf = 0; rf < RF; ++rf) {
      wmma::fill_fragment(acc[rf][0], 0.f);
      wmma::fill_fragment(acc[rf][1], 0.f);
    }
    for (int64_t k0 = 0; k0 < D; k0 += BK) {
      // BMR (resp. 64) rows x 32 dims, consecutive threads on consecutive dims (coalesced).
#pragma unroll
      for (int t = 0; t < 8 * RF; ++t) {
        const int e = tid + t * 256, rr = e / BK, kk = e % BK;
        const int64_t gk = k0 + kk, gx = m0 + rr;
        Xs[rr * LDT + kk] = (gx < N && gk < D) ? x[gx * D + gk] : 0.f;
      }
#pragma unroll
      for (int t = 0; t < 8; ++t) {
        const int e = tid + t * 256, rr = e / BK, kk = e % BK;
        const int64_t gk = k0 + kk, gc = n0 + rr;
        Cs[rr * LDT + kk] = (gc < K && gk < D) ? cb[gc * D + gk] : 0.f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; kk += 8) {
        // Codebook rows are the columns of B = codebook^T: a column-major view.
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> b[2];
#pragma unroll
        for (int f = 0; f < 2; ++f) {
          wmma::load_matrix_sync(b[f], Cs + (wc * 32 + f * 16) * LDT + kk, LDT);
#pragma unroll
          for (int t = 0; t < b[f].num_elements; ++t) b[f].x[t] = wmma::__float_to_tf32(b[f].x[t]);
        }
#pragma unroll
        for (int rf = 0; rf < RF; ++rf) {
          wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
          wmma::load_matrix_sync(a, Xs + (wr * 16 * RF + rf * 16) * LDT + kk, LDT);
#pragma unroll
          for (int t = 0; t < a.num_elements; ++t) a.x[t] = wmma::__float_to_tf32(a.x[t]);
          wmma::mma_sync(acc[rf][0], a, b[0], acc[rf][0]);
          wmma::mma_sync(acc[rf][1], a, b[1], acc[rf][1]);
        }
      }
      __syncthreads();
    }
    // The operand tiles are dead now (barrier above): the scores overwrite them.
#pragma unroll
    for (int rf = 0; rf < RF; ++rf) {
      float* base = S + (wr * 16 * RF + rf * 16) * LDS + wc * 32;
      wmma::store_matrix_sync(base, acc[rf][0], LDS, wmma::mem_row_major);
      wmma::store_matrix_sync(base + 16, acc[rf][1], LDS, wmma::mem_row_major);
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < ROWS_PER_WARP; ++r) {
      const int row = warp * ROWS_PER_WARP + r;
      const int64_t c0 = n0 + lane, c1 = n0 + lane + 32;
      const float s0 = c0 < K ? score_of(S[row * LDS + lane], metric, cterm, c0) : FLT_MAX;
      const float s1 = c1 < K ? score_of(S[row * LDS + lane + 32], metric, cterm, c1) : FLT_MAX;
      lists[r].offer(c0 < K, s0, int32_t(c0), C, kth_v[r], kth_i[r]);
      lists[r].offer(c1 < K, s1, int32_t(c1), C, kth_v[r], kth_i[r]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < ROWS_PER_WARP; ++r) {
    const int64_t row = m0 + warp * ROWS_PER_WARP + r;
    if (row >= N) continue;
#pragma unroll
    for (int s = 0; s < SLOTS; ++s) {
      const int p = s * 32 + lane;
      if (p < C) cand[row * C + p] = lists[r].i[s];  // row is relative to this chunk
    }
  }
#endif
}

// One warp per row: exact fp32 distance to each candidate (lanes split the dims, a fixed
// butterfly sums them), then the best k in sorted order.
template <int SLOTS>
__global__ void rerank_kernel(const float* __restrict__ x, int64_t rows, int64_t row0, int64_t D,
                              const float* __restrict__ cb, const int32_t* __restrict__ cand, int C, int k, int metric,
                              const float* __restrict__ cterm, const float* __restrict__ xterm,
                              int32_t* __restrict__ out_idx, float* __restrict__ out_dist) {
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; r < rows; r += nwarps) {
    const int64_t row = row0 + r;
    const float* xr = x + row * D;
    WarpList<SLOTS> list;
    list.clear();
    float kth_v = FLT_MAX;
    int32_t kth_i = INT32_MAX;
    for (int t = 0; t < C; ++t) {
      const int32_t j = cand[r * C + t];
      const float* cr = cb + int64_t(j) * D;
      float acc = 0.f;
      if (metric == static_cast<int>(Metric::L2)) {
        for (int64_t d = lane; d < D; d += 32) {
          const float diff = xr[d] - cr[d];
          acc = fmaf(diff, diff, acc);
        }
      } else {
        for (int64_t d = lane; d < D; d += 32) acc = fmaf(xr[d], cr[d], acc);
      }
      for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
      float dist;
      if (metric == static_cast<int>(Metric::L2))
        dist = acc;
      else if (metric == static_cast<int>(Metric::IP))
        dist = -acc;
      else
        dist = 1.f - acc * cterm[j] * xterm[row];
      list.offer(lane == 0, dist, j, k, kth_v, kth_i);
    }
#pragma unroll
    for (int s = 0; s < SLOTS; ++s) {
      const int p = s * 32 + lane;
      if (p < k) {
        out_idx[row * k + p] = list.i[s];
        out_dist[row * k + p] = list.v[s];
      }
    }
  }
}

template <int SLOTS, int RF>
void run_chunk(const float* x, int64_t N, int64_t row0, int64_t rows, int64_t D, const float* cb, int64_t K, int k,
               int C, int metric, const float* cterm, const float* xterm, int32_t* cand, int32_t* out_idx,
               float* out_dist) {
  const unsigned grid = static_cast<unsigned>((rows + BM * RF - 1) / (BM * RF));
  candidates_kernel<SLOTS, RF><<<grid, 256>>>(x + row0 * D, rows, D, cb, K, C, metric, cterm, cand);
  check_launch("nearest (tf32 candidates)");
  rerank_kernel<SLOTS><<<blocks_for(rows, 8, 65535LL * 8), 256>>>(x, rows, row0, D, cb, cand, C, k, metric, cterm,
                                                                  xterm, out_idx, out_dist);
  check_launch("nearest (re-rank)");
  (void)N;
}

}  // namespace

void nearest_tf32(const float* x, int64_t N, int64_t D, const float* cb, int64_t K, int k, int candidates,
                  Metric metric, int32_t* out_idx, float* out_dist) {
  check_nearest_args(N, K, k);
  int dev = 0, major = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  if (major < 8) throw Error(ErrorCode::Device, "the TF32 nearest kernel needs an sm_80 or newer GPU");
  int C = candidates > 0 ? candidates : (2 * k > k + 16 ? 2 * k : k + 16);
  if (C < k) throw Error(ErrorCode::Value, "argument 'candidates' must be at least k");
  if (C > kMaxTopK) C = kMaxTopK;
  if (C > K) C = static_cast<int>(K);
  if (N <= 0) return;
  check_finite(x, N * D, "x");
  check_finite(cb, K * D, "codebook");
  float* cterm = nearest_scratch(0, static_cast<size_t>(K));
  float* xterm = nearest_scratch(1, static_cast<size_t>(N));
  if (metric != Metric::IP) {
    const bool inv = metric == Metric::Cosine;
    row_norm_terms(cb, K, D, inv, cterm);
    row_norm_terms(x, N, D, inv, xterm);
  }
  const int64_t chunk = N < kChunkRows ? N : kChunkRows;
  auto* cand = reinterpret_cast<int32_t*>(nearest_scratch(2, static_cast<size_t>(chunk) * C));
  const int m = static_cast<int>(metric);
  for (int64_t row0 = 0; row0 < N; row0 += chunk) {
    const int64_t rows = N - row0 < chunk ? N - row0 : chunk;
    // 128-row blocks (two row fragments per warp) when the lists are one register each.
    if (C <= 32)
      run_chunk<1, 2>(x, N, row0, rows, D, cb, K, k, C, m, cterm, xterm, cand, out_idx, out_dist);
    else
      run_chunk<4, 1>(x, N, row0, rows, D, cb, K, k, C, m, cterm, xterm, cand, out_idx, out_dist);
  }
}

}  // namespace qarm::cuda
