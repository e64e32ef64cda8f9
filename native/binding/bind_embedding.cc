// N-API glue for the embedding kernels (native/core/embedding.h): index_add, row-sparse
// gradient reduction, pooled bags and fused row-sparse optimizer steps. Outputs whose size
// depends on the data (the unique rows of a gradient) are allocated here.
#include <napi.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../core/attention.h"
#include "../core/embedding.h"
#include "args.h"

namespace qarm::binding {
namespace {

// [uniqueRows Int32Array, summedRows Float32Array] from a plan and its reduction.
Napi::Value plan_result(Napi::Env env, const RowPlan& plan, int64_t dim, const float* src,
                        const int32_t* src_row, const float* weight) {
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
Napi::Value dense_result(Napi::Env env, const int32_t* idx, int64_t n, int64_t rows, const float* src,
                         int64_t dim, int64_t stride, bool skip_negative, const char* arg) {
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
    if (prefer_dense_sum(n, rows, dim)) return dense_result(info.Env(), idx.Data(), n, rows, src.Data(), dim, dim, skip, name.c_str());
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
    if (static_cast<int>(iArr.Length()) != T || static_cast<int>(rowsV.size()) != T || static_cast<int>(groupV.size()) != T)
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
    tbe_forward(tp.data(), rowsV.data(), ip.data(), gp.data(), T, static_cast<int>(G), n, dim, out.Data(), name.c_str());
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
    if (prefer_dense_sum(n, rows, dim)) return dense_result(info.Env(), idx.Data(), n, rows, src.Data() + off, dim, stride, true, name.c_str());
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
    bag_pool(table.Data(), rows, dim, values.Data(), nv, offsets.Data(), nbags, w, mean, out.Data(),
             name.c_str());
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
    AdamHyper h{static_cast<float>(number(info, 7, "lr")), static_cast<float>(number(info, 8, "beta1")),
                static_cast<float>(number(info, 9, "beta2")), static_cast<float>(number(info, 10, "eps")),
                static_cast<float>(number(info, 11, "weightDecay")), boolean(info, 12, "decoupled"),
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
    rowwise_adagrad(p.Data(), s.Data(), rows, dim, idx.Data(), n, g.Data(),
                    static_cast<float>(number(info, 6, "lr")), static_cast<float>(number(info, 7, "eps")),
                    static_cast<float>(number(info, 8, "weightDecay")), "indices");
    return info.Env().Undefined();
  });
}

// weightedPool(w, k, out, B, M, H, D)
Napi::Value WeightedPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 3, "B", 0, kMaxDim), M = integer(info, 4, "M", 0, kMaxDim),
            H = integer(info, 5, "H", 0, kMaxDim), D = integer(info, 6, "D", 0, kMaxDim);
    auto w = f32(info, 0, "w", checked_mul(checked_mul(B, M, "w"), H, "w"));
    auto k = f32(info, 1, "k", checked_mul(checked_mul(B, H, "k"), D, "k"));
    auto out = f32(info, 2, "out", checked_mul(checked_mul(B, M, "out"), D, "out"));
    weighted_pool(w.Data(), k.Data(), out.Data(), B, M, H, D);
    return info.Env().Undefined();
  });
}

// weightedPoolBackward(w, k, dout, dw|null, dk|null, B, M, H, D)
Napi::Value WeightedPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 5, "B", 0, kMaxDim), M = integer(info, 6, "M", 0, kMaxDim),
            H = integer(info, 7, "H", 0, kMaxDim), D = integer(info, 8, "D", 0, kMaxDim);
    int64_t nw = checked_mul(checked_mul(B, M, "w"), H, "w"), nk = checked_mul(checked_mul(B, H, "k"), D, "k");
    auto w = f32(info, 0, "w", nw);
    auto k = f32(info, 1, "k", nk);
    auto dout = f32(info, 2, "dout", checked_mul(checked_mul(B, M, "dout"), D, "dout"));
    float* dw = present(info, 3) ? f32(info, 3, "dw", nw).Data() : nullptr;
    float* dk = present(info, 4) ? f32(info, 4, "dk", nk).Data() : nullptr;
    weighted_pool_backward(w.Data(), k.Data(), dout.Data(), dw, dk, B, M, H, D);
    return info.Env().Undefined();
  });
}

