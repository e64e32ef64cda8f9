// Embedding-table kernels: the sorted row plan behind every deterministic scatter-add,
// in-place index_add, row-sparse gradient reduction, pooled bags, and fused row-sparse
// optimizer updates (lazy Adam, row-wise Adagrad) that touch only the rows given.
//
// Determinism: duplicate indices are grouped by a stable radix sort, so every output row
// is summed by one thread in increasing source position, whatever the thread count. The
// result equals the plain serial loop `for i: target[idx[i]] += src[i]` bit for bit.
#pragma once
#include <cstdint>
#include <vector>

namespace qarm {

// Indices grouped by row: rows uniq[u] (ascending) receive source positions
// order[start[u] .. start[u+1]) (ascending within a row).
struct RowPlan {
  std::vector<int32_t> uniq;
  std::vector<int64_t> start;
  std::vector<int32_t> order;
};

// Builds the plan of idx[0..n); throws Error(Index) naming `arg` on an index outside
// [0, rows), or, when `skip_negative`, ignores negative indices instead (padding).
RowPlan plan_rows(const int32_t* idx, int64_t n, int64_t rows, const char* arg, bool skip_negative = false);

// out[u, :] = sum over p in the plan's group u of weight[order[p]] * src[src_row[order[p]], :]
// (src_row == nullptr: the position itself; weight == nullptr: 1). out has uniq.size() rows.
void reduce_plan(const RowPlan& plan, const float* src, int64_t dim, const int32_t* src_row, const float* weight,
                 float* out);

// As reduce_plan, reading source row i at src + i * src_stride (a column block of a wider
// matrix, e.g. one table's slice of a table-batched output gradient).
void reduce_plan_strided(const RowPlan& plan, const float* src, int64_t dim, int64_t src_stride, float* out);

// Small tables (few rows, many indices): the row sums go straight into a dense [rows, dim]
// buffer instead of through a sorted plan. Worth it when the table is small next to the index
// list (and the buffer stays in cache).
bool prefer_dense_sum(int64_t n, int64_t rows, int64_t dim);

// acc[idx[i], :] += src[i * src_stride .. + dim) over i in order (acc zeroed by the caller),
// touched[r] = 1 for every row hit; negative indices skipped when `skip_negative`, else
// Error(Index) naming `arg` (as plan_rows). Each row is summed in increasing position from
// zero, as reduce_plan does, so the sums are the same bits. Returns the number of rows touched.
int64_t sum_rows_dense(const int32_t* idx, int64_t n, int64_t rows, const float* src, int64_t dim, int64_t src_stride,
                       bool skip_negative, const char* arg, float* acc, uint8_t* touched);

// The touched rows of a dense sum, ascending: uniq[u] and out[u, :] = acc[uniq[u], :].
void compact_dense_rows(const float* acc, const uint8_t* touched, int64_t rows, int64_t dim, int32_t* uniq, float* out);

// Table-batched lookup (after FBGEMM's TBE): T tables of width dim; output block g of row i
// is the sum over the tables t with group[t] == g of table_t[ids_t[i], :] (negative ids are
// padding and add nothing). out is [n, G * dim]. Ids are checked first (Error(Index) naming
// the table's argument) so nothing is written on bad input.
void tbe_forward(const float* const* tables, const int64_t* rows, const int32_t* const* ids, const int32_t* group,
                 int T, int G, int64_t n, int64_t dim, float* out, const char* arg);

// target[idx[i], :] += src[i, :] in place (PyTorch's index_add_ along dim 0), without a sort.
// Deterministic by row ownership: each thread owns a range of rows and applies their updates in
// increasing i, so the result equals the serial loop bit for bit at any thread count.
void index_add(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
               const char* arg);

// out[i, :] = table[idx[i], :], or zeros where idx[i] < 0 (padding). Throws Error(Index)
// naming `arg` on an index >= rows.
void gather_rows_padded(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                        const char* arg);

// out[b, :] = sum_{j in [offsets[b], offsets[b+1])} w_j * table[values[j], :], where w_j is
// weights[j] (or 1), divided by the bag's length when `mean` (an empty bag gives zeros).
void bag_pool(const float* table, int64_t rows, int64_t dim, const int32_t* values, int64_t nv, const int32_t* offsets,
              int64_t nbags, const float* weights, bool mean, float* out, const char* arg);

// Per value j: the bag that holds it and its weight in the pooled sum (the bag backward).
void bag_value_weights(const int32_t* offsets, int64_t nbags, int64_t nv, const float* weights, bool mean,
                       int32_t* bag_of, float* scale);

// Checks that idx[0..n) is strictly ascending inside [0, rows) (a coalesced gradient).
void check_coalesced(const int32_t* idx, int64_t n, int64_t rows, const char* arg);

// Lazy (sparse) Adam on rows idx[u] of param/m/v with gradient rows grad[u]: torch.optim
// SparseAdam's rule, plus optional weight decay (L2 into the gradient, or decoupled).
struct AdamHyper {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  int64_t step;
};
void sparse_adam(float* param, float* m, float* v, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                 const float* grad, const AdamHyper& h, const char* arg);

// Row-wise Adagrad (FBGEMM/TorchRec): one accumulator per row,
// state[r] += mean_j g[r, j]^2; param[r] -= lr * g[r] / (sqrt(state[r]) + eps),
// with g = grad + weight_decay * param.
void rowwise_adagrad(float* param, float* state, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                     const float* grad, float lr, float eps, float weight_decay, const char* arg);

}  // namespace qarm
