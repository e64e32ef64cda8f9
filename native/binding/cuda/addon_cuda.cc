// Entry of the optional CUDA addon (qarm_cuda.node), built by CMakeLists.txt. It is loaded
// by lib/tensor/cuda/native_cuda.ts, which calls deviceCount() before anything else; the
// CPU addon never links or loads it.
#include <napi.h>

#include "device_args.h"

namespace qarm::binding::cuda_glue {
void register_runtime(Napi::Env env, Napi::Object exports);
void register_ops(Napi::Env env, Napi::Object exports);
void register_quant(Napi::Env env, Napi::Object exports);
void register_embedding(Napi::Env env, Napi::Object exports);
void register_sparse_optim(Napi::Env env, Napi::Object exports);
void register_attention(Napi::Env env, Napi::Object exports);
void register_contrastive(Napi::Env env, Napi::Object exports);
}  // namespace qarm::binding::cuda_glue

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace qarm::binding::cuda_glue;
  for (auto r : {register_runtime, register_ops, register_quant, register_embedding, register_sparse_optim,
                 register_attention, register_contrastive})
    r(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(qarm_cuda, Init)
