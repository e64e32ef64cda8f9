// N-API glue for the attention kernels (native/core/attention.h): weighted pooling of padded
// sequences, the fused DIN scorer and the packed target-attention pooling, forward and backward.
#include <napi.h>

#include "../core/attention.h"
#include "args.h"

namespace qarm::binding {
namespace {

// weightedPool(w, k, out, B, M, H, D)
Napi::Value WeightedPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 3, "B", 0, kMaxDim), M = integer(info, 4, "M", 0, kMaxDim),
            H = integer(info, 5, "H", 0, kMaxDim), D = integer(info, 6, "D", 0, kMaxDim);
    auto w = f32(info, 0, "w", checked_mul(checked_mul(B, M, "w"), H, "w"));
    auto k = f32(info, 1, "k", checked_mul(checked_mul(B, H, "k"), D, "k"));
    auto out = f32(info, 2, "out", checked_mul(checked_mul(B, M, "out"), D, "out"));
    weighted_pool(w.Data(), k.Data(), out.Data(), B, M, H, D);
    return info.Env().Undefined();
  });
}

// weightedPoolBackward(w, k, dout, dw|null, dk|null, B, M, H, D)
Napi::Value WeightedPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 5, "B", 0, kMaxDim), M = integer(info, 6, "M", 0, kMaxDim),
            H = integer(info, 7, "H", 0, kMaxDim), D = integer(info, 8, "D", 0, kMaxDim);
    int64_t nw = checked_mul(checked_mul(B, M, "w"), H, "w"), nk = checked_mul(checked_mul(B, H, "k"), D, "k");
    auto w = f32(info, 0, "w", nw);
    auto k = f32(info, 1, "k", nk);
    auto dout = f32(info, 2, "dout", checked_mul(checked_mul(B, M, "dout"), D, "dout"));
    float* dw = present(info, 3) ? f32(info, 3, "dw", nw).Data() : nullptr;
    float* dk = present(info, 4) ? f32(info, 4, "dk", nk).Data() : nullptr;
    weighted_pool_backward(w.Data(), k.Data(), dout.Data(), dw, dk, B, M, H, D);
    return info.Env().Undefined();
  });
}

// dinScoresForward(q, k, W1, b1, w2, b2, act, B, H, K, A, scores)
Napi::Value DinScoresForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 7, "B", 0, kMaxDim), H = integer(info, 8, "H", 0, kMaxDim),
            K = integer(info, 9, "K", 1, kMaxDim), A = integer(info, 10, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 6, "act", 0, 1));
    auto q = f32(info, 0, "query", checked_mul(B, K, "query"));
    auto k = f32(info, 1, "keys", checked_mul(checked_mul(B, H, "keys"), K, "keys"));
    auto W1 = f32(info, 2, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 3, "b1", A);
    auto w2 = f32(info, 4, "w2", A);
    float b2 = static_cast<float>(number(info, 5, "b2"));
    auto scores = f32(info, 11, "scores", checked_mul(B, H, "scores"));
    din_scores_forward(q.Data(), k.Data(), W1.Data(), b1.Data(), w2.Data(), b2, act, B, H, K, A, scores.Data());
    return info.Env().Undefined();
  });
}

// dinScoresBackward(q, k, W1, b1, w2, dscores, act, B, H, K, A, dq|null, dk|null, dW1, db1, dw2, db2)
Napi::Value DinScoresBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 7, "B", 0, kMaxDim), H = integer(info, 8, "H", 0, kMaxDim),
            K = integer(info, 9, "K", 1, kMaxDim), A = integer(info, 10, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 6, "act", 0, 1));
    int64_t nk = checked_mul(checked_mul(B, H, "keys"), K, "keys");
    auto q = f32(info, 0, "query", checked_mul(B, K, "query"));
    auto k = f32(info, 1, "keys", nk);
    auto W1 = f32(info, 2, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 3, "b1", A);
    auto w2 = f32(info, 4, "w2", A);
    auto ds = f32(info, 5, "dscores", checked_mul(B, H, "dscores"));
    float* dq = present(info, 11) ? f32(info, 11, "dq", checked_mul(B, K, "dq")).Data() : nullptr;
    float* dk = present(info, 12) ? f32(info, 12, "dk", nk).Data() : nullptr;
    auto dW1 = f32(info, 13, "dW1", checked_mul(A, 4 * K, "dW1"));
    auto db1 = f32(info, 14, "db1", A);
    auto dw2 = f32(info, 15, "dw2", A);
    auto db2 = f32(info, 16, "db2", 1);
    din_scores_backward(q.Data(), k.Data(), W1.Data(), b1.Data(), w2.Data(), ds.Data(), act, B, H, K, A, dq, dk,
                        dW1.Data(), db1.Data(), dw2.Data(), db2.Data());
    return info.Env().Undefined();
  });
}

