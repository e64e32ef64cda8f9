// Embedding rows: validated gather, and the scatter-add that embedding backward feeds to the
// row-sparse optimizers, in two modes (see api.h): sorted (deterministic, default) and
// atomic. Both validate every index before touching the target, so a bad index leaves it
// unchanged, as on the CPU.
#include <cub/device/device_radix_sort.cuh>

#include <type_traits>

#include "api.h"
#include "segment.cuh"

namespace qarm::cuda {
namespace {

DeviceScratch g_keys_in, g_keys_out, g_perm_in, g_perm_out, g_cub;

__global__ void validate_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t rows, int32_t* err,
                                bool allow_negative = false) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int32_t v = idx[i];
    if ((v < 0 && !allow_negative) || v >= rows) report_bad(err, i);
  }
}

__global__ void prepare_sort_kernel(const int32_t* __restrict__ idx, int64_t n, int64_t rows,
                                    int32_t* __restrict__ keys, int32_t* __restrict__ perm, int32_t* err,
                                    bool skip_negative) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int32_t v = idx[i];
    if (v < 0 && skip_negative) {
      v = static_cast<int32_t>(rows);  // sorts past every real row; consumers stop there
    } else if (v < 0 || v >= rows) {
      report_bad(err, i);
      v = 0;  // keeps the sort well-defined; consumers skip their work anyway
    }
    keys[i] = v;
    perm[i] = static_cast<int32_t>(i);
  }
}

__global__ void gather_kernel(const float* __restrict__ table, int64_t rows, int64_t dim,
                              const int32_t* __restrict__ idx, int64_t n, float* __restrict__ out, int32_t* err,
                              bool padded) {
  const int64_t total = n * dim;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = t / dim, d = t - i * dim;
    int32_t r = idx[i];
    if (r < 0 || r >= rows) {
      if (d == 0 && !(padded && r < 0)) report_bad(err, i);
      out[t] = 0.f;
    } else {
      out[t] = table[int64_t(r) * dim + d];
    }
  }
}

__global__ void atomic_scatter_kernel(float* __restrict__ target, int64_t dim, const int32_t* __restrict__ idx,
                                      int64_t n, const float* __restrict__ src, const int32_t* err) {
  if (guard_failed(err)) return;
  // One warp per source row: no per-element index division, the row id is read once.
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; i < n; i += nwarps) {
    float* row = target + int64_t(idx[i]) * dim;
    const float* s = src + i * dim;
    for (int64_t d = lane; d < dim; d += 32) atomicAdd(row + d, s[d]);
  }
}

// dim % 4 == 0 on sm_90+: 16-byte loads and vector reductions (red.global.add.v4.f32), a
// quarter of the atomic operations.
__global__ void atomic_scatter4_kernel(float* __restrict__ target, int64_t dim, const int32_t* __restrict__ idx,
                                       int64_t n, const float* __restrict__ src, const int32_t* err) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  const int64_t q = dim >> 2;
  for (int64_t i = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; i < n; i += nwarps) {
    float4* row = reinterpret_cast<float4*>(target + int64_t(idx[i]) * dim);
    const float4* s = reinterpret_cast<const float4*>(src + i * dim);
    for (int64_t d = lane; d < q; d += 32) atomicAdd(row + d, s[d]);
  }
#endif
}

// Sorted scatter of plain rows, V consecutive floats per lane (vector loads; V * 32 columns
// per pass, usually one pass), each run summed in input order: bit-identical to the scalar
// segment kernel and to the CPU loop.
template <int V>
__global__ void segment_scatter_vec_kernel(SortedRows s, int64_t dim, float* __restrict__ target,
                                           const float* __restrict__ src, const int32_t* __restrict__ err) {
  using Vec = typename std::conditional<V == 4, float4, typename std::conditional<V == 2, float2, float>::type>::type;
  if (guard_failed(err)) return;
  const int lane = threadIdx.x & 31;
  const int64_t nwarps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  const int64_t nv = dim / V;
  for (int64_t p = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5; p < s.n; p += nwarps) {
    const int32_t key = s.keys[p];
    if (p > 0 && s.keys[p - 1] == key) continue;
    int64_t end = p + 1;
    while (end < s.n && s.keys[end] == key) ++end;
    Vec* row = reinterpret_cast<Vec*>(target + int64_t(key) * dim);
    for (int64_t d = lane; d < nv; d += 32) {
      float acc[V];
      const Vec t = row[d];
      const float* tv = reinterpret_cast<const float*>(&t);
#pragma unroll
      for (int c = 0; c < V; ++c) acc[c] = tv[c];
      for (int64_t qq = p; qq < end; ++qq) {
        const Vec v = reinterpret_cast<const Vec*>(src + int64_t(s.perm[qq]) * dim)[d];
        const float* vv = reinterpret_cast<const float*>(&v);
#pragma unroll
        for (int c = 0; c < V; ++c) acc[c] += vv[c];
      }
      Vec out;
      float* ov = reinterpret_cast<float*>(&out);
#pragma unroll
      for (int c = 0; c < V; ++c) ov[c] = acc[c];
      row[d] = out;
    }
  }
}

