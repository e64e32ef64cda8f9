// Elementwise kernels: grid-stride loops over int64 offsets. Binary ops broadcast through
// per-input strides over the output shape (passed by value in a small struct), exactly as
// native/core/elementwise.cc; the math matches it operation for operation (IEEE fp32, no
// fast-math intrinsics) so results agree with the CPU to rounding.
#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

__device__ __forceinline__ float sigmoidf(float v) {
  if (v >= 0.f) return 1.f / (1.f + expf(-v));
  float e = expf(v);
  return e / (1.f + e);
}

template <UnaryOp OP>
__device__ __forceinline__ float apply_u(float v) {
  if constexpr (OP == UnaryOp::Neg) return -v;
  if constexpr (OP == UnaryOp::Relu) return v > 0.f ? v : 0.f;
  if constexpr (OP == UnaryOp::Sigmoid) return sigmoidf(v);
  if constexpr (OP == UnaryOp::Tanh) return tanhf(v);
  if constexpr (OP == UnaryOp::Exp) return expf(v);
  if constexpr (OP == UnaryOp::Log) return logf(v);
  if constexpr (OP == UnaryOp::Sqrt) return sqrtf(v);
  if constexpr (OP == UnaryOp::Abs) return fabsf(v);
  if constexpr (OP == UnaryOp::Square) return v * v;
  if constexpr (OP == UnaryOp::ReluGrad) return v > 0.f ? 1.f : 0.f;
  return v;
}

template <UnaryOp OP>
__global__ void unary_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = apply_u<OP>(x[i]);
}

template <BinaryOp OP>
__device__ __forceinline__ float apply_b(float a, float b) {
  if constexpr (OP == BinaryOp::Add) return a + b;
  if constexpr (OP == BinaryOp::Sub) return a - b;
  if constexpr (OP == BinaryOp::Mul) return a * b;
  if constexpr (OP == BinaryOp::Div) return a / b;
  if constexpr (OP == BinaryOp::Max) return a >= b ? a : b;
  if constexpr (OP == BinaryOp::Min) return a <= b ? a : b;
  if constexpr (OP == BinaryOp::Pow) return powf(a, b);
  if constexpr (OP == BinaryOp::Ge) return a >= b ? 1.f : 0.f;
  if constexpr (OP == BinaryOp::Le) return a <= b ? 1.f : 0.f;
  return 0.f;
}

struct Strides {
  int64_t shape[kMaxRank];
  int64_t as[kMaxRank];
  int64_t bs[kMaxRank];
  int rank;
};

template <BinaryOp OP>
__global__ void binary_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                              int64_t n, Strides st) {
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
template <BinaryOp OP>
__global__ void binary_flat_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                                   int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply_b<OP>(a[i], b[i]);
}

template <BinaryOp OP>
void launch_binary(const float* a, const float* b, float* out, int64_t n, const Strides& st, bool flat) {
  if (flat)
    binary_flat_kernel<OP><<<blocks_for(n, 256), 256>>>(a, b, out, n);
  else
    binary_kernel<OP><<<blocks_for(n, 256), 256>>>(a, b, out, n, st);
}

__global__ void axpby_kernel(float alpha, const float* __restrict__ x, float beta, float* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = alpha * x[i] + beta * y[i];
}

template <class T>
__global__ void fill_kernel(T* p, int64_t n, T v) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    p[i] = v;
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

void unary(UnaryOp op, const float* x, float* y, int64_t n) {
  if (n <= 0) return;
  unsigned g = blocks_for(n, 256);
  switch (op) {
    case UnaryOp::Neg:
      unary_kernel<UnaryOp::Neg><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Relu:
      unary_kernel<UnaryOp::Relu><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Sigmoid:
      unary_kernel<UnaryOp::Sigmoid><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Tanh:
      unary_kernel<UnaryOp::Tanh><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Exp:
      unary_kernel<UnaryOp::Exp><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Log:
      unary_kernel<UnaryOp::Log><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Sqrt:
      unary_kernel<UnaryOp::Sqrt><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Abs:
      unary_kernel<UnaryOp::Abs><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::Square:
      unary_kernel<UnaryOp::Square><<<g, 256>>>(x, y, n);
      break;
    case UnaryOp::ReluGrad:
      unary_kernel<UnaryOp::ReluGrad><<<g, 256>>>(x, y, n);
      break;
    default:
      throw Error(ErrorCode::Value, "argument 'op': unknown unary op " + std::to_string(static_cast<int>(op)));
  }
  check_launch("unary");
}

void binary(BinaryOp op, const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
            const int64_t* shape, int rank) {
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
    case BinaryOp::Add:
      launch_binary<BinaryOp::Add>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Sub:
      launch_binary<BinaryOp::Sub>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Mul:
      launch_binary<BinaryOp::Mul>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Div:
      launch_binary<BinaryOp::Div>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Max:
      launch_binary<BinaryOp::Max>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Min:
      launch_binary<BinaryOp::Min>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Pow:
      launch_binary<BinaryOp::Pow>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Ge:
      launch_binary<BinaryOp::Ge>(a, b, out, n, st, flat);
      break;
    case BinaryOp::Le:
      launch_binary<BinaryOp::Le>(a, b, out, n, st, flat);
      break;
    default:
      throw Error(ErrorCode::Value, "argument 'op': unknown binary op " + std::to_string(static_cast<int>(op)));
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
