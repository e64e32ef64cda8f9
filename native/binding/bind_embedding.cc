// N-API glue for the embedding-table kernels (native/core/embedding.h): index_add, padded
// row gathers, row-sparse gradient reduction, the table-batched lookup and pooled bags.
// Outputs whose size depends on the data (the unique rows of a gradient) are allocated here.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "../core/embedding.h"
#include "args.h"

namespace qarm::binding {
namespace {

// [uniqueRows Int32Array, summedRows Float32Array] from a plan and its reduction.
Napi::Value plan_result(Napi::Env env, const RowPlan& plan, int64_t dim, const float* src, const int32_t* src_row,
                        const float* weight) {
  const size_t U = plan.uniq.size();
  auto uniq = Napi::Int32Array::New(env, U);
  if (U) std::memcpy(uniq.Data(), plan.uniq.data(), U * sizeof(int32_t));
  auto vals = Napi::Float32Array::New(env, U * static_cast<size_t>(dim));
  reduce_plan(plan, src, dim, src_row, weight, vals.Data());
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, uniq);
  out.Set(1u, vals);
  return out;
}

// As plan_result for a small table: the sums go through a dense per-row buffer instead.
Napi::Value dense_result(Napi::Env env, const int32_t* idx, int64_t n, int64_t rows, const float* src, int64_t dim,
                         int64_t stride, bool skip_negative, const char* arg) {
  std::vector<float> acc(static_cast<size_t>(rows * dim), 0.f);
  std::vector<uint8_t> touched(static_cast<size_t>(rows), 0);
  const int64_t U = sum_rows_dense(idx, n, rows, src, dim, stride, skip_negative, arg, acc.data(), touched.data());
  auto uniq = Napi::Int32Array::New(env, static_cast<size_t>(U));
  auto vals = Napi::Float32Array::New(env, static_cast<size_t>(U * dim));
  compact_dense_rows(acc.data(), touched.data(), rows, dim, uniq.Data(), vals.Data());
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, uniq);
  out.Set(1u, vals);
  return out;
}

// indexAdd(target, rows, dim, indices, source, argName?)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    auto target = f32(info, 0, "target", checked_mul(rows, dim, "target"));
    std::string name = str_arg(info, 5, "indices");
    auto idx = i32(info, 3, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto src = f32(info, 4, "source", checked_mul(n, dim, "source"));
    index_add(target.Data(), rows, dim, idx.Data(), n, src.Data(), name.c_str());
    return info.Env().Undefined();
  });
}

// gatherRowsPadded(table, rows, dim, indices, out, argName?): negative ids give zero rows.
Napi::Value GatherRowsPadded(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    auto table = f32(info, 0, "table", checked_mul(rows, dim, "table"));
    std::string name = str_arg(info, 5, "indices");
    auto idx = i32(info, 3, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto out = f32(info, 4, "out", checked_mul(n, dim, "out"));
    gather_rows_padded(table.Data(), rows, dim, idx.Data(), n, out.Data(), name.c_str());
    return info.Env().Undefined();
  });
}

// coalesceRows(indices, rows, dim, source, argName?, skipNegative?) -> [uniq, summed]
Napi::Value CoalesceRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    std::string name = str_arg(info, 4, "indices");
    bool skip = present(info, 5) && boolean(info, 5, "skipNegative");
    auto idx = i32(info, 0, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto src = f32(info, 3, "source", checked_mul(n, dim, "source"));
    if (prefer_dense_sum(n, rows, dim))
      return dense_result(info.Env(), idx.Data(), n, rows, src.Data(), dim, dim, skip, name.c_str());
    RowPlan plan = plan_rows(idx.Data(), n, rows, name.c_str(), skip);
    return plan_result(info.Env(), plan, dim, src.Data(), nullptr, nullptr);
  });
}

// tbeForward(tables[], rows[], ids[], group[], G, n, dim, out, argName?)
Napi::Value TbeForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 4 || !info[0].IsArray() || !info[2].IsArray())
      fail(ErrorCode::Value, "argument 'tables' and 'ids' must be arrays");
    auto tArr = info[0].As<Napi::Array>();
    auto iArr = info[2].As<Napi::Array>();
    const int T = static_cast<int>(tArr.Length());
    auto rowsV = int_list(info, 1, "rows", 0, kMaxDim);
    auto groupV = int_list(info, 3, "group", 0, 1 << 20);
    int64_t G = integer(info, 4, "G", 1, 1 << 20);
    int64_t n = integer(info, 5, "n", 0, kMaxDim), dim = integer(info, 6, "dim", 1, kMaxDim);
    std::string name = str_arg(info, 8, "ids");
    if (static_cast<int>(iArr.Length()) != T || static_cast<int>(rowsV.size()) != T ||
        static_cast<int>(groupV.size()) != T)
      fail(ErrorCode::Shape, "arguments 'tables', 'rows', 'ids' and 'group' must have one entry per table");
    std::vector<const float*> tp(static_cast<size_t>(T));
    std::vector<const int32_t*> ip(static_cast<size_t>(T));
    std::vector<int32_t> gp(static_cast<size_t>(T));
    for (int t = 0; t < T; ++t) {
      Napi::Value tv = tArr.Get(static_cast<uint32_t>(t)), iv = iArr.Get(static_cast<uint32_t>(t));
      if (!tv.IsTypedArray() || tv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail(ErrorCode::DType, "argument 'tables[" + std::to_string(t) + "]' must be a Float32Array");
      if (!iv.IsTypedArray() || iv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        fail(ErrorCode::DType, "argument '" + name + "[" + std::to_string(t) + "]' must be an Int32Array");
      auto ta = tv.As<Napi::Float32Array>();
      auto ia = iv.As<Napi::Int32Array>();
      if (static_cast<int64_t>(ta.ElementLength()) < checked_mul(rowsV[t], dim, "tables"))
        fail(ErrorCode::Shape, "argument 'tables[" + std::to_string(t) + "]' is shorter than rows x dim");
      if (static_cast<int64_t>(ia.ElementLength()) < n)
        fail(ErrorCode::Shape, "argument '" + name + "[" + std::to_string(t) + "]' has fewer than n entries");
      if (groupV[t] >= G) fail(ErrorCode::Value, "argument 'group' entries must be below G");
      tp[t] = ta.Data();
      ip[t] = ia.Data();
      gp[t] = static_cast<int32_t>(groupV[t]);
    }
    auto out = f32(info, 7, "out", checked_mul(n, checked_mul(G, dim, "out"), "out"));
    tbe_forward(tp.data(), rowsV.data(), ip.data(), gp.data(), T, static_cast<int>(G), n, dim, out.Data(),
                name.c_str());
    return info.Env().Undefined();
  });
}

