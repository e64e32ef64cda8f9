// N-API glue for the embedding-table kernels on CUDA beyond gather/scatter: row-sparse
// gradient coalescing (two calls: plan, then reduce into buffers sized by the plan) and bags.
// Same argument order as native/binding/bind_embedding.cc, with device buffers and explicit
// counts. The row-sparse optimizers are in bind_cuda_optim.cc, attention pooling in
// bind_cuda_attention.cc.
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

}  // namespace

void register_embedding(Napi::Env env, Napi::Object exports) {
  exports.Set("coalescePlan", Napi::Function::New(env, CoalescePlan));
  exports.Set("coalesceReduce", Napi::Function::New(env, CoalesceReduce));
  exports.Set("bagWeights", Napi::Function::New(env, BagWeights));
  exports.Set("bagPool", Napi::Function::New(env, BagPool));
}

}  // namespace qarm::binding::cuda_glue
