// N-API glue for the foundation kernels: GEMM, elementwise, reductions, row ops, gather/scatter.
// Buffers are allocated by the caller (Node owns all CPU memory); each length is checked
// here against the sizes the kernel will touch.
#include <napi.h>

#include <limits>
#include <string>

#include "../core/elementwise.h"
#include "../core/gemm.h"
#include "../core/index.h"
#include "../core/reduce.h"
#include "args.h"

namespace qarm::binding {
namespace {

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    bool ta = boolean(info, 0, "transA"), tb = boolean(info, 1, "transB");
    int64_t M = integer(info, 2, "M", 0, kMaxDim), N = integer(info, 3, "N", 0, kMaxDim),
            K = integer(info, 4, "K", 0, kMaxDim);
    float alpha = static_cast<float>(number(info, 5, "alpha"));
    auto A = f32(info, 6, "a", checked_mul(M, K, "a"));
    auto B = f32(info, 7, "b", checked_mul(K, N, "b"));
    float beta = static_cast<float>(number(info, 8, "beta"));
    auto C = f32(info, 9, "out", checked_mul(M, N, "out"));
    sgemm(ta, tb, M, N, K, alpha, A.Data(), ta ? M : K, B.Data(), tb ? K : N, beta, C.Data(), N);
    return info.Env().Undefined();
  });
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    UnaryOp op = unary_op_arg(info, 0);
    int64_t n = integer(info, 3, "n", 0, std::numeric_limits<int64_t>::max() / 8);
    auto x = f32(info, 1, "x", n);
    auto y = f32(info, 2, "out", n);
    unary(op, x.Data(), y.Data(), n);
    return info.Env().Undefined();
  });
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    BinaryOp op = binary_op_arg(info, 0);
    auto shape = int_list(info, 6, "shape", 0, kMaxDim);
    auto as = int_list(info, 2, "aStrides", 0, std::numeric_limits<int32_t>::max());
    auto bs = int_list(info, 4, "bStrides", 0, std::numeric_limits<int32_t>::max());
    if (as.size() != shape.size() || bs.size() != shape.size())
      fail(ErrorCode::Shape, "argument 'aStrides'/'bStrides' must have one entry per output dimension");
    int64_t total = 1;
    for (int64_t s : shape) total = checked_mul(total, s, "out");
    auto a = f32(info, 1, "a", total ? strided_extent(shape, as, "a") : 0);
    auto b = f32(info, 3, "b", total ? strided_extent(shape, bs, "b") : 0);
    auto out = f32(info, 5, "out", total);
    binary(op, a.Data(), as.data(), b.Data(), bs.data(), out.Data(), shape.data(), static_cast<int>(shape.size()));
    return info.Env().Undefined();
  });
}

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    float alpha = static_cast<float>(number(info, 0, "alpha"));
    float beta = static_cast<float>(number(info, 2, "beta"));
    int64_t n = integer(info, 4, "n", 0, std::numeric_limits<int64_t>::max() / 8);
    auto x = f32(info, 1, "x", n);
    auto y = f32(info, 3, "y", n);
    axpby(alpha, x.Data(), beta, y.Data(), n);
    return info.Env().Undefined();
  });
}

Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t outer = integer(info, 2, "outer", 0, kMaxDim), len = integer(info, 3, "len", 0, kMaxDim),
            inner = integer(info, 4, "inner", 0, kMaxDim);
    auto x = f32(info, 0, "x", checked_mul(checked_mul(outer, len, "x"), inner, "x"));
    auto out = f32(info, 1, "out", checked_mul(outer, inner, "out"));
    reduce_sum(x.Data(), out.Data(), outer, len, inner);
    return info.Env().Undefined();
  });
}

template <void (*F)(const float*, float*, int64_t, int64_t), bool kRowOut>
Napi::Value RowOp(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxDim), cols = integer(info, 3, "cols", 1, kMaxDim);
    auto x = f32(info, 0, "x", checked_mul(rows, cols, "x"));
    auto y = f32(info, 1, "out", kRowOut ? rows : checked_mul(rows, cols, "out"));
    F(x.Data(), y.Data(), rows, cols);
    return info.Env().Undefined();
  });
}

Napi::Value L2NormalizeRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 3, "rows", 0, kMaxDim), cols = integer(info, 4, "cols", 1, kMaxDim);
    float eps = static_cast<float>(number(info, 5, "eps"));
    auto x = f32(info, 0, "x", checked_mul(rows, cols, "x"));
    auto y = f32(info, 1, "out", checked_mul(rows, cols, "out"));
    float* norms = nullptr;
    if (info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined()) norms = f32(info, 2, "norms", rows).Data();
    l2_normalize_rows(x.Data(), y.Data(), norms, rows, cols, eps);
    return info.Env().Undefined();
  });
}

// clampNorms(norms, n, eps, clamped, mask)
Napi::Value ClampNorms(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim);
    double eps = number(info, 2, "eps");
    auto norms = f32(info, 0, "norms", n);
    auto clamped = f32(info, 3, "clamped", n);
    auto mask = f32(info, 4, "mask", n);
    clamp_norms(norms.Data(), n, eps, clamped.Data(), mask.Data());
    return info.Env().Undefined();
  });
}

Napi::Value ArgReduceRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxDim), cols = integer(info, 3, "cols", 1, kMaxDim);
    bool is_max = boolean(info, 4, "isMax");
    auto x = f32(info, 0, "x", checked_mul(rows, cols, "x"));
    auto out = i32(info, 1, "out", rows);
    argreduce_rows(x.Data(), out.Data(), rows, cols, is_max);
    return info.Env().Undefined();
  });
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    auto table = f32(info, 0, "table", checked_mul(rows, dim, "table"));
    std::string name = str_arg(info, 5, "indices");
    if (info.Length() < 4) fail(ErrorCode::Value, "missing argument 'indices'");
    auto idx = i32(info, 3, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto out = f32(info, 4, "out", checked_mul(n, dim, "out"));
    gather_rows(table.Data(), rows, dim, idx.Data(), n, out.Data(), name.c_str());
    return info.Env().Undefined();
  });
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    auto target = f32(info, 0, "target", checked_mul(rows, dim, "target"));
    std::string name = str_arg(info, 5, "indices");
    auto idx = i32(info, 3, name.c_str(), 0);
    int64_t n = static_cast<int64_t>(idx.ElementLength());
    auto src = f32(info, 4, "source", checked_mul(n, dim, "source"));
    scatter_add_rows(target.Data(), rows, dim, idx.Data(), n, src.Data(), name.c_str());
    return info.Env().Undefined();
  });
}

}  // namespace

void register_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("axpby", Napi::Function::New(env, Axpby));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("softmaxRows", Napi::Function::New(env, RowOp<softmax_rows, false>));
  exports.Set("logsumexpRows", Napi::Function::New(env, RowOp<logsumexp_rows, true>));
  exports.Set("l2NormalizeRows", Napi::Function::New(env, L2NormalizeRows));
  exports.Set("clampNorms", Napi::Function::New(env, ClampNorms));
  exports.Set("argReduceRows", Napi::Function::New(env, ArgReduceRows));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
}

}  // namespace qarm::binding
