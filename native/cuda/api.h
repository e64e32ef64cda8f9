// The CUDA backend's C++ interface: plain declarations, no CUDA or Node headers, so the
// N-API glue (native/binding/cuda/) compiles with the host compiler and only this folder
// needs nvcc. Pointers are device pointers unless named `host_*`. Every function checks
// the CUDA status and throws qarm::Error (native/core/error.h) on failure; kernels that read
// indices validate them on the device and raise ErrorCode::Index after the launch.
// Layouts and semantics match the CPU kernels in native/core/ (row-major, float32/int32).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "../common/op_codes.h"

namespace qarm::cuda {

// ---- runtime (runtime.cu) ----
// Number of usable devices; 0 (never throws) when there is no driver or device, with the
// CUDA error text in *reason.
int device_count(std::string* reason);
struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0, sm_count = 0;
  size_t total_bytes = 0, free_bytes = 0;
};
DeviceInfo device_info();
void* raw_malloc(size_t bytes);  // ErrorCode::Value "CUDA out of memory ..." on failure
void raw_free(void* p);
void copy_h2d(void* dst, const void* host_src, size_t bytes);
void copy_d2h(void* host_dst, const void* src, size_t bytes);
void copy_d2d(void* dst, const void* src, size_t bytes);
// `height` rows of `width` bytes from src (row pitch spitch) to dst (row pitch dpitch).
void copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height);
void memset_zero(void* p, size_t bytes);
void synchronize();

// ---- elementwise (elementwise.cu); op codes in native/common/op_codes.h ----
void unary(UnaryOp op, const float* x, float* y, int64_t n);
// shape/strides: `rank` <= kMaxRank entries, strides in elements (0 = broadcast).
constexpr int kMaxRank = 8;
void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides, float* out,
            const int64_t* shape, int rank);
void axpby(float alpha, const float* x, float beta, float* y, int64_t n);
void fill_f32(float* p, int64_t n, float value);
void fill_i32(int32_t* p, int64_t n, int32_t value);
// Any 4-byte element type.
void transpose2d(const uint32_t* x, uint32_t* y, int64_t rows, int64_t cols);

// ---- reductions (reduce.cu); as native/core/reduce.h ----
void reduce_sum(const float* x, float* out, int64_t outer, int64_t len, int64_t inner);
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void logsumexp_rows(const float* x, float* out, int64_t rows, int64_t cols);
void l2_normalize_rows(const float* x, float* y, float* norms, int64_t rows, int64_t cols, float eps);
void argreduce_rows(const float* x, int32_t* out, int64_t rows, int64_t cols, bool is_max);
void clamp_norms(const float* norms, int64_t n, double eps, float* clamped, float* mask);

// ---- the fused InfoNCE step (contrastive.cu); as native/core/contrastive.h, same float64
// arithmetic (the loss sums in k order on one thread), dy and the loss on the device ----
void infonce_logits(const float* s, const float* mask /* nullable */, int64_t b, double temperature, float* l);
void infonce_loss(const float* lse_r, const float* lse_c, const float* l, int64_t b, float* out);
void infonce_grad(const float* pr, const float* pc, const float* dy, int64_t b, double temperature, float* g);

// ---- optimizers (optim.cu); as lib/tensor/cpu/optim_kernels.ts ----
void sgd_update(float* param, const float* grad, float* velocity /* nullable */, int64_t n, float lr, float momentum,
                float weight_decay, bool nesterov);
void adam_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                 float eps, float weight_decay, bool decoupled, int64_t step);

