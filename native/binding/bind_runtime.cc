// Thread count and instruction-set selection.
#include <napi.h>

#include "../core/cpu_features.h"
#include "../core/isa_probe.h"
#include "../core/threadpool.h"
#include "args.h"

namespace qarm::binding {
namespace {

Napi::Value NumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    set_num_threads(static_cast<int>(integer(info, 0, "n", 0, 1024)));
    return Napi::Number::New(info.Env(), num_threads());
  });
}

Napi::Value GetIsa(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("current", isa_name(cpu_isa()));
  o.Set("best", isa_name(best_supported_isa()));
  o.Set("vectorWidth", QARM_ISA_SELECT(vector_width)());
  return o;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString())
      fail(ErrorCode::Value, "argument 'isa' must be 'generic', 'avx2' or 'avx512'");
    std::string s = info[0].As<Napi::String>();
    Isa want;
    if (s == "generic")
      want = Isa::Generic;
    else if (s == "avx2")
      want = Isa::Avx2;
    else if (s == "avx512")
      want = Isa::Avx512;
    else
      fail(ErrorCode::Value, "argument 'isa' must be 'generic', 'avx2' or 'avx512', got '" + s + "'");
    return Napi::String::New(info.Env(), isa_name(set_isa(want)));
  });
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, NumThreads));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getIsa", Napi::Function::New(env, GetIsa));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
}

}  // namespace qarm::binding
