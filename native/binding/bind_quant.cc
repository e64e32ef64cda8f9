// N-API glue for quantisation: fused nearest-codeword search (sync and Promise-returning
// async), the k-means centroid update and the residual-VQ kernels. Lengths are checked here
// against the sizes each kernel touches.
#include <napi.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../core/nearest.h"
#include "../core/quant.h"
#include "args.h"

namespace qarm::binding {
namespace {

struct NearestCall {
  const float* x;
  int64_t n, d;
  const float* c;
  int64_t kc, k;
  Metric metric;
  int32_t* idx;
  float* dist;
};

// Args: x, N, D, codebook, K, k, metric ('l2' | 'ip' | 'cosine'), outIdx, outDist
NearestCall read_nearest(const Napi::CallbackInfo& info) {
  NearestCall c{};
  c.n = integer(info, 1, "N", 0, kMaxDim);
  c.d = integer(info, 2, "D", 0, kMaxDim);
  c.kc = integer(info, 4, "K", 0, kMaxDim);
  c.k = integer(info, 5, "k", 0, kMaxDim);
  c.metric = metric_arg(info, 6);
  c.x = f32(info, 0, "x", checked_mul(c.n, c.d, "x")).Data();
  c.c = f32(info, 3, "codebook", checked_mul(c.kc, c.d, "codebook")).Data();
  c.idx = i32(info, 7, "outIdx", checked_mul(c.n, c.k, "outIdx")).Data();
  c.dist = f32(info, 8, "outDist", checked_mul(c.n, c.k, "outDist")).Data();
  return c;
}

Napi::Value Nearest(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    NearestCall c = read_nearest(info);
    nearest_search(c.x, c.n, c.c, c.kc, c.d, c.k, c.metric, c.idx, c.dist);
    return info.Env().Undefined();
  });
}

// Runs the search on a libuv worker; the typed arrays are pinned by references until done.
class NearestWorker : public Napi::AsyncWorker {
 public:
  NearestWorker(Napi::Env env, const Napi::CallbackInfo& info, NearestCall call)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), call_(call) {
    for (size_t i : {0u, 3u, 7u, 8u}) refs_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      nearest_search(call_.x, call_.n, call_.c, call_.kc, call_.d, call_.k, call_.metric, call_.idx, call_.dist);
    } catch (const Error& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = ErrorCode::Value;
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(to_js_error(Env(), code_, e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  NearestCall call_;
  std::vector<Napi::ObjectReference> refs_;
  ErrorCode code_ = ErrorCode::Value;
};

Napi::Value NearestAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    NearestCall c = read_nearest(info);
    auto* w = new NearestWorker(info.Env(), info, c);  // owned and deleted by N-API
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

// kmeansUpdate(x, n, d, assignments, k, centroids, counts)
Napi::Value KmeansUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), d = integer(info, 2, "d", 1, kMaxDim);
    int64_t k = integer(info, 4, "k", 1, kMaxDim);
    auto x = f32(info, 0, "x", checked_mul(n, d, "x"));
    auto a = i32(info, 3, "assignments", n);
    auto c = f32(info, 5, "centroids", checked_mul(k, d, "centroids"));
    auto cnt = i32(info, 6, "counts", k);
    kmeans_update(x.Data(), n, d, a.Data(), k, c.Data(), cnt.Data());
    return info.Env().Undefined();
  });
}

// An Int32Array holding float64 bits (2 words per value, at least `values` of them), as doubles.
double* f64_bits(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t values) {
  auto a = i32(info, i, name, checked_mul(values, 2, name));
  if (reinterpret_cast<uintptr_t>(a.Data()) % alignof(double) != 0)
    fail(ErrorCode::Value, std::string("argument '") + name + "' (float64 bits) is not 8-byte aligned");
  return reinterpret_cast<double*>(a.Data());
}

// clusterSums(x, n, d, assignments, k, counts, sums)
Napi::Value ClusterSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), d = integer(info, 2, "d", 1, kMaxDim);
    int64_t k = integer(info, 4, "k", 1, kMaxDim);
    auto x = f32(info, 0, "x", checked_mul(n, d, "x"));
    auto a = i32(info, 3, "assignments", n);
    auto cnt = i32(info, 5, "counts", k);
    double* sums = f64_bits(info, 6, "sums", checked_mul(k, d, "sums"));
    cluster_sums(x.Data(), n, d, a.Data(), k, cnt.Data(), sums);
    return info.Env().Undefined();
  });
}

