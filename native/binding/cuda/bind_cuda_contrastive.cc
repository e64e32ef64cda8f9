// N-API glue for the fused InfoNCE step on CUDA: the CPU addon's argument order
// (native/binding/bind_contrastive.cc) with device buffers and explicit sizes, each checked
// against its allocation.
#include <napi.h>

#include <cmath>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

double temperature_arg(const Napi::CallbackInfo& info, size_t i) {
  double t = number(info, i, "temperature");
  if (!(t > 0) || !std::isfinite(t)) fail(ErrorCode::Value, "argument 'temperature' must be finite and > 0");
  return t;
}

// infoNceLogits(s, mask | null, b, temperature, out)
Napi::Value InfoNceLogits(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t b = integer(info, 2, "b", 0, kMaxDim);
    int64_t bb = checked_mul(b, b, "s");
    double t = temperature_arg(info, 3);
    auto* s = dev<float>(info, 0, "s", bb);
    auto* mask =
        static_cast<const float*>(device_ptr_or_null(info, 1, "mask", static_cast<uint64_t>(bb) * sizeof(float)));
    auto* out = dev<float>(info, 4, "out", bb);
    cu::infonce_logits(s, mask, b, t, out);
    return info.Env().Undefined();
  });
}

// infoNceLoss(lseR, lseC, l, b, out)
Napi::Value InfoNceLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t b = integer(info, 3, "b", 0, kMaxDim);
    auto* r = dev<float>(info, 0, "lseR", b);
    auto* c = dev<float>(info, 1, "lseC", b);
    auto* l = dev<float>(info, 2, "l", checked_mul(b, b, "l"));
    auto* out = dev<float>(info, 4, "out", 1);
    cu::infonce_loss(r, c, l, b, out);
    return info.Env().Undefined();
  });
}

// infoNceGrad(pr, pc, dy, b, temperature, out)
Napi::Value InfoNceGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t b = integer(info, 3, "b", 0, kMaxDim);
    int64_t bb = checked_mul(b, b, "pr");
    double t = temperature_arg(info, 4);
    auto* pr = dev<float>(info, 0, "pr", bb);
    auto* pc = dev<float>(info, 1, "pc", bb);
    auto* dy = dev<float>(info, 2, "dy", 1);
    auto* out = dev<float>(info, 5, "out", bb);
    cu::infonce_grad(pr, pc, dy, b, t, out);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_contrastive(Napi::Env env, Napi::Object exports) {
  exports.Set("infoNceLogits", Napi::Function::New(env, InfoNceLogits));
  exports.Set("infoNceLoss", Napi::Function::New(env, InfoNceLoss));
  exports.Set("infoNceGrad", Napi::Function::New(env, InfoNceGrad));
}

}  // namespace qarm::binding::cuda_glue
