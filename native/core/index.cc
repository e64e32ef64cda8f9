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
      throw Error(ErrorCode::Index, std::string("argument '") + arg + "': index " +
                                        std::to_string(idx[i]) + " at position " +
                                        std::to_string(i) + " is outside [0, " +
                                        std::to_string(rows) + ")");
    }
  }
}

void gather_rows(const float* table, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                 float* out, const char* arg) {
  check_indices(idx, n, rows, arg);
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(dim, 1));
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::memcpy(out + i * dim, table + static_cast<int64_t>(idx[i]) * dim,
                  sizeof(float) * static_cast<size_t>(dim));
  });
}

void scatter_add_rows(float* target, int64_t rows, int64_t dim, const int32_t* idx, int64_t n,
                      const float* src, const char* arg) {
  check_indices(idx, n, rows, arg);
  // Counting sort of positions by target row keeps, per row, the original order of i.
  std::vector<int64_t> start(static_cast<size_t>(rows) + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++start[static_cast<size_t>(idx[i]) + 1];
  for (int64_t r = 0; r < rows; ++r) start[r + 1] += start[r];
  std::vector<int64_t> order(static_cast<size_t>(n));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) order[fill[idx[i]]++] = i;
  }
  std::vector<int32_t> touched;
  for (int64_t r = 0; r < rows; ++r)
    if (start[r + 1] > start[r]) touched.push_back(static_cast<int32_t>(r));
  const int64_t nt = static_cast<int64_t>(touched.size());
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(dim, 1));
  parallel_for(nt, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t r = touched[t];
      float* dst = target + r * dim;
      for (int64_t p = start[r]; p < start[r + 1]; ++p) {
        const float* s = src + order[p] * dim;
        for (int64_t j = 0; j < dim; ++j) dst[j] += s[j];
      }
    }
  });
}

}  // namespace qarm
