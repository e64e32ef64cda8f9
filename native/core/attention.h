// Weighted pooling of a padded sequence for target attention: for each sample b and each of
// M weight vectors, out[b, m, :] = sum_h w[b, m, h] * k[b, h, :] (a batch of tiny [M,H]x[H,D]
// products), and its backward. Parallel over samples, fixed order: thread-count independent.
#pragma once
#include <cstdint>

namespace qarm {

void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H, int64_t D);

// dw[b, m, h] = <dout[b, m, :], k[b, h, :]>; dk[b, h, :] = sum_m w[b, m, h] * dout[b, m, :].
// Either output may be null.
void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw, float* dk, int64_t B,
                            int64_t M, int64_t H, int64_t D);

}  // namespace qarm

namespace qarm {

// DIN attention scores with one hidden layer, fused: for sample b and history slot h,
//   z = W1 · [q, k_h, q − k_h, q ⊙ k_h] + b1   (W1: [A, 4K], row a = [Wq | Wk | Wd | Wp])
//   s = act(z) (act 0: sigmoid, 1: relu),  score[b, h] = w2 · s + b2.
// Evaluated as z = (b1 + (Wq + Wd) q) + (Wk − Wd + Wp·diag(q)) k_h, so the [B, H, 4K] input is
// never built and the q part is computed once per sample.
void din_scores_forward(const float* q, const float* k, const float* W1, const float* b1, const float* w2, float b2,
                        int act, int64_t B, int64_t H, int64_t K, int64_t A, float* scores);

// Gradients of the above given dscores [B, H] (the hidden layer is recomputed per sample
// rather than stored). dq [B, K] and dk [B, H, K] may be null; dW1 [A, 4K], db1 [A],
// dw2 [A], db2 [1] are overwritten. Weight gradients are summed per fixed block of samples
// and the blocks added in order: thread-count independent.
void din_scores_backward(const float* q, const float* k, const float* W1, const float* b1, const float* w2,
                         const float* dscores, int act, int64_t B, int64_t H, int64_t K, int64_t A, float* dq,
                         float* dk, float* dW1, float* db1, float* dw2, float* db2);

}  // namespace qarm

namespace qarm {

// Copies a block of columns between row-major matrices: for every row r,
// dst[r * dst_cols + dst_off + j] = src[r * src_cols + src_off + j], j < width.
// (Concatenation and slicing along the last axis.)
void copy_columns(const float* src, int64_t rows, int64_t src_cols, int64_t src_off, float* dst, int64_t dst_cols,
                  int64_t dst_off, int64_t width);

}  // namespace qarm

namespace qarm {

// Target attention end to end (DIN scoring as din_scores_forward, then pooling), on a packed
// representation matrix rep = [queries (B rows); keys (B·H rows)] of width K:
//   pooled[b, m, :] = Σ_h masks[b, m, h] · score[b, h] · key[b, h, :].
// Per sample, only the slots up to the last one any mask selects are scored (later slots add
// nothing and get zero gradients), so padded histories cost what their lengths do.
// `cache` (may be null; din_attention_pool_cache_size floats) receives the scorer's hidden
// activations and scores for the backward pass, which otherwise recomputes them.
void din_attention_pool_forward(const float* rep, int64_t B, int64_t H, int64_t K, const float* masks, int64_t M,
                                const float* W1, const float* b1, const float* w2, float b2, int act, int64_t A,
                                float* pooled, float* cache = nullptr);

// Floats of a forward cache: hidden activations [B, H, A rounded up to 16] and scores [B, H].
int64_t din_attention_pool_cache_size(int64_t B, int64_t H, int64_t A);

// Its gradients given dpooled [B, M, K]: drep [(B + B·H), K] (may be null) and the weight
// gradients (overwritten; blocked and summed in order: thread-count independent). `cache`: the
// forward's, from the same inputs (same bits as recomputing), or null to recompute.
void din_attention_pool_backward(const float* rep, int64_t B, int64_t H, int64_t K, const float* masks, int64_t M,
                                 const float* W1, const float* b1, const float* w2, float b2, int act, int64_t A,
                                 const float* dpooled, float* drep, float* dW1, float* db1, float* dw2, float* db2,
                                 const float* cache = nullptr);

}  // namespace qarm
