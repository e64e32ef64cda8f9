// N-API glue for the fused InfoNCE step (native/core/contrastive.h). Buffers are allocated by
// the caller; each length is checked here against the [b, b] or [b] extent the kernel touches.
#include <napi.h>

#include <cmath>

#include "../core/contrastive.h"
#include "args.h"

namespace qarm::binding {
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
    auto s = f32(info, 0, "s", bb);
    const float* mask = nullptr;
    Napi::Float32Array m;
    if (present(info, 1)) {
      m = f32(info, 1, "mask", bb);
      mask = m.Data();
    }
    auto out = f32(info, 4, "out", bb);
    infonce_logits(s.Data(), mask, b, t, out.Data());
    return info.Env().Undefined();
  });
}

// infoNceLoss(lseR, lseC, l, b, out)
Napi::Value InfoNceLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t b = integer(info, 3, "b", 0, kMaxDim);
    auto r = f32(info, 0, "lseR", b);
    auto c = f32(info, 1, "lseC", b);
    auto l = f32(info, 2, "l", checked_mul(b, b, "l"));
    auto out = f32(info, 4, "out", 1);
    out[static_cast<size_t>(0)] = infonce_loss(r.Data(), c.Data(), l.Data(), b);
    return info.Env().Undefined();
  });
}

// infoNceGrad(pr, pc, dy, b, temperature, out)
Napi::Value InfoNceGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t b = integer(info, 3, "b", 0, kMaxDim);
    int64_t bb = checked_mul(b, b, "pr");
    double t = temperature_arg(info, 4);
    auto pr = f32(info, 0, "pr", bb);
    auto pc = f32(info, 1, "pc", bb);
    auto dy = f32(info, 2, "dy", 1);
    auto out = f32(info, 5, "out", bb);
    infonce_grad(pr.Data(), pc.Data(), dy.Data()[0], b, t, out.Data());
    return info.Env().Undefined();
  });
}

}  // namespace

void register_contrastive(Napi::Env env, Napi::Object exports) {
  exports.Set("infoNceLogits", Napi::Function::New(env, InfoNceLogits));
  exports.Set("infoNceLoss", Napi::Function::New(env, InfoNceLoss));
  exports.Set("infoNceGrad", Napi::Function::New(env, InfoNceGrad));
}

}  // namespace qarm::binding