int bits_for(int64_t rows) {
  int b = 1;
  while (b < 31 && (int64_t(1) << b) < rows) ++b;
  return b;
}

}  // namespace

SortedRows sort_rows(const int32_t* idx, int64_t n, int64_t rows, bool skip_negative) {
  if (n > INT32_MAX) throw Error(ErrorCode::Shape, "argument 'indices': more than 2^31-1 indices");
  reset_error_word();
  const size_t bytes = static_cast<size_t>(n) * sizeof(int32_t);
  auto* keys_in = static_cast<int32_t*>(g_keys_in.get(bytes));
  auto* keys_out = static_cast<int32_t*>(g_keys_out.get(bytes));
  auto* perm_in = static_cast<int32_t*>(g_perm_in.get(bytes));
  auto* perm_out = static_cast<int32_t*>(g_perm_out.get(bytes));
  prepare_sort_kernel<<<blocks_for(n, 256), 256>>>(idx, n, rows, keys_in, perm_in, error_word(), skip_negative);
  check_launch("sort indices");
  size_t temp = 0;
  const int bits = bits_for(skip_negative ? rows + 1 : rows);
  check(cub::DeviceRadixSort::SortPairs(nullptr, temp, keys_in, keys_out, perm_in, perm_out, static_cast<int>(n), 0,
                                        bits),
        "radix sort (size query)");
  void* tmp = g_cub.get(temp ? temp : 1);
  check(cub::DeviceRadixSort::SortPairs(tmp, temp, keys_in, keys_out, perm_in, perm_out, static_cast<int>(n), 0, bits),
        "radix sort");
  return SortedRows{keys_out, perm_out, n};
}

void gather_rows(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                 const char* arg, bool padded) {
  if (n <= 0) return;
  reset_error_word();
  if (dim > 0) {
    gather_kernel<<<blocks_for(n * dim, 256), 256>>>(table, rows, dim, idx, n, out, error_word(), padded);
  } else {
    validate_kernel<<<blocks_for(n, 256), 256>>>(idx, n, rows, error_word(), padded);
  }
  check_launch("gatherRows");
  throw_if_bad(arg, idx, rows);
}

void scatter_add_rows(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
                      ScatterMode mode, const char* arg) {
  if (n <= 0) return;
  if (mode == ScatterMode::Atomic || dim == 0) {
    reset_error_word();
    validate_kernel<<<blocks_for(n, 256), 256>>>(idx, n, rows, error_word());
    check_launch("scatterAddRows");
    if (dim > 0) {
      int dev = 0, major = 0;
      check(cudaGetDevice(&dev), "cudaGetDevice");
      check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
      // Buffers come from cudaMalloc (256-byte aligned), so dim % 4 == 0 makes every row 16-byte aligned.
      if (major >= 9 && dim % 4 == 0)
        atomic_scatter4_kernel<<<segment_blocks(n), 256>>>(target, dim, idx, n, src, error_word());
      else
        atomic_scatter_kernel<<<segment_blocks(n), 256>>>(target, dim, idx, n, src, error_word());
      check_launch("scatterAddRows");
    }
  } else {
    SortedRows s = sort_rows(idx, n, rows);
    if (dim % 4 == 0 && dim >= 128)
      segment_scatter_vec_kernel<4><<<segment_blocks(n), 256>>>(s, dim, target, src, error_word());
    else if (dim % 2 == 0 && dim >= 64)
      segment_scatter_vec_kernel<2><<<segment_blocks(n), 256>>>(s, dim, target, src, error_word());
    else
      segment_sum_kernel<float, true, false, PlainSrc, int32_t>
          <<<segment_blocks(n), 256>>>(s, dim, target, nullptr, error_word(), PlainSrc{src, dim});
    check_launch("scatterAddRows");
  }
  throw_if_bad(arg, idx, rows);
}

}  // namespace qarm::cuda
