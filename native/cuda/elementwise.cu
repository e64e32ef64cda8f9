// Elementwise kernels: grid-stride loops over int64 offsets. Binary ops broadcast through
// per-input strides over the output shape (passed by value in a small struct), exactly as
// native/core/elementwise.cc; the math matches it operation for operation (IEEE fp32, no
// fast-math intrinsics) so results agree with the CPU to rounding.
#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

// Op codes of native/core/elementwise.h (UnaryOp / BinaryOp).
enum U { kNeg, kRelu, kSigmoid, kTanh, kExp, kLog, kSqrt, kAbs, kSquare, kReluGrad };
enum B { kAdd, kSub, kMul, kDiv, kMax, kMin, kPow, kGe, kLe };

__device__ __forceinline__ float sigmoidf(float v) {
  if (v >= 0.f) return 1.f / (1.f + expf(-v));
  float e = expf(v);
  return e / (1.f + e);
}

template <int OP>
__device__ __forceinline__ float apply_u(float v) {
  if constexpr (OP == kNeg) return -v;
  if constexpr (OP == kRelu) return v > 0.f ? v : 0.f;
  if constexpr (OP == kSigmoid) return sigmoidf(v);
  if constexpr (OP == kTanh) return tanhf(v);
  if constexpr (OP == kExp) return expf(v);
  if constexpr (OP == kLog) return logf(v);
  if constexpr (OP == kSqrt) return sqrtf(v);
  if constexpr (OP == kAbs) return fabsf(v);
  if constexpr (OP == kSquare) return v * v;
  if constexpr (OP == kReluGrad) return v > 0.f ? 1.f : 0.f;
  return v;
}

template <int OP>
__global__ void unary_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = apply_u<OP>(x[i]);
}

template <int OP>
__device__ __forceinline__ float apply_b(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  if constexpr (OP == kDiv) return a / b;
  if constexpr (OP == kMax) return a >= b ? a : b;
  if constexpr (OP == kMin) return a <= b ? a : b;
  if constexpr (OP == kPow) return powf(a, b);
  if constexpr (OP == kGe) return a >= b ? 1.f : 0.f;
  if constexpr (OP == kLe) return a <= b ? 1.f : 0.f;
  return 0.f;
}

struct Strides {
  int64_t shape[kMaxRank];
  int64_t as[kMaxRank];
  int64_t bs[kMaxRank];
  int rank;
};

template <int OP>
__global__ void binary_kernel(const float* __restrict__ a, const float* __restrict__ b,
                              float* __restrict__ out, int64_t n, Strides st) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rem = i, ao = 0, bo = 0;
    for (int d = st.rank - 1; d >= 0; --d) {
      int64_t c = rem % st.shape[d];
      rem /= st.shape[d];
      ao += c * st.as[d];
      bo += c * st.bs[d];
    }
    out[i] = apply_b<OP>(a[ao], b[bo]);
  }
}

// Same-shape contiguous fast path.
template <int OP>
__global__ void binary_flat_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                   float* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply_b<OP>(a[i], b[i]);
}

template <int OP>
void launch_binary(const float* a, const float* b, float* out, int64_t n, const Strides& st, bool flat) {
  if (flat) binary_flat_kernel<OP><<<blocks_for(n, 256), 256>>>(a, b, out, n);
  else binary_kernel<OP><<<blocks_for(n, 256), 256>>>(a, b, out, n, st);
}

__global__ void axpby_kernel(float alpha, const float* __restrict__ x, float beta, float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = alpha * x[i] + beta * y[i];
}

template <class T>
__global__ void fill_kernel(T* p, int64_t n, T v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) p[i] = v;
}

// 32 x 32 tiles through shared memory (padded against bank conflicts), 32 x 8 threads.
__global__ void transpose_kernel(const uint32_t* __restrict__ x, uint32_t* __restrict__ y, int64_t rows, int64_t cols) {
  __shared__ uint32_t tile[32][33];
  int64_t c0 = int64_t(blockIdx.x) * 32, r0 = int64_t(blockIdx.y) * 32;
  for (int j = threadIdx.y; j < 32; j += 8) {
    int64_t r = r0 + j, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[j][threadIdx.x] = x[r * cols + c];
  }
  __syncthreads();
  for (int j = threadIdx.y; j < 32; j += 8) {
    int64_t c = c0 + j, r = r0 + threadIdx.x;  // output row c, column r
    if (r < rows && c < cols) y[c * rows + r] = tile[threadIdx.x][j];
  }
}

}  // namespace

