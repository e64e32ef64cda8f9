// N-API glue for the foundation kernels on CUDA: same argument order as the CPU addon's
// (native/binding/bind_ops.cc) with device buffers (BigInt) in place of typed arrays and
// explicit element counts. Sizes are checked against each buffer's allocation.
#include <napi.h>

#include <limits>
#include <string>
#include <vector>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    bool ta = boolean(info, 0, "transA"), tb = boolean(info, 1, "transB");
    int64_t M = integer(info, 2, "M", 0, kMaxDim), N = integer(info, 3, "N", 0, kMaxDim),
            K = integer(info, 4, "K", 0, kMaxDim);
    float alpha = static_cast<float>(number(info, 5, "alpha"));
    auto* A = dev<float>(info, 6, "a", checked_mul(M, K, "a"));
    auto* B = dev<float>(info, 7, "b", checked_mul(K, N, "b"));
    float beta = static_cast<float>(number(info, 8, "beta"));
    auto* C = dev<float>(info, 9, "out", checked_mul(M, N, "out"));
    bool builtin = info.Length() > 10 && info[10].IsBoolean() && info[10].As<Napi::Boolean>().Value();
    if (builtin)
      cu::sgemm_builtin(ta, tb, M, N, K, alpha, A, ta ? M : K, B, tb ? K : N, beta, C, N);
    else
      cu::sgemm(ta, tb, M, N, K, alpha, A, ta ? M : K, B, tb ? K : N, beta, C, N);
    return info.Env().Undefined();
  });
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    UnaryOp op = unary_op_arg(info, 0);
    int64_t n = integer(info, 3, "n", 0, kMaxCount);
    auto* x = dev<float>(info, 1, "x", n);
    auto* y = dev<float>(info, 2, "out", n);
    cu::unary(op, x, y, n);
    return info.Env().Undefined();
  });
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    BinaryOp op = binary_op_arg(info, 0);
    auto shape = int_list(info, 6, "shape", 0, kMaxDim);
    auto as = int_list(info, 2, "aStrides", 0, kMaxDim);
    auto bs = int_list(info, 4, "bStrides", 0, kMaxDim);
    if (as.size() != shape.size() || bs.size() != shape.size())
      fail(ErrorCode::Shape, "argument 'aStrides'/'bStrides' must have one entry per output dimension");
    if (shape.size() > static_cast<size_t>(cu::kMaxRank))
      fail(ErrorCode::Shape, "argument 'shape': CUDA binary ops support rank <= 8 (after merging dimensions)");
    int64_t total = 1;
    for (int64_t s : shape) total = checked_mul(total, s, "out");
    auto* a = dev<float>(info, 1, "a", total ? strided_extent(shape, as, "a") : 0);
    auto* b = dev<float>(info, 3, "b", total ? strided_extent(shape, bs, "b") : 0);
    auto* out = dev<float>(info, 5, "out", total);
    cu::binary(op, a, as.data(), b, bs.data(), out, shape.data(), static_cast<int>(shape.size()));
    return info.Env().Undefined();
  });
}

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    float alpha = static_cast<float>(number(info, 0, "alpha"));
    float beta = static_cast<float>(number(info, 2, "beta"));
    int64_t n = integer(info, 4, "n", 0, kMaxCount);
    auto* x = dev<float>(info, 1, "x", n);
    auto* y = dev<float>(info, 3, "y", n);
    cu::axpby(alpha, x, beta, y, n);
    return info.Env().Undefined();
  });
}

// fill(ptr, n, value, isInt)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxCount);
    double v = number(info, 2, "value");
    if (boolean(info, 3, "isInt"))
      cu::fill_i32(dev<int32_t>(info, 0, "out", n), n, static_cast<int32_t>(v));
    else
      cu::fill_f32(dev<float>(info, 0, "out", n), n, static_cast<float>(v));
    return info.Env().Undefined();
  });
}

Napi::Value Transpose2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t r = integer(info, 2, "rows", 0, kMaxDim), c = integer(info, 3, "cols", 0, kMaxDim);
    int64_t n = checked_mul(r, c, "x");
    auto* x = dev<uint32_t>(info, 0, "x", n);
    auto* y = dev<uint32_t>(info, 1, "out", n);
    cu::transpose2d(x, y, r, c);
    return info.Env().Undefined();
  });
}

Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t outer = integer(info, 2, "outer", 0, kMaxCount), len = integer(info, 3, "len", 0, kMaxCount),
            inner = integer(info, 4, "inner", 0, kMaxCount);
    auto* x = dev<float>(info, 0, "x", checked_mul(checked_mul(outer, len, "x"), inner, "x"));
    auto* out = dev<float>(info, 1, "out", checked_mul(outer, inner, "out"));
    cu::reduce_sum(x, out, outer, len, inner);
    return info.Env().Undefined();
  });
}

template <void (*F)(const float*, float*, int64_t, int64_t), bool kRowOut>
Napi::Value RowOp(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxCount), cols = integer(info, 3, "cols", 1, kMaxCount);
    auto* x = dev<float>(info, 0, "x", checked_mul(rows, cols, "x"));
    auto* y = dev<float>(info, 1, "out", kRowOut ? rows : checked_mul(rows, cols, "out"));
    F(x, y, rows, cols);
    return info.Env().Undefined();
  });
}

