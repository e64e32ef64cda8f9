// The fused InfoNCE step and l2NormalizeRows' backward terms, as native/core/contrastive.cc
// and clamp_norms in native/core/reduce.cc: the same float64 operations, each rounded
// explicitly (__dadd_rn, __dmul_rn, __ddiv_rn: no contraction into fused multiply-adds), so the
// CUDA results equal the CPU's given the same inputs. The loss sums in k order on one thread.
#include "api.h"
#include "common.cuh"

namespace qarm::cuda {
namespace {

__global__ void infonce_logits_kernel(const float* __restrict__ s, const float* __restrict__ mask, int64_t bb,
                                      double temperature, float* __restrict__ l) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < bb;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double m = mask ? static_cast<double>(mask[t]) : 0.0;
    l[t] = static_cast<float>(__dadd_rn(__ddiv_rn(static_cast<double>(s[t]), temperature), m));
  }
}

__global__ void infonce_loss_kernel(const float* lse_r, const float* lse_c, const float* l, int64_t b, float* out) {
  double total = 0.0;
  for (int64_t k = 0; k < b; ++k) {
    const double sum = __dadd_rn(static_cast<double>(lse_r[k]), static_cast<double>(lse_c[k]));
    const double twice = __dmul_rn(2.0, static_cast<double>(l[k * b + k]));
    total = __dadd_rn(total, __dsub_rn(sum, twice));
  }
  *out = static_cast<float>(__ddiv_rn(total, __dmul_rn(2.0, static_cast<double>(b))));
}

__global__ void infonce_grad_kernel(const float* __restrict__ pr, const float* __restrict__ pc,
                                    const float* __restrict__ dy, int64_t b, double temperature,
                                    float* __restrict__ g) {
  const double scale =
      __ddiv_rn(static_cast<double>(dy[0]), __dmul_rn(__dmul_rn(2.0, static_cast<double>(b)), temperature));
  const int64_t bb = b * b;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < bb;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = t / b, j = t - i * b;
    const double p = __dadd_rn(static_cast<double>(pr[t]), static_cast<double>(pc[j * b + i]));
    g[t] = static_cast<float>(__dmul_rn(__dsub_rn(p, i == j ? 2.0 : 0.0), scale));
  }
}

__global__ void clamp_norms_kernel(const float* __restrict__ norms, int64_t n, double eps, float* __restrict__ clamped,
                                   float* __restrict__ mask) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const bool small = static_cast<double>(norms[i]) < eps;
    clamped[i] = small ? static_cast<float>(eps) : norms[i];
    mask[i] = small ? 0.f : 1.f;
  }
}

}  // namespace

void infonce_logits(const float* s, const float* mask, int64_t b, double temperature, float* l) {
  const int64_t bb = b * b;
  if (bb <= 0) return;
  infonce_logits_kernel<<<blocks_for(bb, 256), 256>>>(s, mask, bb, temperature, l);
  check_launch("infoNceLogits");
}

void infonce_loss(const float* lse_r, const float* lse_c, const float* l, int64_t b, float* out) {
  infonce_loss_kernel<<<1, 1>>>(lse_r, lse_c, l, b, out);
  check_launch("infoNceLoss");
}

void infonce_grad(const float* pr, const float* pc, const float* dy, int64_t b, double temperature, float* g) {
  const int64_t bb = b * b;
  if (bb <= 0) return;
  infonce_grad_kernel<<<blocks_for(bb, 256), 256>>>(pr, pc, dy, b, temperature, g);
  check_launch("infoNceGrad");
}

void clamp_norms(const float* norms, int64_t n, double eps, float* clamped, float* mask) {
  if (n <= 0) return;
  clamp_norms_kernel<<<blocks_for(n, 256), 256>>>(norms, n, eps, clamped, mask);
  check_launch("clampNorms");
}

}  // namespace qarm::cuda
