// Dense optimizer updates in place, mirroring lib/tensor/cpu/optim_kernels.ts. That code
// computes in JS doubles and stores float32, so these do the same per element in double.
#include <cmath>

#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

__global__ void sgd_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ vel, int64_t n,
                           double lr, double momentum, double wd, bool nesterov) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    double d = static_cast<double>(g[i]) + wd * p[i];
    if (vel) {
      float v = static_cast<float>(momentum * vel[i] + d);
      vel[i] = v;
      d = nesterov ? d + momentum * v : v;
    }
    p[i] = static_cast<float>(p[i] - lr * d);
  }
}

__global__ void adam_kernel(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                            float* __restrict__ v, int64_t n, double lr, double b1, double b2, double eps, double wd,
                            bool decoupled, double step_size, double sqrt_bc2) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    double gi = g[i];
    float pi = p[i];
    if (wd != 0) {
      if (decoupled)
        pi = static_cast<float>(pi - lr * wd * pi);
      else
        gi += wd * pi;
    }
    float mi = static_cast<float>(b1 * m[i] + (1 - b1) * gi);
    float vi = static_cast<float>(b2 * v[i] + (1 - b2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    p[i] = static_cast<float>(pi - (step_size * mi) / (sqrt(static_cast<double>(vi)) / sqrt_bc2 + eps));
  }
}

}  // namespace

void sgd_update(float* param, const float* grad, float* velocity, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov) {
  if (n <= 0) return;
  sgd_kernel<<<blocks_for(n, 256), 256>>>(param, grad, velocity, n, lr, momentum, weight_decay, nesterov);
  check_launch("sgdUpdate");
}

void adam_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                 float eps, float weight_decay, bool decoupled, int64_t step) {
  if (n <= 0) return;
  const double bc1 = 1 - std::pow(static_cast<double>(beta1), static_cast<double>(step));
  const double bc2 = 1 - std::pow(static_cast<double>(beta2), static_cast<double>(step));
  adam_kernel<<<blocks_for(n, 256), 256>>>(param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                                           lr / bc1, std::sqrt(bc2));
  check_launch("adamUpdate");
}

}  // namespace qarm::cuda
