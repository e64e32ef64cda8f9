// Module entry: each bind_*.cc contributes its functions through a register_* hook.
#include <napi.h>

#include "args.h"
#include "malloc_config.h"

namespace qarm::binding {
void register_runtime(Napi::Env env, Napi::Object exports);
void register_ops(Napi::Env env, Napi::Object exports);
void register_embedding(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_attention(Napi::Env env, Napi::Object exports);
void register_columns(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_dist(Napi::Env env, Napi::Object exports);
void register_contrastive(Napi::Env env, Napi::Object exports);
}  // namespace qarm::binding

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace qarm::binding;
  configure_malloc();
  for (Register r : {register_runtime, register_ops, register_embedding, register_optim, register_attention,
                     register_columns, register_quant, register_dist, register_contrastive})
    r(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(qarm, Init)
