#include "index.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "error.h"
#include "threadpool.h"

namespace qarm {

void check_indices(const int32_t* idx, int64_t n, int64_t rows, const char* arg) {
  for (int64_t i = 0; i < n; ++i) {
    if (idx[i] < 0 || idx[i] >= rows) {
      throw Error(ErrorCode::Index, std::string("argument '") + arg + "': index " + std::to_string(idx[i]) +
                                        " at position " + std::to_string(i) + " is outside [0, " +
                                        std::to_string(rows) + ")");
    }
  }
}

void gather_rows(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, float* out,
                 const char* arg) {
  check_indices(idx, n, rows, arg);
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(dim, 1));
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::memcpy(out + i * dim, table + static_cast<int64_t>(idx[i]) * dim, sizeof(float) * static_cast<size_t>(dim));
  });
}

void scatter_add_rows(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n, const float* src,
                      const char* arg) {
  check_indices(idx, n, rows, arg);
  if (n == 0 || dim == 0) return;
  // Positions grouped by target row, each group in increasing i: a stable sort of the
  // positions by index (a counting sort when the table is not much larger than n, so a
  // huge table with few updates costs O(n log n), not O(rows) memory).
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (rows <= 4 * n) {
    std::vector<int64_t> start(static_cast<size_t>(rows) + 1, 0);
    for (int64_t i = 0; i < n; ++i) ++start[static_cast<size_t>(idx[i]) + 1];
    for (int64_t r = 0; r < rows; ++r) start[r + 1] += start[r];
    for (int64_t i = 0; i < n; ++i) order[start[idx[i]]++] = i;
  } else {
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return idx[x] < idx[y]; });
  }
  // Runs of equal index: each run is one target row, owned by one task.
  std::vector<int64_t> run_start;
  for (int64_t p = 0; p < n; ++p)
    if (p == 0 || idx[order[p]] != idx[order[p - 1]]) run_start.push_back(p);
  const int64_t nruns = static_cast<int64_t>(run_start.size());
  run_start.push_back(n);
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / dim);
  parallel_for(nruns, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* dst = target + static_cast<int64_t>(idx[order[run_start[t]]]) * dim;
      for (int64_t p = run_start[t]; p < run_start[t + 1]; ++p) {
        const float* s = src + order[p] * dim;
        for (int64_t j = 0; j < dim; ++j) dst[j] += s[j];
      }
    }
  });
}

}  // namespace qarm
