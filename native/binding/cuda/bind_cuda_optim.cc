// N-API glue for the row-sparse optimizer steps on CUDA (Adam and row-wise Adagrad over the
// touched rows of an embedding table), in place on device buffers. Same argument order as
// native/binding/bind_optim.cc, with device buffers and explicit counts.
#include <napi.h>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

// sparseAdam(param, m, v, rows, dim, indices, n, grad, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value SparseAdam(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 3, "rows", 0, kMaxDim), dim = integer(info, 4, "dim", 0, kMaxDim);
    int64_t n = integer(info, 6, "n", 0, kMaxDim);
    int64_t total = checked_mul(rows, dim, "param");
    auto* p = dev<float>(info, 0, "param", total);
    auto* m = dev<float>(info, 1, "m", total);
    auto* v = dev<float>(info, 2, "v", total);
    auto* idx = dev<int32_t>(info, 5, "indices", n);
    auto* g = dev<float>(info, 7, "grad", checked_mul(n, dim, "grad"));
    cu::sparse_adam(p, m, v, rows, dim, idx, n, g, static_cast<float>(number(info, 8, "lr")),
                    static_cast<float>(number(info, 9, "beta1")), static_cast<float>(number(info, 10, "beta2")),
                    static_cast<float>(number(info, 11, "eps")), static_cast<float>(number(info, 12, "weightDecay")),
                    boolean(info, 13, "decoupled"), integer(info, 14, "step", 1, kMaxCount), "indices");
    return info.Env().Undefined();
  });
}

// rowwiseAdagrad(param, state, rows, dim, indices, n, grad, lr, eps, weightDecay)
Napi::Value RowwiseAdagrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxDim), dim = integer(info, 3, "dim", 0, kMaxDim);
    int64_t n = integer(info, 5, "n", 0, kMaxDim);
    auto* p = dev<float>(info, 0, "param", checked_mul(rows, dim, "param"));
    auto* st = dev<float>(info, 1, "state", rows);
    auto* idx = dev<int32_t>(info, 4, "indices", n);
    auto* g = dev<float>(info, 6, "grad", checked_mul(n, dim, "grad"));
    cu::rowwise_adagrad(p, st, rows, dim, idx, n, g, static_cast<float>(number(info, 7, "lr")),
                        static_cast<float>(number(info, 8, "eps")), static_cast<float>(number(info, 9, "weightDecay")),
                        "indices");
    return info.Env().Undefined();
  });
}

}  // namespace

void register_sparse_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseAdam", Napi::Function::New(env, SparseAdam));
  exports.Set("rowwiseAdagrad", Napi::Function::New(env, RowwiseAdagrad));
}
}  // namespace qarm::binding::cuda_glue