// dinAttentionPool(rep, B, H, K, masks, M, W1, b1, w2, b2, act, A, pooled, keep?) → the backward cache when keep
Napi::Value DinAttentionPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 1, "B", 0, kMaxDim), H = integer(info, 2, "H", 0, kMaxDim),
            K = integer(info, 3, "K", 1, kMaxDim);
    int64_t M = integer(info, 5, "M", 1, kMaxDim), A = integer(info, 11, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 10, "act", 0, 1));
    auto rep = f32(info, 0, "rep", checked_mul(B + checked_mul(B, H, "rep"), K, "rep"));
    auto masks = f32(info, 4, "masks", checked_mul(checked_mul(B, M, "masks"), H, "masks"));
    auto W1 = f32(info, 6, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 7, "b1", A);
    auto w2 = f32(info, 8, "w2", A);
    float b2 = static_cast<float>(number(info, 9, "b2"));
    auto pooled = f32(info, 12, "pooled", checked_mul(checked_mul(B, M, "pooled"), K, "pooled"));
    // keep: also return the cache the backward pass reads instead of recomputing the scores.
    const bool keep = present(info, 13) && boolean(info, 13, "keep");
    Napi::Float32Array cache;
    if (keep) cache = Napi::Float32Array::New(info.Env(), static_cast<size_t>(din_attention_pool_cache_size(B, H, A)));
    din_attention_pool_forward(rep.Data(), B, H, K, masks.Data(), M, W1.Data(), b1.Data(), w2.Data(), b2, act, A,
                               pooled.Data(), keep ? cache.Data() : nullptr);
    return keep ? static_cast<Napi::Value>(cache) : info.Env().Undefined();
  });
}

// dinAttentionPoolBackward(rep, B, H, K, masks, M, W1, b1, w2, b2, act, A, dpooled, drep|null, dW1, db1, dw2, db2,
// cache?)
Napi::Value DinAttentionPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 1, "B", 0, kMaxDim), H = integer(info, 2, "H", 0, kMaxDim),
            K = integer(info, 3, "K", 1, kMaxDim);
    int64_t M = integer(info, 5, "M", 1, kMaxDim), A = integer(info, 11, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 10, "act", 0, 1));
    int64_t nrep = checked_mul(B + checked_mul(B, H, "rep"), K, "rep");
    auto rep = f32(info, 0, "rep", nrep);
    auto masks = f32(info, 4, "masks", checked_mul(checked_mul(B, M, "masks"), H, "masks"));
    auto W1 = f32(info, 6, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 7, "b1", A);
    auto w2 = f32(info, 8, "w2", A);
    float b2 = static_cast<float>(number(info, 9, "b2"));
    auto dp = f32(info, 12, "dpooled", checked_mul(checked_mul(B, M, "dpooled"), K, "dpooled"));
    float* drep = present(info, 13) ? f32(info, 13, "drep", nrep).Data() : nullptr;
    auto dW1 = f32(info, 14, "dW1", checked_mul(A, 4 * K, "dW1"));
    auto db1 = f32(info, 15, "db1", A);
    auto dw2 = f32(info, 16, "dw2", A);
    auto db2 = f32(info, 17, "db2", 1);
    const float* cache =
        present(info, 18) ? f32(info, 18, "cache", din_attention_pool_cache_size(B, H, A)).Data() : nullptr;
    din_attention_pool_backward(rep.Data(), B, H, K, masks.Data(), M, W1.Data(), b1.Data(), w2.Data(), b2, act, A,
                                dp.Data(), drep, dW1.Data(), db1.Data(), dw2.Data(), db2.Data(), cache);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  exports.Set("dinScoresForward", Napi::Function::New(env, DinScoresForward));
  exports.Set("dinScoresBackward", Napi::Function::New(env, DinScoresBackward));
  exports.Set("dinAttentionPool", Napi::Function::New(env, DinAttentionPool));
  exports.Set("dinAttentionPoolBackward", Napi::Function::New(env, DinAttentionPoolBackward));
  exports.Set("weightedPool", Napi::Function::New(env, WeightedPool));
  exports.Set("weightedPoolBackward", Napi::Function::New(env, WeightedPoolBackward));
}

}  // namespace qarm::binding
