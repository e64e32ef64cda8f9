// Fused nearest-codeword search on CUDA cores (fp32). A block owns 64 query rows and streams
// the whole codebook through shared memory in 64-codeword x 16-dim slices; each of its 256
// threads accumulates a 4 x 4 register tile of dot products (the SGEMM scheme of gemm.cu).
// Each finished 64 x 64 tile is folded into the running result at once and then discarded,
// so the N x K matrix never exists:
//   k = 1:  every thread keeps the best of its 4 rows; a half-warp shuffle reduces at the end.
//   k > 1:  the tile goes to shared memory and each warp merges 8 rows into warp-held sorted
//           lists (topk.cuh); a cached k-th value rejects most candidates with one compare.
#include <cfloat>

#include "nearest_common.cuh"
#include "topk.cuh"

namespace qarm::cuda {
namespace {

// Slice depth; a block is 16 x 16 threads with TM x TM outputs each, i.e. 16 TM rows and
// columns per tile (64 for TM = 4, 128 for TM = 8).
constexpr int BK = 16;

__global__ void norm_kernel(const float* __restrict__ v, int64_t rows, int64_t dim, bool inv,
                            float* __restrict__ term) {
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t r = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; r < rows; r += nwarps) {
    double s = 0;
    for (int64_t d = lane; d < dim; d += 32) s += double(v[r * dim + d]) * v[r * dim + d];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) term[r] = inv ? (s > 0 ? float(1.0 / sqrt(s)) : 0.f) : float(s);
  }
}

__global__ void finite_kernel(const float* __restrict__ v, int64_t n, int32_t* err) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (!isfinite(v[i])) report_bad(err, i);
}

// Loads rows [r0, r0 + 16 TM) x dims [k0, k0 + 16) of a row-major [rows, D] matrix into
// tile[kk][r], zero-padded. Consecutive threads read consecutive dims (coalesced).
template <int TM>
__device__ __forceinline__ void load_slice(float (*tile)[16 * TM + 4], const float* __restrict__ m, int64_t rows,
                                           int64_t D, int64_t r0, int64_t k0) {
#pragma unroll
  for (int t = 0; t < TM; ++t) {
    const int e = threadIdx.x + t * 256;
    const int rr = e / BK, kk = e % BK;
    const int64_t gr = r0 + rr, gk = k0 + kk;
    tile[kk][rr] = (gr < rows && gk < D) ? m[gr * D + gk] : 0.f;
  }
}

// SLOTS == 0: the k = 1 kernel; otherwise lists of SLOTS * 32 >= k entries (TM = 4 only:
// the 64 x 64 score tile must fit in shared memory). TM x TM accumulators per thread: TM = 8
// (128 x 128 tiles) doubles the FMAs per shared-memory load, for the k = 1 kernel.
template <int SLOTS, int TM>
__global__ void __launch_bounds__(256)
    nearest_kernel(const float* __restrict__ x, int64_t N, int64_t D, const float* __restrict__ cb, int64_t K, int k,
                   int metric, const float* __restrict__ cterm, const float* __restrict__ xterm,
                   int32_t* __restrict__ out_idx, float* __restrict__ out_dist) {
  constexpr int BM = 16 * TM, BN = 16 * TM;
  static_assert(SLOTS == 0 || TM == 4, "top-k lists are merged from 64 x 64 tiles");
  __shared__ float Xs[BK][BM + 4];
  __shared__ float Cs[BK][BN + 4];
  __shared__ float S[SLOTS > 0 ? BM : 1][SLOTS > 0 ? BN + 1 : 1];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4, lane = tid & 31, warp = tid >> 5;
  const int64_t m0 = int64_t(blockIdx.x) * BM;

  float best_v[TM];
  int32_t best_i[TM];
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    best_v[i] = FLT_MAX;
    best_i[i] = INT32_MAX;
  }
  constexpr int kSlots = SLOTS > 0 ? SLOTS : 1, kLists = SLOTS > 0 ? 8 : 1;
  WarpList<kSlots> lists[kLists];
  float kth_v[SLOTS > 0 ? 8 : 1];
  int32_t kth_i[SLOTS > 0 ? 8 : 1];
  if constexpr (SLOTS > 0) {
#pragma unroll
    for (int r = 0; r < 8; ++r) {
      lists[r].clear();
      kth_v[r] = FLT_MAX;
      kth_i[r] = INT32_MAX;
    }
  }

  for (int64_t n0 = 0; n0 < K; n0 += BN) {
    float acc[TM][TM] = {};
    for (int64_t k0 = 0; k0 < D; k0 += BK) {
      load_slice<TM>(Xs, x, N, D, m0, k0);
      load_slice<TM>(Cs, cb, K, D, n0, k0);
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        float a[TM], b[TM];
#pragma unroll
        for (int i = 0; i < TM; ++i) a[i] = Xs[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < TM; ++j) b[j] = Cs[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TM; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
      __syncthreads();
    }
    if constexpr (SLOTS == 0) {
#pragma unroll
      for (int j = 0; j < TM; ++j) {
        const int64_t col = n0 + tx + 16 * j;
        if (col >= K) continue;
#pragma unroll
        for (int i = 0; i < TM; ++i) {
          const float s = score_of(acc[i][j], metric, cterm, col);
          if (pair_less(s, int32_t(col), best_v[i], best_i[i])) {
            best_v[i] = s;
            best_i[i] = int32_t(col);
          }
        }
      }
    } else {
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TM; ++j) {
          const int64_t col = n0 + tx + 16 * j;
          S[ty + 16 * i][tx + 16 * j] = col < K ? score_of(acc[i][j], metric, cterm, col) : FLT_MAX;
        }
      __syncthreads();
#pragma unroll
      for (int r = 0; r < 8; ++r) {
        const int row = warp * 8 + r;
        const int64_t c0 = n0 + lane, c1 = n0 + lane + 32;
        lists[r].offer(c0 < K, S[row][lane], int32_t(c0), k, kth_v[r], kth_i[r]);
        lists[r].offer(c1 < K, S[row][lane + 32], int32_t(c1), k, kth_v[r], kth_i[r]);
      }
      __syncthreads();
    }
  }

  if constexpr (SLOTS == 0) {
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      float v = best_v[i];
      int32_t id = best_i[i];
#pragma unroll
      for (int o = 8; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, o);
        const int32_t oi = __shfl_xor_sync(0xffffffffu, id, o);
        if (pair_less(ov, oi, v, id)) {
          v = ov;
          id = oi;
        }
      }
      const int64_t row = m0 + ty + 16 * i;
      if (tx == 0 && row < N) {
        out_idx[row] = id;
        out_dist[row] = distance_of(v, metric, xterm, row);
      }
    }
  } else {
#pragma unroll
    for (int r = 0; r < 8; ++r) {
      const int64_t row = m0 + warp * 8 + r;
      if (row >= N) continue;  // warp-uniform
#pragma unroll
      for (int s = 0; s < SLOTS; ++s) {
        const int p = s * 32 + lane;
        if (p < k) {
          out_idx[row * k + p] = lists[r].i[s];
          out_dist[row * k + p] = distance_of(lists[r].v[s], metric, xterm, row);
        }
      }
    }
  }
}

