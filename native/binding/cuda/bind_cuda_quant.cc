// N-API glue for the quantisation kernels on CUDA: fused nearest-codeword search (fp32 and
// TF32 + exact re-rank), k-means centroid update, residual-VQ straight-through pieces.
#include <napi.h>

#include <string>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

// nearest(x, N, D, codebook, K, k, metric, outIdx, outDist, tf32, candidates)
Napi::Value Nearest(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 0, kMaxDim);
    int64_t K = integer(info, 4, "K", 0, kMaxDim);
    int k = static_cast<int>(integer(info, 5, "k", 1, kMaxDim));
    Metric metric = metric_arg(info, 6);
    bool tf32 = boolean(info, 9, "tf32");
    int cand = static_cast<int>(integer(info, 10, "candidates", 0, cu::kMaxTopK));
    auto* x = dev<float>(info, 0, "x", checked_mul(N, D, "x"));
    auto* cb = dev<float>(info, 3, "codebook", checked_mul(K, D, "codebook"));
    auto* oi = dev<int32_t>(info, 7, "indices", checked_mul(N, k, "indices"));
    auto* od = dev<float>(info, 8, "distances", checked_mul(N, k, "distances"));
    if (tf32)
      cu::nearest_tf32(x, N, D, cb, K, k, cand, metric, oi, od);
    else
      cu::nearest(x, N, D, cb, K, k, metric, oi, od);
    return info.Env().Undefined();
  });
}

// kmeansUpdate(x, N, D, assignments, K, centroids, counts)
Napi::Value KmeansUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 0, kMaxDim);
    int64_t K = integer(info, 4, "K", 1, kMaxDim);
    auto* x = dev<float>(info, 0, "x", checked_mul(N, D, "x"));
    auto* assign = dev<int32_t>(info, 3, "assignments", N);
    auto* centroids = dev<float>(info, 5, "centroids", checked_mul(K, D, "centroids"));
    auto* counts = dev<int32_t>(info, 6, "counts", K);
    cu::kmeans_update(x, N, D, assign, K, centroids, counts);
    return info.Env().Undefined();
  });
}

// clusterSums(x, N, D, assignments, K, counts, sums)
Napi::Value ClusterSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 1, kMaxDim);
    int64_t K = integer(info, 4, "K", 1, kMaxDim);
    auto* x = dev<float>(info, 0, "x", checked_mul(N, D, "x"));
    auto* assign = dev<int32_t>(info, 3, "assignments", N);
    auto* counts = dev<int32_t>(info, 5, "counts", K);
    auto* sums = dev<double>(info, 6, "sums", checked_mul(K, D, "sums"));
    cu::cluster_sums(x, N, D, assign, K, counts, sums);
    return info.Env().Undefined();
  });
}

// centroidsFromSums(sums, counts, K, D, centroids)
Napi::Value CentroidsFromSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t K = integer(info, 2, "K", 1, kMaxDim), D = integer(info, 3, "D", 1, kMaxDim);
    auto* sums = dev<double>(info, 0, "sums", checked_mul(K, D, "sums"));
    auto* counts = dev<int32_t>(info, 1, "counts", K);
    auto* centroids = dev<float>(info, 4, "centroids", checked_mul(K, D, "centroids"));
    cu::centroids_from_sums(sums, counts, K, D, centroids);
    return info.Env().Undefined();
  });
}

// splitEmptyClusters(centroids, counts, K, D, rng, splits, n)
Napi::Value SplitEmptyClusters(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t K = integer(info, 2, "K", 1, kMaxDim), D = integer(info, 3, "D", 1, kMaxDim);
    int64_t n = integer(info, 6, "n", 0, kMaxDim);
    auto* centroids = dev<float>(info, 0, "centroids", checked_mul(K, D, "centroids"));
    auto* counts = dev<int32_t>(info, 1, "counts", K);
    auto* rng = dev<int32_t>(info, 4, "rng", 4);
    auto* splits = dev<int32_t>(info, 5, "splits", 1);
    cu::split_empty_clusters(centroids, counts, K, D, rng, splits, n);
    return info.Env().Undefined();
  });
}