Napi::Value L2NormalizeRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 3, "rows", 0, kMaxCount), cols = integer(info, 4, "cols", 1, kMaxCount);
    float eps = static_cast<float>(number(info, 5, "eps"));
    auto* x = dev<float>(info, 0, "x", checked_mul(rows, cols, "x"));
    auto* y = dev<float>(info, 1, "out", checked_mul(rows, cols, "out"));
    auto* norms = static_cast<float*>(device_ptr_or_null(info, 2, "norms", rows * sizeof(float)));
    cu::l2_normalize_rows(x, y, norms, rows, cols, eps);
    return info.Env().Undefined();
  });
}

// clampNorms(norms, n, eps, clamped, mask)
Napi::Value ClampNorms(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxCount);
    double eps = number(info, 2, "eps");
    auto* norms = dev<float>(info, 0, "norms", n);
    auto* clamped = dev<float>(info, 3, "clamped", n);
    auto* mask = dev<float>(info, 4, "mask", n);
    cu::clamp_norms(norms, n, eps, clamped, mask);
    return info.Env().Undefined();
  });
}

Napi::Value ArgReduceRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 2, "rows", 0, kMaxCount), cols = integer(info, 3, "cols", 1, kMaxCount);
    bool is_max = boolean(info, 4, "isMax");
    auto* x = dev<float>(info, 0, "x", checked_mul(rows, cols, "x"));
    auto* out = dev<int32_t>(info, 1, "out", rows);
    cu::argreduce_rows(x, out, rows, cols, is_max);
    return info.Env().Undefined();
  });
}

// gatherRows(table, rows, dim, indices, n, out, argName, padded)
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    int64_t n = integer(info, 4, "n", 0, kMaxDim);
    std::string name = str_arg(info, 6, "indices");
    auto* table = dev<float>(info, 0, "table", checked_mul(rows, dim, "table"));
    auto* idx = dev<int32_t>(info, 3, name.c_str(), n);
    auto* out = dev<float>(info, 5, "out", checked_mul(n, dim, "out"));
    bool padded = info.Length() > 7 && info[7].IsBoolean() && info[7].As<Napi::Boolean>().Value();
    cu::gather_rows(table, rows, dim, idx, n, out, name.c_str(), padded);
    return info.Env().Undefined();
  });
}

// scatterAddRows(target, rows, dim, indices, n, source, atomic, argName)
Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, kMaxDim), dim = integer(info, 2, "dim", 0, kMaxDim);
    int64_t n = integer(info, 4, "n", 0, kMaxDim);
    bool atomic = boolean(info, 6, "atomic");
    std::string name = str_arg(info, 7, "indices");
    auto* target = dev<float>(info, 0, "target", checked_mul(rows, dim, "target"));
    auto* idx = dev<int32_t>(info, 3, name.c_str(), n);
    auto* src = dev<float>(info, 5, "source", checked_mul(n, dim, "source"));
    cu::scatter_add_rows(target, rows, dim, idx, n, src, atomic ? cu::ScatterMode::Atomic : cu::ScatterMode::Sorted,
                         name.c_str());
    return info.Env().Undefined();
  });
}

// sgdUpdate(param, grad, velocity|null, n, lr, momentum, weightDecay, nesterov)
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 3, "n", 0, kMaxCount);
    auto* p = dev<float>(info, 0, "param", n);
    auto* g = dev<float>(info, 1, "grad", n);
    auto* v = static_cast<float*>(device_ptr_or_null(info, 2, "velocity", n * sizeof(float)));
    cu::sgd_update(p, g, v, n, static_cast<float>(number(info, 4, "lr")),
                   static_cast<float>(number(info, 5, "momentum")), static_cast<float>(number(info, 6, "weightDecay")),
                   boolean(info, 7, "nesterov"));
    return info.Env().Undefined();
  });
}

// adamUpdate(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 4, "n", 0, kMaxCount);
    auto* p = dev<float>(info, 0, "param", n);
    auto* g = dev<float>(info, 1, "grad", n);
    auto* m = dev<float>(info, 2, "m", n);
    auto* v = dev<float>(info, 3, "v", n);
    cu::adam_update(p, g, m, v, n, static_cast<float>(number(info, 5, "lr")),
                    static_cast<float>(number(info, 6, "beta1")), static_cast<float>(number(info, 7, "beta2")),
                    static_cast<float>(number(info, 8, "eps")), static_cast<float>(number(info, 9, "weightDecay")),
                    boolean(info, 10, "decoupled"), integer(info, 11, "step", 1, kMaxCount));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("axpby", Napi::Function::New(env, Axpby));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("transpose2d", Napi::Function::New(env, Transpose2d));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("softmaxRows", Napi::Function::New(env, RowOp<cu::softmax_rows, false>));
  exports.Set("logsumexpRows", Napi::Function::New(env, RowOp<cu::logsumexp_rows, true>));
  exports.Set("l2NormalizeRows", Napi::Function::New(env, L2NormalizeRows));
  exports.Set("clampNorms", Napi::Function::New(env, ClampNorms));
  exports.Set("argReduceRows", Napi::Function::New(env, ArgReduceRows));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
}

}  // namespace qarm::binding::cuda_glue