void unary(int op, const float* x, float* y, int64_t n) {
  if (n <= 0) return;
  unsigned g = blocks_for(n, 256);
  switch (op) {
    case kNeg: unary_kernel<kNeg><<<g, 256>>>(x, y, n); break;
    case kRelu: unary_kernel<kRelu><<<g, 256>>>(x, y, n); break;
    case kSigmoid: unary_kernel<kSigmoid><<<g, 256>>>(x, y, n); break;
    case kTanh: unary_kernel<kTanh><<<g, 256>>>(x, y, n); break;
    case kExp: unary_kernel<kExp><<<g, 256>>>(x, y, n); break;
    case kLog: unary_kernel<kLog><<<g, 256>>>(x, y, n); break;
    case kSqrt: unary_kernel<kSqrt><<<g, 256>>>(x, y, n); break;
    case kAbs: unary_kernel<kAbs><<<g, 256>>>(x, y, n); break;
    case kSquare: unary_kernel<kSquare><<<g, 256>>>(x, y, n); break;
    case kReluGrad: unary_kernel<kReluGrad><<<g, 256>>>(x, y, n); break;
    default: throw Error(ErrorCode::Value, "argument 'op': unknown unary op " + std::to_string(op));
  }
  check_launch("unary");
}

void binary(int op, const float* a, const int64_t* as, const float* b, const int64_t* bs,
            float* out, const int64_t* shape, int rank) {
  if (rank > kMaxRank)
    throw Error(ErrorCode::Shape, "argument 'shape': CUDA binary ops support rank <= 8 after merging dimensions");
  Strides st{};
  st.rank = rank;
  int64_t n = 1;
  bool flat = true;
  int64_t expect = 1;
  for (int d = rank - 1; d >= 0; --d) {
    st.shape[d] = shape[d];
    st.as[d] = as[d];
    st.bs[d] = bs[d];
    if (shape[d] != 1 && (as[d] != expect || bs[d] != expect)) flat = false;
    expect *= shape[d];
    n *= shape[d];
  }
  if (n <= 0) return;
  switch (op) {
    case kAdd: launch_binary<kAdd>(a, b, out, n, st, flat); break;
    case kSub: launch_binary<kSub>(a, b, out, n, st, flat); break;
    case kMul: launch_binary<kMul>(a, b, out, n, st, flat); break;
    case kDiv: launch_binary<kDiv>(a, b, out, n, st, flat); break;
    case kMax: launch_binary<kMax>(a, b, out, n, st, flat); break;
    case kMin: launch_binary<kMin>(a, b, out, n, st, flat); break;
    case kPow: launch_binary<kPow>(a, b, out, n, st, flat); break;
    case kGe: launch_binary<kGe>(a, b, out, n, st, flat); break;
    case kLe: launch_binary<kLe>(a, b, out, n, st, flat); break;
    default: throw Error(ErrorCode::Value, "argument 'op': unknown binary op " + std::to_string(op));
  }
  check_launch("binary");
}

void axpby(float alpha, const float* x, float beta, float* y, int64_t n) {
  if (n <= 0) return;
  axpby_kernel<<<blocks_for(n, 256), 256>>>(alpha, x, beta, y, n);
  check_launch("axpby");
}

void fill_f32(float* p, int64_t n, float v) {
  if (n <= 0) return;
  fill_kernel<float><<<blocks_for(n, 256), 256>>>(p, n, v);
  check_launch("fill");
}
void fill_i32(int32_t* p, int64_t n, int32_t v) {
  if (n <= 0) return;
  fill_kernel<int32_t><<<blocks_for(n, 256), 256>>>(p, n, v);
  check_launch("fill");
}

void transpose2d(const uint32_t* x, uint32_t* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if ((rows + 31) / 32 > 65535)
    throw Error(ErrorCode::Shape, "argument 'x': CUDA transpose supports at most 2097120 rows");
  dim3 grid(static_cast<unsigned>((cols + 31) / 32), static_cast<unsigned>((rows + 31) / 32));
  transpose_kernel<<<grid, dim3(32, 8)>>>(x, y, rows, cols);
  check_launch("transpose2d");
}

}  // namespace qarm::cuda