// ---- dense GEMM (gemm.cu + cublas_loader.cc) ----
// Row-major C[M,N] = alpha * op(A) op(B) + beta * C, lda/ldb/ldc row strides.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// "cublas" when libcublas was found at run time (dlopen) and is in use, else "builtin".
const char* gemm_backend();
// Forces the built-in kernel (true) or cuBLAS when available (false). Returns the backend.
const char* set_gemm_builtin(bool builtin);
// The built-in tiled kernel, always available (tests compare it with cuBLAS).
void sgemm_builtin(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// ---- embedding rows (embedding.cu) ----
// out[i, :] = table[idx[i], :]; an index outside [0, rows) -> ErrorCode::Index naming `arg`.
// With `padded`, a negative index gives a zero row instead (padding slots).
void gather_rows(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                 const char* arg, bool padded = false);
enum class ScatterMode { Sorted = 0, Atomic = 1 };
// target[idx[i], :] += src[i, :]. Sorted: stable radix sort of the indices, then one ordered
// sum per unique row (bitwise deterministic, duplicates added in input order). Atomic:
// atomicAdd per element (faster for few duplicates, order-dependent rounding).
void scatter_add_rows(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
                      ScatterMode mode, const char* arg);

// ---- row plans, bags, sparse optimizers, attention pooling (sparse.cu, pool.cu) ----
// As native/core/embedding.h and attention.h, with the same validation and messages.
// Coalescing is two calls because the number of unique rows decides the output size:
// coalesce_plan() sorts idx[0..n) (stable; negatives skipped when skip_negative, else an
// IndexError) and returns U, the number of unique rows; coalesce_reduce() then writes
// uniq[U] (ascending) and values[U, dim], values[u] = sum over the positions i of row uniq[u],
// in increasing i, of weight[i] * src[src_row[i]] (weight/src_row null: 1 and i). The plan
// lives until the next coalesce_plan(); `plan_id` guards against mixing plans up.
int64_t coalesce_plan(const int32_t* idx, int64_t n, int64_t rows, bool skip_negative, const char* arg,
                      int64_t* plan_id);
// src has src_rows rows; src_row entries are validated against it.
void coalesce_reduce(int64_t plan_id, const float* src, int64_t src_rows, int64_t dim, const int32_t* src_row,
                     const float* weight, int32_t* uniq, float* values);
// bag_of[j] and scale[j] (weight, divided by the bag length when mean) from offsets.
void bag_value_weights(const int32_t* offsets, int64_t nbags, int64_t nv, const float* weights, bool mean,
                       int32_t* bag_of, float* scale);
void bag_pool(const float* table, int64_t rows, int64_t dim, const int32_t* values, int64_t nv, const int32_t* offsets,
              int64_t nbags, const float* weights, bool mean, float* out, const char* arg);
void sparse_adam(float* param, float* m, float* v, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                 const float* grad, float lr, float beta1, float beta2, float eps, float weight_decay, bool decoupled,
                 int64_t step, const char* arg);
void rowwise_adagrad(float* param, float* state, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                     const float* grad, float lr, float eps, float weight_decay, const char* arg);
void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H, int64_t D);
void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw, float* dk, int64_t B,
                            int64_t M, int64_t H, int64_t D);

// ---- quantisation (nearest.cu, nearest_tc.cu, kmeans.cu, rvq.cu) ----
// Largest k the fused kernels keep per row.
constexpr int kMaxTopK = 128;
// For each of the N rows of x[N,D], the k nearest of the K rows of codebook[K,D]: indices
// [N,k] and distances [N,k] sorted ascending, ties to the lower index. The N x K distance
// matrix is never formed: 64 x 64 tiles live in shared memory/registers and are folded into
// per-row top-k lists in the same pass. Non-finite x or codebook -> ErrorCode::Value.
void nearest(const float* x, int64_t N, int64_t D, const float* codebook, int64_t K, int k, Metric metric,
             int32_t* out_idx, float* out_dist);
// Tensor-core variant: TF32 mma products select `candidates` (>= k) per row, which are then
// re-ranked with exact fp32 distances. Needs sm_80+ (throws ErrorCode::Device otherwise).
void nearest_tf32(const float* x, int64_t N, int64_t D, const float* codebook, int64_t K, int k, int candidates,
                  Metric metric, int32_t* out_idx, float* out_dist);
// k-means centroid update: sums of the rows of x per assignment (deterministic, sorted
// scatter-add), counts, then centroids[c] = sum / count; empty clusters keep their old
// centroid. counts is int32 [K]. Invalid assignment -> ErrorCode::Index.
void kmeans_update(const float* x, int64_t N, int64_t D, const int32_t* assign, int64_t K, float* centroids,
                   int32_t* counts);
