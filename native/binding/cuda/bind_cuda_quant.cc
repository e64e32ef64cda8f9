// N-API glue for the quantisation kernels on CUDA: fused nearest-codeword search (fp32 and
// TF32 + exact re-rank), k-means centroid update, straight-through quantiser.
#include <napi.h>

#include <string>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

cu::Metric metric_arg(const Napi::CallbackInfo& info, size_t i) {
  std::string m = str_arg(info, i, "");
  if (m == "l2") return cu::Metric::L2;
  if (m == "ip") return cu::Metric::IP;
  if (m == "cosine") return cu::Metric::Cosine;
  fail(ErrorCode::Value, "argument 'metric' must be 'l2', 'ip' or 'cosine', got '" + m + "'");
}

// nearest(x, N, D, codebook, K, k, metric, outIdx, outDist, tf32, candidates)
Napi::Value Nearest(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 0, kMaxDim);
    int64_t K = integer(info, 4, "K", 0, kMaxDim);
    int k = static_cast<int>(integer(info, 5, "k", 1, kMaxDim));
    cu::Metric metric = metric_arg(info, 6);
    bool tf32 = boolean(info, 9, "tf32");
    int cand = static_cast<int>(integer(info, 10, "candidates", 0, cu::kMaxTopK));
    auto* x = dev<float>(info, 0, "x", checked_mul(N, D, "x"));
    auto* cb = dev<float>(info, 3, "codebook", checked_mul(K, D, "codebook"));
    auto* oi = dev<int32_t>(info, 7, "indices", checked_mul(N, k, "indices"));
    auto* od = dev<float>(info, 8, "distances", checked_mul(N, k, "distances"));
    if (tf32) cu::nearest_tf32(x, N, D, cb, K, k, cand, metric, oi, od);
    else cu::nearest(x, N, D, cb, K, k, metric, oi, od);
    return info.Env().Undefined();
  });
}

// kmeansUpdate(x, N, D, assignments, K, centroids, counts)
Napi::Value KmeansUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 0, kMaxDim);
    int64_t K = integer(info, 4, "K", 1, kMaxDim);
    cu::kmeans_update(dev<float>(info, 0, "x", checked_mul(N, D, "x")), N, D, dev<int32_t>(info, 3, "assignments", N), K,
                      dev<float>(info, 5, "centroids", checked_mul(K, D, "centroids")),
                      dev<int32_t>(info, 6, "counts", K));
    return info.Env().Undefined();
  });
}

// steForward(x, N, D, codebook, K, indices, y, sqerr)
Napi::Value SteForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 1, "N", 0, kMaxDim), D = integer(info, 2, "D", 0, kMaxDim);
    int64_t K = integer(info, 4, "K", 1, kMaxDim);
    int64_t nd = checked_mul(N, D, "x");
    cu::ste_forward(dev<float>(info, 0, "x", nd), N, D, dev<float>(info, 3, "codebook", checked_mul(K, D, "codebook")), K,
                    dev<int32_t>(info, 5, "indices", N), dev<float>(info, 6, "y", nd), dev<float>(info, 7, "sqerr", N));
    return info.Env().Undefined();
  });
}

// steBackward(dy, x, N, D, codebook, K, indices, commitScale, codebookScale, dx, dcodebook)
Napi::Value SteBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t N = integer(info, 2, "N", 0, kMaxDim), D = integer(info, 3, "D", 0, kMaxDim);
    int64_t K = integer(info, 5, "K", 1, kMaxDim);
    int64_t nd = checked_mul(N, D, "x"), kd = checked_mul(K, D, "codebook");
    cu::ste_backward(dev<float>(info, 0, "dy", nd), dev<float>(info, 1, "x", nd), N, D, dev<float>(info, 4, "codebook", kd),
                     K, dev<int32_t>(info, 6, "indices", N), static_cast<float>(number(info, 7, "commitScale")),
                     static_cast<float>(number(info, 8, "codebookScale")), dev<float>(info, 9, "dx", nd),
                     dev<float>(info, 10, "dcodebook", kd));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("nearest", Napi::Function::New(env, Nearest));
  exports.Set("kmeansUpdate", Napi::Function::New(env, KmeansUpdate));
  exports.Set("steForward", Napi::Function::New(env, SteForward));
  exports.Set("steBackward", Napi::Function::New(env, SteBackward));
}

}  // namespace qarm::binding::cuda_glue