// dinScoresForward(q, k, W1, b1, w2, b2, act, B, H, K, A, scores)
Napi::Value DinScoresForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 7, "B", 0, kMaxDim), H = integer(info, 8, "H", 0, kMaxDim),
            K = integer(info, 9, "K", 1, kMaxDim), A = integer(info, 10, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 6, "act", 0, 1));
    auto q = f32(info, 0, "query", checked_mul(B, K, "query"));
    auto k = f32(info, 1, "keys", checked_mul(checked_mul(B, H, "keys"), K, "keys"));
    auto W1 = f32(info, 2, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 3, "b1", A);
    auto w2 = f32(info, 4, "w2", A);
    float b2 = static_cast<float>(number(info, 5, "b2"));
    auto scores = f32(info, 11, "scores", checked_mul(B, H, "scores"));
    din_scores_forward(q.Data(), k.Data(), W1.Data(), b1.Data(), w2.Data(), b2, act, B, H, K, A, scores.Data());
    return info.Env().Undefined();
  });
}

// dinScoresBackward(q, k, W1, b1, w2, dscores, act, B, H, K, A, dq|null, dk|null, dW1, db1, dw2, db2)
Napi::Value DinScoresBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 7, "B", 0, kMaxDim), H = integer(info, 8, "H", 0, kMaxDim),
            K = integer(info, 9, "K", 1, kMaxDim), A = integer(info, 10, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 6, "act", 0, 1));
    int64_t nk = checked_mul(checked_mul(B, H, "keys"), K, "keys");
    auto q = f32(info, 0, "query", checked_mul(B, K, "query"));
    auto k = f32(info, 1, "keys", nk);
    auto W1 = f32(info, 2, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 3, "b1", A);
    auto w2 = f32(info, 4, "w2", A);
    auto ds = f32(info, 5, "dscores", checked_mul(B, H, "dscores"));
    float* dq = present(info, 11) ? f32(info, 11, "dq", checked_mul(B, K, "dq")).Data() : nullptr;
    float* dk = present(info, 12) ? f32(info, 12, "dk", nk).Data() : nullptr;
    auto dW1 = f32(info, 13, "dW1", checked_mul(A, 4 * K, "dW1"));
    auto db1 = f32(info, 14, "db1", A);
    auto dw2 = f32(info, 15, "dw2", A);
    auto db2 = f32(info, 16, "db2", 1);
    din_scores_backward(q.Data(), k.Data(), W1.Data(), b1.Data(), w2.Data(), ds.Data(), act, B, H, K, A, dq, dk,
                        dW1.Data(), db1.Data(), dw2.Data(), db2.Data());
    return info.Env().Undefined();
  });
}

// dinAttentionPool(rep, B, H, K, masks, M, W1, b1, w2, b2, act, A, pooled, keep?) → the backward cache when keep
Napi::Value DinAttentionPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 1, "B", 0, kMaxDim), H = integer(info, 2, "H", 0, kMaxDim), K = integer(info, 3, "K", 1, kMaxDim);
    int64_t M = integer(info, 5, "M", 1, kMaxDim), A = integer(info, 11, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 10, "act", 0, 1));
    auto rep = f32(info, 0, "rep", checked_mul(B + checked_mul(B, H, "rep"), K, "rep"));
    auto masks = f32(info, 4, "masks", checked_mul(checked_mul(B, M, "masks"), H, "masks"));
    auto W1 = f32(info, 6, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 7, "b1", A);
    auto w2 = f32(info, 8, "w2", A);
    float b2 = static_cast<float>(number(info, 9, "b2"));
    auto pooled = f32(info, 12, "pooled", checked_mul(checked_mul(B, M, "pooled"), K, "pooled"));
    // keep: also return the cache the backward pass reads instead of recomputing the scores.
    const bool keep = present(info, 13) && boolean(info, 13, "keep");
    Napi::Float32Array cache;
    if (keep) cache = Napi::Float32Array::New(info.Env(), static_cast<size_t>(din_attention_pool_cache_size(B, H, A)));
    din_attention_pool_forward(rep.Data(), B, H, K, masks.Data(), M, W1.Data(), b1.Data(), w2.Data(), b2, act, A, pooled.Data(),
                               keep ? cache.Data() : nullptr);
    return keep ? static_cast<Napi::Value>(cache) : info.Env().Undefined();
  });
}