// dsquaredRound(distances, minDist, chosen, N, round, R, rng, m, out)
Napi::Value DsquaredRound(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 3, "N", 1, kMaxDim), R = integer(info, 5, "R", 0, kMaxDim);
    int64_t m = integer(info, 7, "m", 0, N);
    auto* dist = dev<float>(info, 0, "distances", N);
    auto* min_d = dev<float>(info, 1, "minDist", N);
    auto* chosen = dev<int32_t>(info, 2, "chosen", N);
    auto* round = dev<int32_t>(info, 4, "round", R);
    auto* rng = dev<int32_t>(info, 6, "rng", 4);
    auto* out = dev<int32_t>(info, 8, "out", m);
    cu::dsquared_round(dist, min_d, chosen, N, round, R, rng, m, out);
    return info.Env().Undefined();
  });
}

// sumF64(x, n, square, out, slot)
Napi::Value SumF64(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxCount);
    bool square = boolean(info, 2, "square");
    int64_t slot = integer(info, 4, "slot", 0, kMaxDim);
    auto* x = dev<float>(info, 0, "x", n);
    auto* out = dev<double>(info, 3, "out", slot + 1);
    cu::sum_f64(x, n, square, out + slot);
    return info.Env().Undefined();
  });
}

// emaF64Update(state, x, n, decay)
Napi::Value EmaF64Update(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 2, "n", 0, kMaxDim);
    auto* state = dev<double>(info, 0, "state", n);
    auto* x = dev<float>(info, 1, "x", n);
    cu::ema_f64_update(state, x, n, number(info, 3, "decay"));
    return info.Env().Undefined();
  });
}

// vqEmaUpdate(codebook, emaCounts, emaSums, counts, sums, K, D, decay, eps)
Napi::Value VqEmaUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t K = integer(info, 5, "K", 1, kMaxDim), D = integer(info, 6, "D", 1, kMaxDim);
    int64_t kd = checked_mul(K, D, "codebook");
    auto* cb = dev<float>(info, 0, "codebook", kd);
    auto* n = dev<double>(info, 1, "emaCounts", K);
    auto* m = dev<double>(info, 2, "emaSums", kd);
    auto* counts = dev<float>(info, 3, "counts", K);
    auto* sums = dev<float>(info, 4, "sums", kd);
    cu::vq_ema_update(cb, n, m, counts, sums, K, D, number(info, 7, "decay"), number(info, 8, "eps"));
    return info.Env().Undefined();
  });
}

// deadCodeRestart(codebook, usage, K, D, residual, n, rng, restarts, threshold, emaCounts|null, emaSums|null)
Napi::Value DeadCodeRestart(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t K = integer(info, 2, "K", 1, kMaxDim), D = integer(info, 3, "D", 1, kMaxDim);
    int64_t n = integer(info, 5, "n", 1, kMaxDim);
    int64_t kd = checked_mul(K, D, "codebook");
    auto* cb = dev<float>(info, 0, "codebook", kd);
    auto* usage = dev<double>(info, 1, "usage", K);
    auto* residual = dev<float>(info, 4, "residual", checked_mul(n, D, "residual"));
    auto* rng = dev<int32_t>(info, 6, "rng", 4);
    auto* restarts = dev<int32_t>(info, 7, "restarts", 1);
    auto* ec =
        static_cast<double*>(device_ptr_or_null(info, 9, "emaCounts", static_cast<uint64_t>(K) * sizeof(double)));
    auto* es =
        static_cast<double*>(device_ptr_or_null(info, 10, "emaSums", static_cast<uint64_t>(kd) * sizeof(double)));
    if ((ec == nullptr) != (es == nullptr))
      fail(ErrorCode::Value, "arguments 'emaCounts' and 'emaSums' must be given together");
    cu::dead_code_restart(cb, usage, K, D, residual, n, rng, restarts, number(info, 8, "threshold"), ec, es);
    return info.Env().Undefined();
  });
}

// f32ToF64(x, n, out)
Napi::Value F32ToF64(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxCount);
    cu::f32_to_f64(dev<float>(info, 0, "x", n), n, dev<double>(info, 2, "out", n));
    return info.Env().Undefined();
  });
}

// rvqLevelForward(residual, codebook, kc, d, codes, n, quantized, next) -> sum ||next||^2
Napi::Value RvqLevelForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t kc = integer(info, 2, "K", 1, kMaxDim), d = integer(info, 3, "d", 0, kMaxDim);
    int64_t n = integer(info, 5, "n", 0, kMaxDim);
    int64_t nd = checked_mul(n, d, "residual");
    auto* res = dev<float>(info, 0, "residual", nd);
    auto* cb = dev<float>(info, 1, "codebook", checked_mul(kc, d, "codebook"));
    auto* codes = dev<int32_t>(info, 4, "codes", n);
    auto* q = dev<float>(info, 6, "quantized", nd);
    auto* next = dev<float>(info, 7, "next", nd);
    return Napi::Number::New(info.Env(), cu::rvq_level_forward(res, cb, kc, d, codes, n, q, next));
  });
}