// The k-means driver's kernels, as lib/tensor/cpu/kmeans_kernels.ts (same float64 arithmetic
// and order). cluster_sums: counts int32 [K] and double row sums [K, D] in input order (zero
// for empty clusters; invalid assignment -> ErrorCode::Index). centroids_from_sums:
// centroids[c] = float(sums[c] * (1 / counts[c])) for non-empty c.
void cluster_sums(const float* x, int64_t N, int64_t D, const int32_t* assign, int64_t K, int32_t* counts,
                  double* sums);
void centroids_from_sums(const double* sums, const int32_t* counts, int64_t K, int64_t D, float* centroids);
// FAISS's empty-cluster splits drawing from the xoshiro128** words rng[4] (advanced);
// splits[0] += number of splits. One device thread (each split changes the next draw's odds).
void split_empty_clusters(float* centroids, int32_t* counts, int64_t K, int64_t D, int32_t* rng, int32_t* splits,
                          int64_t n);
// One k-means++ round: chosen[round[.]] = 1, min_dist folded with distances, m distinct rows
// drawn by D² sampling into out[m] (rng advanced). One device thread.
void dsquared_round(const float* distances, float* min_dist, int32_t* chosen, int64_t N, const int32_t* round,
                    int64_t R, int32_t* rng, int64_t m, int32_t* out);
// *out = sum of x (of x^2 with square) in element order, in double. One device thread.
void sum_f64(const float* x, int64_t n, bool square, double* out);
// The residual VQ's training state (vq_state.cu; lib/tensor/cpu/vq_state_kernels.ts on the
// CPU). Float64 state is double memory. ema_f64_update: state = decay*state + (1-decay)*x.
void ema_f64_update(double* state, const float* x, int64_t n, double decay);
// EMA codebook update: counts and sums folded with the step's, codewords = sums / Laplace-
// smoothed counts.
void vq_ema_update(float* codebook, double* ema_counts, double* ema_sums, const float* counts, const float* sums,
                   int64_t K, int64_t D, double decay, double eps);
// Codes with usage below threshold take a row of residual [n, D] drawn from rng (advanced),
// usage = threshold, EMA state (when not null) reset to the row; restarts[0] += count.
void dead_code_restart(float* codebook, double* usage, int64_t K, int64_t D, const float* residual, int64_t n,
                       int32_t* rng, int32_t* restarts, double threshold, double* ema_counts, double* ema_sums);
void f32_to_f64(const float* x, int64_t n, double* out);
// Residual-VQ pieces, as native/core/quant.h (same formulas, same argument names in errors).
// One level forward: q = codebook[codes]; quantized += q; next = residual - q. Returns
// sum_i ||next_i||^2 (double, fixed summation order; synchronises).
double rvq_level_forward(const float* residual, const float* codebook, int64_t kc, int64_t d, const int32_t* codes,
                         int64_t n, float* quantized, float* next);
// VQ codes without the item itself: row i of idx [n, k+1] without its first entry equal to i
// (its last entry when none is), into out [n, k].
void drop_self(const int32_t* idx, int64_t n, int64_t k, int32_t* out);
// grad[codes[i], :] += scale * rows[i, :], deterministic (sorted, in input order per code).
void vq_scatter_add_scaled(float* grad, int64_t kc, int64_t d, const int32_t* codes, int64_t n, const float* rows,
                           float scale);
// Straight-through backward: grad_x = grad_out + scale * sum_l rows[l] (either may be null).
void rvq_ste_backward(const float* grad_out, const float* rows, int64_t levels, int64_t nd, float scale, float* grad_x);
// Per-code counts and double-accumulated row sums (both overwritten; empty codes get 0).
void vq_code_sums(const float* x, int64_t n, int64_t d, const int32_t* codes, int64_t kc, float* counts, float* sums);

}  // namespace qarm::cuda
