// The residual VQ's training state on the device (lib/tensor/cpu/vq_state_kernels.ts on the
// CPU, same float64 arithmetic and order): moving averages of code usage, the EMA codebook
// update with Laplace smoothing, dead-code restarts from the seeded stream, and float32 ->
// float64 copies. Float64 values live in int32 [..., 2] tensors as their bits. Explicit _rn
// intrinsics keep nvcc from fusing a multiply-add the CPU rounds twice.
#include "api.h"
#include "common.cuh"
#include "xoshiro.cuh"

namespace qarm::cuda {
namespace {

__device__ inline double ema(double decay, double old, double x) {
  return __dadd_rn(__dmul_rn(decay, old), __dmul_rn(__dadd_rn(1.0, -decay), x));
}

__global__ void ema_f64_kernel(double* state, const float* x, int64_t n, double decay) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += stride)
    state[i] = ema(decay, state[i], static_cast<double>(x[i]));
}

// Phase 1 (one thread): the counts' moving averages and their sum in code order.
__global__ void ema_counts_kernel(double* counts, const float* step, int64_t K, double decay, double* total) {
  double t = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    counts[k] = ema(decay, counts[k], static_cast<double>(step[k]));
    t = __dadd_rn(t, counts[k]);
  }
  *total = t;
}

// Phase 2: sums' moving averages and codewords = sums / smoothed counts.
__global__ void ema_sums_kernel(const double* counts, const double* total, double* sums, const float* step,
                                float* codebook, int64_t K, int64_t D, double decay, double eps) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const double t = *total;
  const double denom = __dadd_rn(t, __dmul_rn(static_cast<double>(K), eps));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < K * D; i += stride) {
    const double smoothed = __dmul_rn(__ddiv_rn(__dadd_rn(counts[i / D], eps), denom), t);
    sums[i] = ema(decay, sums[i], static_cast<double>(step[i]));
    codebook[i] = static_cast<float>(__ddiv_rn(sums[i], smoothed));
  }
}

// Sequential (one draw per dead code, in code order): one thread.
__global__ void dead_code_kernel(float* codebook, double* usage, int64_t K, int64_t D, const float* residual, int64_t n,
                                 int32_t* rng, int32_t* restarts, double threshold, double* ema_counts,
                                 double* ema_sums) {
  Xoshiro g;
  g.load(rng);
  int32_t done = 0;
  for (int64_t k = 0; k < K; ++k) {
    if (usage[k] >= threshold) continue;
    const int64_t i = g.below(n);
    for (int64_t j = 0; j < D; ++j) codebook[k * D + j] = residual[i * D + j];
    usage[k] = threshold;
    if (ema_counts) {
      ema_counts[k] = 1.0;
      for (int64_t j = 0; j < D; ++j) ema_sums[k * D + j] = static_cast<double>(codebook[k * D + j]);
    }
    ++done;
  }
  g.store(rng);
  restarts[0] += done;
}

__global__ void f32_to_f64_kernel(const float* x, int64_t n, double* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = static_cast<double>(x[i]);
}

DeviceScratch total_scratch;

}  // namespace

void ema_f64_update(double* state, const float* x, int64_t n, double decay) {
  if (n <= 0) return;
  ema_f64_kernel<<<blocks_for(n, 256), 256>>>(state, x, n, decay);
  check_launch("emaF64Update");
}

void vq_ema_update(float* codebook, double* ema_counts, double* ema_sums, const float* counts, const float* sums,
                   int64_t K, int64_t D, double decay, double eps) {
  if (K <= 0) return;
  auto* total = static_cast<double*>(total_scratch.get(sizeof(double)));
  ema_counts_kernel<<<1, 1>>>(ema_counts, counts, K, decay, total);
  check_launch("vqEmaUpdate");
  if (K * D <= 0) return;
  ema_sums_kernel<<<blocks_for(K * D, 256), 256>>>(ema_counts, total, ema_sums, sums, codebook, K, D, decay, eps);
  check_launch("vqEmaUpdate");
}

void dead_code_restart(float* codebook, double* usage, int64_t K, int64_t D, const float* residual, int64_t n,
                       int32_t* rng, int32_t* restarts, double threshold, double* ema_counts, double* ema_sums) {
  dead_code_kernel<<<1, 1>>>(codebook, usage, K, D, residual, n, rng, restarts, threshold, ema_counts, ema_sums);
  check_launch("deadCodeRestart");
}

void f32_to_f64(const float* x, int64_t n, double* out) {
  if (n <= 0) return;
  f32_to_f64_kernel<<<blocks_for(n, 256), 256>>>(x, n, out);
  check_launch("f32ToF64");
}

}  // namespace qarm::cuda
