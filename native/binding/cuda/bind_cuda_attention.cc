// N-API glue for attention pooling on CUDA (weighted pooling of padded sequences, forward and
// backward). Same argument order as native/binding/bind_attention.cc, with device buffers.
#include <napi.h>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

// weightedPool(w, k, out, B, M, H, D)
Napi::Value WeightedPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 3, "B", 0, kMaxDim), M = integer(info, 4, "M", 0, kMaxDim),
            H = integer(info, 5, "H", 0, kMaxDim), D = integer(info, 6, "D", 0, kMaxDim);
    auto* w = dev<float>(info, 0, "w", checked_mul(checked_mul(B, M, "w"), H, "w"));
    auto* k = dev<float>(info, 1, "k", checked_mul(checked_mul(B, H, "k"), D, "k"));
    auto* out = dev<float>(info, 2, "out", checked_mul(checked_mul(B, M, "out"), D, "out"));
    cu::weighted_pool(w, k, out, B, M, H, D);
    return info.Env().Undefined();
  });
}

// weightedPoolBackward(w, k, dout, dw|null, dk|null, B, M, H, D)
Napi::Value WeightedPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 5, "B", 0, kMaxDim), M = integer(info, 6, "M", 0, kMaxDim),
            H = integer(info, 7, "H", 0, kMaxDim), D = integer(info, 8, "D", 0, kMaxDim);
    int64_t bmh = checked_mul(checked_mul(B, M, "w"), H, "w"), bhd = checked_mul(checked_mul(B, H, "k"), D, "k");
    auto* w = dev<float>(info, 0, "w", bmh);
    auto* k = dev<float>(info, 1, "k", bhd);
    auto* dout = dev<float>(info, 2, "dout", checked_mul(checked_mul(B, M, "dout"), D, "dout"));
    auto* dw = static_cast<float*>(device_ptr_or_null(info, 3, "dw", static_cast<uint64_t>(bmh) * 4));
    auto* dk = static_cast<float*>(device_ptr_or_null(info, 4, "dk", static_cast<uint64_t>(bhd) * 4));
    cu::weighted_pool_backward(w, k, dout, dw, dk, B, M, H, D);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  exports.Set("weightedPool", Napi::Function::New(env, WeightedPool));
  exports.Set("weightedPoolBackward", Napi::Function::New(env, WeightedPoolBackward));
}
}  // namespace qarm::binding::cuda_glue