DeviceScratch g_scratch[4];

}  // namespace

float* nearest_scratch(int which, size_t floats) {
  return static_cast<float*>(g_scratch[which].get(floats * sizeof(float)));
}

void row_norm_terms(const float* v, int64_t rows, int64_t dim, bool want_inverse, float* term) {
  if (rows <= 0) return;
  norm_kernel<<<blocks_for(rows, 8, 65535LL * 8), 256>>>(v, rows, dim, want_inverse, term);
  check_launch("nearest (norms)");
}

void check_finite(const float* v, int64_t n, const char* name) {
  if (n <= 0) return;
  reset_error_word();
  finite_kernel<<<blocks_for(n, 256), 256>>>(v, n, error_word());
  check_launch("finiteness check");
  const int64_t pos = read_error_word();
  if (pos >= 0)
    throw Error(ErrorCode::Value,
                std::string("argument '") + name + "' holds a non-finite value at element " + std::to_string(pos));
}

void check_nearest_args(int64_t N, int64_t K, int k) {
  if (K <= 0) throw Error(ErrorCode::Value, "argument 'codebook' must have at least one row");
  if (K > INT32_MAX) throw Error(ErrorCode::Shape, "argument 'codebook' has more than 2^31-1 rows");
  if (k < 1 || k > K)
    throw Error(ErrorCode::Value, "argument 'k' = " + std::to_string(k) + " must be in [1, " + std::to_string(K) + "]");
  if (k > kMaxTopK)
    throw Error(ErrorCode::Value,
                "argument 'k' = " + std::to_string(k) + ": the CUDA kernels keep at most 128 neighbours per row");
  if ((N + 63) / 64 > INT32_MAX) throw Error(ErrorCode::Shape, "argument 'x' has too many rows");
}

void nearest(const float* x, int64_t N, int64_t D, const float* cb, int64_t K, int k, Metric metric, int32_t* out_idx,
             float* out_dist) {
  check_nearest_args(N, K, k);
  if (N <= 0) return;
  check_finite(x, N * D, "x");
  check_finite(cb, K * D, "codebook");
  float* cterm = nullptr;
  float* xterm = nullptr;
  if (metric != Metric::IP) {
    cterm = nearest_scratch(0, static_cast<size_t>(K));
    xterm = nearest_scratch(1, static_cast<size_t>(N));
    const bool inv = metric == Metric::Cosine;
    row_norm_terms(cb, K, D, inv, cterm);
    row_norm_terms(x, N, D, inv, xterm);
  }
  const unsigned grid64 = static_cast<unsigned>((N + 63) / 64), grid128 = static_cast<unsigned>((N + 127) / 128);
  const int m = static_cast<int>(metric);
  // k = 1 with many rows: 128 x 128 tiles (8 x 8 per thread); small N keeps 64-row blocks so
  // enough blocks exist to fill the GPU.
  if (k == 1 && N >= 128 * 512)
    nearest_kernel<0, 8><<<grid128, 256>>>(x, N, D, cb, K, k, m, cterm, xterm, out_idx, out_dist);
  else if (k == 1)
    nearest_kernel<0, 4><<<grid64, 256>>>(x, N, D, cb, K, k, m, cterm, xterm, out_idx, out_dist);
  else if (k <= 32)
    nearest_kernel<1, 4><<<grid64, 256>>>(x, N, D, cb, K, k, m, cterm, xterm, out_idx, out_dist);
  else
    nearest_kernel<4, 4><<<grid64, 256>>>(x, N, D, cb, K, k, m, cterm, xterm, out_idx, out_dist);
  check_launch("nearest");
}

}  // namespace qarm::cuda