// coalesceStrided(indices, rows, dim, source, stride, offset, argName?) -> [uniq, summed]; negative ids skipped.
Napi::Value CoalesceStrided(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 1, kMaxDim);
    int64_t stride = integer(info, 4, "stride", 1, kMaxDim), off = integer(info, 5, "offset", 0, kMaxDim);
    if (off + dim > stride) fail(ErrorCode::Shape, "argument 'offset' + 'dim' exceeds 'stride'");
    std::string name = str_arg(info, 6, "indices");
    auto idx = i32(info, 0, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto src = f32(info, 3, "source", checked_mul(n, stride, "source"));
    if (prefer_dense_sum(n, rows, dim))
      return dense_result(info.Env(), idx.Data(), n, rows, src.Data() + off, dim, stride, true, name.c_str());
    RowPlan plan = plan_rows(idx.Data(), n, rows, name.c_str(), true);
    const size_t U = plan.uniq.size();
    auto uniq = Napi::Int32Array::New(info.Env(), U);
    if (U) std::memcpy(uniq.Data(), plan.uniq.data(), U * sizeof(int32_t));
    auto vals = Napi::Float32Array::New(info.Env(), U * static_cast<size_t>(dim));
    reduce_plan_strided(plan, src.Data() + off, dim, stride, vals.Data());
    auto out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, uniq);
    out.Set(1u, vals);
    return out;
  });
}

// bagPool(table, rows, dim, values, offsets, weights|null, mean, out, argName?)
Napi::Value BagPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    auto table = f32(info, 0, "table", checked_mul(rows, dim, "table"));
    std::string name = str_arg(info, 8, "values");
    auto values = i32(info, 3, name.c_str(), 0);
    int64_t nv = static_cast<int64_t>(values.ElementLength());
    auto offsets = i32(info, 4, "offsets", 1);
    int64_t nbags = static_cast<int64_t>(offsets.ElementLength()) - 1;
    const float* w = present(info, 5) ? f32(info, 5, "weights", nv).Data() : nullptr;
    bool mean = boolean(info, 6, "mean");
    auto out = f32(info, 7, "out", checked_mul(nbags, dim, "out"));
    bag_pool(table.Data(), rows, dim, values.Data(), nv, offsets.Data(), nbags, w, mean, out.Data(), name.c_str());
    return info.Env().Undefined();
  });
}

// bagBackward(values, offsets, weights|null, mean, rows, dim, dy, argName?) -> [uniq, summed]
Napi::Value BagBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::string name = str_arg(info, 7, "values");
    auto values = i32(info, 0, name.c_str(), 0);
    int64_t nv = static_cast<int64_t>(values.ElementLength());
    auto offsets = i32(info, 1, "offsets", 1);
    int64_t nbags = static_cast<int64_t>(offsets.ElementLength()) - 1;
    const float* w = present(info, 2) ? f32(info, 2, "weights", nv).Data() : nullptr;
    bool mean = boolean(info, 3, "mean");
    int64_t rows = integer(info, 4, "rows", 0, kMaxDim), dim = integer(info, 5, "dim", 0, kMaxDim);
    auto dy = f32(info, 6, "dy", checked_mul(nbags, dim, "dy"));
    std::vector<int32_t> bag_of(static_cast<size_t>(nv));
    std::vector<float> scale(static_cast<size_t>(nv));
    bag_value_weights(offsets.Data(), nbags, nv, w, mean, bag_of.data(), scale.data());
    RowPlan plan = plan_rows(values.Data(), nv, rows, name.c_str());
    return plan_result(info.Env(), plan, dim, dy.Data(), bag_of.data(), scale.data());
  });
}

}  // namespace

void register_embedding(Napi::Env env, Napi::Object exports) {
  exports.Set("indexAdd", Napi::Function::New(env, IndexAdd));
  exports.Set("gatherRowsPadded", Napi::Function::New(env, GatherRowsPadded));
  exports.Set("coalesceRows", Napi::Function::New(env, CoalesceRows));
  exports.Set("tbeForward", Napi::Function::New(env, TbeForward));
  exports.Set("coalesceStrided", Napi::Function::New(env, CoalesceStrided));
  exports.Set("bagPool", Napi::Function::New(env, BagPool));
  exports.Set("bagBackward", Napi::Function::New(env, BagBackward));
}

}  // namespace qarm::binding