// centroidsFromSums(sums, counts, k, d, centroids)
Napi::Value CentroidsFromSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t k = integer(info, 2, "k", 1, kMaxDim), d = integer(info, 3, "d", 1, kMaxDim);
    const double* sums = f64_bits(info, 0, "sums", checked_mul(k, d, "sums"));
    auto cnt = i32(info, 1, "counts", k);
    auto c = f32(info, 4, "centroids", checked_mul(k, d, "centroids"));
    centroids_from_sums(sums, cnt.Data(), k, d, c.Data());
    return info.Env().Undefined();
  });
}

// rvqLevelForward(residual, codebook, K, d, codes, n, quantized, next) -> sum ||next||^2
Napi::Value RvqLevelForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t kc = integer(info, 2, "K", 1, kMaxDim), d = integer(info, 3, "d", 1, kMaxDim);
    int64_t n = integer(info, 5, "n", 0, kMaxDim);
    auto r = f32(info, 0, "residual", checked_mul(n, d, "residual"));
    auto cb = f32(info, 1, "codebook", checked_mul(kc, d, "codebook"));
    auto codes = i32(info, 4, "codes", n);
    auto q = f32(info, 6, "quantized", checked_mul(n, d, "quantized"));
    auto nx = f32(info, 7, "next", checked_mul(n, d, "next"));
    double s = rvq_level_forward(r.Data(), cb.Data(), kc, d, codes.Data(), n, q.Data(), nx.Data());
    return Napi::Number::New(info.Env(), s);
  });
}

// vqScatterAddScaled(grad, K, d, codes, n, rows, scale)
Napi::Value VqScatterAddScaled(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t kc = integer(info, 1, "K", 1, kMaxDim), d = integer(info, 2, "d", 1, kMaxDim);
    int64_t n = integer(info, 4, "n", 0, kMaxDim);
    auto g = f32(info, 0, "grad", checked_mul(kc, d, "grad"));
    auto codes = i32(info, 3, "codes", n);
    auto rows = f32(info, 5, "rows", checked_mul(n, d, "rows"));
    float scale = static_cast<float>(number(info, 6, "scale"));
    vq_scatter_add_scaled(g.Data(), kc, d, codes.Data(), n, rows.Data(), scale);
    return info.Env().Undefined();
  });
}

// rvqSteBackward(gradOut|null, rows|null, levels, nd, scale, gradX)
Napi::Value RvqSteBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t levels = integer(info, 2, "levels", 0, kMaxDim),
            nd = integer(info, 3, "nd", 0, std::numeric_limits<int64_t>::max() / 8);
    const float* go = nullptr;
    const float* rows = nullptr;
    if (!info[0].IsNull() && !info[0].IsUndefined()) go = f32(info, 0, "gradOut", nd).Data();
    if (!info[1].IsNull() && !info[1].IsUndefined())
      rows = f32(info, 1, "rows", checked_mul(levels, nd, "rows")).Data();
    float scale = static_cast<float>(number(info, 4, "scale"));
    auto gx = f32(info, 5, "gradX", nd);
    rvq_ste_backward(go, rows, levels, nd, scale, gx.Data());
    return info.Env().Undefined();
  });
}

// vqCodeSums(x, n, d, codes, K, counts, sums)
Napi::Value VqCodeSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), d = integer(info, 2, "d", 1, kMaxDim);
    int64_t kc = integer(info, 4, "K", 1, kMaxDim);
    auto x = f32(info, 0, "x", checked_mul(n, d, "x"));
    auto codes = i32(info, 3, "codes", n);
    auto counts = f32(info, 5, "counts", kc);
    auto sums = f32(info, 6, "sums", checked_mul(kc, d, "sums"));
    vq_code_sums(x.Data(), n, d, codes.Data(), kc, counts.Data(), sums.Data());
    return info.Env().Undefined();
  });
}

}  // namespace

void register_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("nearest", Napi::Function::New(env, Nearest));
  exports.Set("nearestAsync", Napi::Function::New(env, NearestAsync));
  exports.Set("kmeansUpdate", Napi::Function::New(env, KmeansUpdate));
  exports.Set("clusterSums", Napi::Function::New(env, ClusterSums));
  exports.Set("centroidsFromSums", Napi::Function::New(env, CentroidsFromSums));
  exports.Set("rvqLevelForward", Napi::Function::New(env, RvqLevelForward));
  exports.Set("vqScatterAddScaled", Napi::Function::New(env, VqScatterAddScaled));
  exports.Set("rvqSteBackward", Napi::Function::New(env, RvqSteBackward));
  exports.Set("vqCodeSums", Napi::Function::New(env, VqCodeSums));
}

}  // namespace qarm::binding
