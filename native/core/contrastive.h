// The fused step of symmetric in-batch InfoNCE (lib/align/aligner.ts infoNCE) around the row
// log-sum-exp and softmax kernels: logits from the similarities, the loss from the row and
// column log-sum-exps, the logits' gradient from the row and column softmaxes. Each value is
// computed in double and rounded to float once, in the order of the host loop these replace,
// so the results are bit-identical to it (native/cuda/contrastive.cu repeats the arithmetic).
#pragma once
#include <cstdint>

namespace qarm {

// l[i, j] = float(double(s[i, j]) / temperature + double(mask[i, j]))  (mask may be null: + 0)
void infonce_logits(const float* s, const float* mask, int64_t b, double temperature, float* l);

// float(Σ_k (lse_r[k] + lse_c[k] − 2 l[k, k]) / 2b), the sum in double in k order from 0.
float infonce_loss(const float* lse_r, const float* lse_c, const float* l, int64_t b);

// g[i, j] = float((double(pr[i, j]) + double(pc[j, i]) − 2δ_ij) · (dy / (2b · temperature)))
void infonce_grad(const float* pr, const float* pc, float dy, int64_t b, double temperature, float* g);

}  // namespace qarm
