// N-API glue for the embedding-table kernels on CUDA beyond gather/scatter: row-sparse
// gradient coalescing (two calls: plan, then reduce into buffers sized by the plan), bags,
// the row-sparse optimizers and attention pooling. Same argument order as
// native/binding/bind_embedding.cc, with device buffers and explicit counts.
#include <napi.h>

#include <string>
#include <vector>

#include "../../common/checks.h"
#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

// coalescePlan(indices, n, rows, skipNegative, argName) -> {count, plan}
Napi::Value CoalescePlan(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), rows = integer(info, 2, "rows", 0, kMaxDim);
    bool skip = boolean(info, 3, "skipNegative");
    std::string name = str_arg(info, 4, "indices");
    auto* idx = dev<int32_t>(info, 0, name.c_str(), n);
    int64_t plan = 0;
    int64_t U = cu::coalesce_plan(idx, n, rows, skip, name.c_str(), &plan);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("count", static_cast<double>(U));
    o.Set("plan", static_cast<double>(plan));
    return o;
  });
}

// coalesceReduce(plan, count, source, sourceRows, dim, n, srcRow|null, weights|null, outIndices, outValues)
// n: the number of planned positions (length of srcRow/weights); source has sourceRows rows
// (= n without srcRow; the bags' dy rows with it).
Napi::Value CoalesceReduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t plan = integer(info, 0, "plan", 0, kMaxCount), U = integer(info, 1, "count", 0, kMaxDim);
    int64_t src_rows = integer(info, 3, "sourceRows", 0, kMaxDim), dim = integer(info, 4, "dim", 0, kMaxDim);
    int64_t n = integer(info, 5, "n", 0, kMaxDim);
    auto* src = dev<float>(info, 2, "source", checked_mul(src_rows, dim, "source"));
    auto* row = static_cast<int32_t*>(device_ptr_or_null(info, 6, "srcRow", static_cast<uint64_t>(n) * 4));
    if (!row && src_rows < n) fail(ErrorCode::Shape, "argument 'source' has fewer rows than the plan has positions");
    auto* w = static_cast<float*>(device_ptr_or_null(info, 7, "weights", static_cast<uint64_t>(n) * 4));
    auto* uniq = dev<int32_t>(info, 8, "outIndices", U);
    auto* vals = dev<float>(info, 9, "outValues", checked_mul(U, dim, "outValues"));
    cu::coalesce_reduce(plan, src, src_rows, dim, row, w, uniq, vals);
    return info.Env().Undefined();
  });
}

std::vector<int32_t> host_offsets(const Napi::CallbackInfo& info, size_t i, int64_t nbags, int64_t nv) {
  auto* off = dev<int32_t>(info, i, "offsets", nbags + 1);
  std::vector<int32_t> h(static_cast<size_t>(nbags + 1));
  cu::copy_d2h(h.data(), off, h.size() * sizeof(int32_t));
  check_offsets(h.data(), nbags, nv, "offsets");
  return h;
}

// bagWeights(offsets, nbags, nv, weights|null, mean, bagOf, scale): validates offsets too.
Napi::Value BagWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t nbags = integer(info, 1, "nbags", 0, kMaxDim), nv = integer(info, 2, "nv", 0, kMaxDim);
    host_offsets(info, 0, nbags, nv);
    auto* off = dev<int32_t>(info, 0, "offsets", nbags + 1);
    auto* w = static_cast<float*>(device_ptr_or_null(info, 3, "weights", static_cast<uint64_t>(nv) * 4));
    bool mean = boolean(info, 4, "mean");
    auto* bag_of = dev<int32_t>(info, 5, "bagOf", nv);
    auto* scale = dev<float>(info, 6, "scale", nv);
    cu::bag_value_weights(off, nbags, nv, w, mean, bag_of, scale);
    return info.Env().Undefined();
  });
}

// bagPool(table, rows, dim, values, nv, offsets, nbags, weights|null, mean, out, argName)
Napi::Value BagPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    int64_t nv = integer(info, 4, "nv", 0, kMaxDim), nbags = integer(info, 6, "nbags", 0, kMaxDim);
    std::string name = str_arg(info, 10, "values");
    auto* table = dev<float>(info, 0, "table", checked_mul(rows, dim, "table"));
    auto* values = dev<int32_t>(info, 3, name.c_str(), nv);
    host_offsets(info, 5, nbags, nv);
    auto* off = dev<int32_t>(info, 5, "offsets", nbags + 1);
    auto* w = static_cast<float*>(device_ptr_or_null(info, 7, "weights", static_cast<uint64_t>(nv) * 4));
    bool mean = boolean(info, 8, "mean");
    auto* out = dev<float>(info, 9, "out", checked_mul(nbags, dim, "out"));
    cu::bag_pool(table, rows, dim, values, nv, off, nbags, w, mean, out, name.c_str());
    return info.Env().Undefined();
  });
}

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

void register_sparse(Napi::Env env, Napi::Object exports) {
  exports.Set("coalescePlan", Napi::Function::New(env, CoalescePlan));
  exports.Set("coalesceReduce", Napi::Function::New(env, CoalesceReduce));
  exports.Set("bagWeights", Napi::Function::New(env, BagWeights));
  exports.Set("bagPool", Napi::Function::New(env, BagPool));
  exports.Set("sparseAdam", Napi::Function::New(env, SparseAdam));
  exports.Set("rowwiseAdagrad", Napi::Function::New(env, RowwiseAdagrad));
  exports.Set("weightedPool", Napi::Function::New(env, WeightedPool));
  exports.Set("weightedPoolBackward", Napi::Function::New(env, WeightedPoolBackward));
}

}  // namespace qarm::binding::cuda_glue