// vqScatterAddScaled(grad, kc, d, codes, n, rows, scale)
Napi::Value VqScatterAddScaled(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t kc = integer(info, 1, "K", 1, kMaxDim), d = integer(info, 2, "d", 0, kMaxDim);
    int64_t n = integer(info, 4, "n", 0, kMaxDim);
    auto* grad = dev<float>(info, 0, "grad", checked_mul(kc, d, "grad"));
    auto* codes = dev<int32_t>(info, 3, "codes", n);
    auto* rows = dev<float>(info, 5, "rows", checked_mul(n, d, "rows"));
    cu::vq_scatter_add_scaled(grad, kc, d, codes, n, rows, static_cast<float>(number(info, 6, "scale")));
    return info.Env().Undefined();
  });
}

// dropSelf(indices, n, k, out)
Napi::Value DropSelf(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), k = integer(info, 2, "k", 0, kMaxDim);
    auto* idx = dev<int32_t>(info, 0, "indices", checked_mul(n, k + 1, "indices"));
    auto* out = dev<int32_t>(info, 3, "out", checked_mul(n, k, "out"));
    cu::drop_self(idx, n, k, out);
    return info.Env().Undefined();
  });
}

// rvqSteBackward(gradOut|null, rows|null, levels, nd, scale, gradX)
Napi::Value RvqSteBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t levels = integer(info, 2, "levels", 0, kMaxDim), nd = integer(info, 3, "nd", 0, kMaxCount);
    auto* gout = static_cast<float*>(device_ptr_or_null(info, 0, "gradOut", nd * sizeof(float)));
    auto* rows = static_cast<float*>(
        device_ptr_or_null(info, 1, "rows", static_cast<uint64_t>(checked_mul(levels, nd, "rows")) * sizeof(float)));
    auto* gx = dev<float>(info, 5, "gradX", nd);
    cu::rvq_ste_backward(gout, rows, levels, nd, static_cast<float>(number(info, 4, "scale")), gx);
    return info.Env().Undefined();
  });
}

// vqCodeSums(x, n, d, codes, kc, counts, sums)
Napi::Value VqCodeSums(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t n = integer(info, 1, "n", 0, kMaxDim), d = integer(info, 2, "d", 0, kMaxDim);
    int64_t kc = integer(info, 4, "K", 1, kMaxDim);
    auto* x = dev<float>(info, 0, "x", checked_mul(n, d, "x"));
    auto* codes = dev<int32_t>(info, 3, "codes", n);
    auto* counts = dev<float>(info, 5, "counts", kc);
    auto* sums = dev<float>(info, 6, "sums", checked_mul(kc, d, "sums"));
    cu::vq_code_sums(x, n, d, codes, kc, counts, sums);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("nearest", Napi::Function::New(env, Nearest));
  exports.Set("kmeansUpdate", Napi::Function::New(env, KmeansUpdate));
  exports.Set("clusterSums", Napi::Function::New(env, ClusterSums));
  exports.Set("centroidsFromSums", Napi::Function::New(env, CentroidsFromSums));
  exports.Set("splitEmptyClusters", Napi::Function::New(env, SplitEmptyClusters));
  exports.Set("dsquaredRound", Napi::Function::New(env, DsquaredRound));
  exports.Set("sumF64", Napi::Function::New(env, SumF64));
  exports.Set("emaF64Update", Napi::Function::New(env, EmaF64Update));
  exports.Set("vqEmaUpdate", Napi::Function::New(env, VqEmaUpdate));
  exports.Set("deadCodeRestart", Napi::Function::New(env, DeadCodeRestart));
  exports.Set("f32ToF64", Napi::Function::New(env, F32ToF64));
  exports.Set("rvqLevelForward", Napi::Function::New(env, RvqLevelForward));
  exports.Set("vqScatterAddScaled", Napi::Function::New(env, VqScatterAddScaled));
  exports.Set("rvqSteBackward", Napi::Function::New(env, RvqSteBackward));
  exports.Set("vqCodeSums", Napi::Function::New(env, VqCodeSums));
  exports.Set("dropSelf", Napi::Function::New(env, DropSelf));
}

}  // namespace qarm::binding::cuda_glue