// dinAttentionPoolBackward(rep, B, H, K, masks, M, W1, b1, w2, b2, act, A, dpooled, drep|null, dW1, db1, dw2, db2, cache?)
Napi::Value DinAttentionPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t B = integer(info, 1, "B", 0, kMaxDim), H = integer(info, 2, "H", 0, kMaxDim), K = integer(info, 3, "K", 1, kMaxDim);
    int64_t M = integer(info, 5, "M", 1, kMaxDim), A = integer(info, 11, "A", 1, kMaxDim);
    int act = static_cast<int>(integer(info, 10, "act", 0, 1));
    int64_t nrep = checked_mul(B + checked_mul(B, H, "rep"), K, "rep");
    auto rep = f32(info, 0, "rep", nrep);
    auto masks = f32(info, 4, "masks", checked_mul(checked_mul(B, M, "masks"), H, "masks"));
    auto W1 = f32(info, 6, "W1", checked_mul(A, 4 * K, "W1"));
    auto b1 = f32(info, 7, "b1", A);
    auto w2 = f32(info, 8, "w2", A);
    float b2 = static_cast<float>(number(info, 9, "b2"));
    auto dp = f32(info, 12, "dpooled", checked_mul(checked_mul(B, M, "dpooled"), K, "dpooled"));
    float* drep = present(info, 13) ? f32(info, 13, "drep", nrep).Data() : nullptr;
    auto dW1 = f32(info, 14, "dW1", checked_mul(A, 4 * K, "dW1"));
    auto db1 = f32(info, 15, "db1", A);
    auto dw2 = f32(info, 16, "dw2", A);
    auto db2 = f32(info, 17, "db2", 1);
    const float* cache = present(info, 18) ? f32(info, 18, "cache", din_attention_pool_cache_size(B, H, A)).Data() : nullptr;
    din_attention_pool_backward(rep.Data(), B, H, K, masks.Data(), M, W1.Data(), b1.Data(), w2.Data(), b2, act, A, dp.Data(), drep,
                                dW1.Data(), db1.Data(), dw2.Data(), db2.Data(), cache);
    return info.Env().Undefined();
  });
}

// copyColumns(src, rows, srcCols, srcOff, dst, dstCols, dstOff, width)
Napi::Value CopyColumns(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, std::numeric_limits<int64_t>::max() / 8);
    int64_t sc = integer(info, 2, "srcCols", 0, kMaxDim), so = integer(info, 3, "srcOff", 0, kMaxDim);
    int64_t dc = integer(info, 5, "dstCols", 0, kMaxDim), dof = integer(info, 6, "dstOff", 0, kMaxDim);
    int64_t w = integer(info, 7, "width", 0, kMaxDim);
    if (so + w > sc) fail(ErrorCode::Shape, "argument 'srcOff' + 'width' exceeds 'srcCols'");
    if (dof + w > dc) fail(ErrorCode::Shape, "argument 'dstOff' + 'width' exceeds 'dstCols'");
    auto src = f32(info, 0, "src", checked_mul(rows, sc, "src"));
    auto dst = f32(info, 4, "dst", checked_mul(rows, dc, "dst"));
    copy_columns(src.Data(), rows, sc, so, dst.Data(), dc, dof, w);
    return info.Env().Undefined();
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
  exports.Set("sparseAdam", Napi::Function::New(env, SparseAdam));
  exports.Set("rowwiseAdagrad", Napi::Function::New(env, RowwiseAdagrad));
  exports.Set("dinScoresForward", Napi::Function::New(env, DinScoresForward));
  exports.Set("dinScoresBackward", Napi::Function::New(env, DinScoresBackward));
  exports.Set("dinAttentionPool", Napi::Function::New(env, DinAttentionPool));
  exports.Set("dinAttentionPoolBackward", Napi::Function::New(env, DinAttentionPoolBackward));
  exports.Set("copyColumns", Napi::Function::New(env, CopyColumns));
  exports.Set("weightedPool", Napi::Function::New(env, WeightedPool));
  exports.Set("weightedPoolBackward", Napi::Function::New(env, WeightedPoolBackward));
}

}  // namespace qarm::binding
