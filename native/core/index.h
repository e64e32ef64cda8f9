// Row gather and scatter-add over [rows, dim] tables, with index checks.
#pragma once
#include <cstdint>

namespace qarm {

// out[i, :] = table[idx[i], :]. Throws Error(Index) naming `arg` on an index outside [0, rows).
void gather_rows(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                 const char* arg);

// target[idx[i], :] += src[i, :] for i in order. Deterministic: every target row is owned by
// one thread and receives its updates in increasing i, whatever the thread count.
void scatter_add_rows(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
                      const char* arg);

// Throws Error(Index) if any idx[i] is outside [0, rows).
void check_indices(const int32_t* idx, int64_t n, int64_t rows, const char* arg);

}  // namespace qarm
