// N-API glue for the row-sparse optimizer steps (native/core/embedding.h): Adam and row-wise
// Adagrad over the touched rows of an embedding table, in place.
#include <napi.h>

#include <limits>

#include "../core/embedding.h"
#include "args.h"

namespace qarm::binding {
namespace {

// sparseAdam(param, m, v, rows, dim, indices, grad, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value SparseAdam(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 3, "rows", 0, kMaxDim), dim = integer(info, 4, "dim", 0, kMaxDim);
    int64_t total = checked_mul(rows, dim, "param");
    auto p = f32(info, 0, "param", total);
    auto m = f32(info, 1, "m", total);
    auto v = f32(info, 2, "v", total);
    auto idx = i32(info, 5, "indices", 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto g = f32(info, 6, "grad", checked_mul(n, dim, "grad"));
    AdamHyper h{static_cast<float>(number(info, 7, "lr")),
                static_cast<float>(number(info, 8, "beta1")),
                static_cast<float>(number(info, 9, "beta2")),
                static_cast<float>(number(info, 10, "eps")),
                static_cast<float>(number(info, 11, "weightDecay")),
                boolean(info, 12, "decoupled"),
                integer(info, 13, "step", 1, std::numeric_limits<int64_t>::max() / 2)};
    sparse_adam(p.Data(), m.Data(), v.Data(), rows, dim, idx.Data(), n, g.Data(), h, "indices");
    return info.Env().Undefined();
  });
}

// rowwiseAdagrad(param, state, rows, dim, indices, grad, lr, eps, weightDecay)
Napi::Value RowwiseAdagrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxDim), dim = integer(info, 3, "dim", 0, kMaxDim);
    auto p = f32(info, 0, "param", checked_mul(rows, dim, "param"));
    auto s = f32(info, 1, "state", rows);
    auto idx = i32(info, 4, "indices", 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto g = f32(info, 5, "grad", checked_mul(n, dim, "grad"));
    rowwise_adagrad(p.Data(), s.Data(), rows, dim, idx.Data(), n, g.Data(), static_cast<float>(number(info, 6, "lr")),
                    static_cast<float>(number(info, 7, "eps")), static_cast<float>(number(info, 8, "weightDecay")),
                    "indices");
    return info.Env().Undefined();
  });
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseAdam", Napi::Function::New(env, SparseAdam));
  exports.Set("rowwiseAdagrad", Napi::Function::New(env, RowwiseAdagrad));
}

}  // namespace qarm::binding
