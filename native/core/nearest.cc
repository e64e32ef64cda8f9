// Driver of the fused nearest-codeword search: validation, codebook packing and norms,
// partition of the work into row blocks (and codebook segments when there are few rows),
// and the final sort of each row's survivors. The register-tiled scan is in isa/nearest.cc.
#include "nearest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "error.h"
#include "threadpool.h"

namespace qarm {

// Squared norm under which a vector counts as zero for the cosine metric (norm 1e-30).
constexpr double kTinyNorm2 = 1e-60;
namespace {

constexpr int64_t kRowBlock = 96;        // rows per work item (a multiple of the microkernel's 6)
constexpr int64_t kBufBytes = 32 << 20;  // candidate buffers of one work item stay below this
constexpr int64_t kMinItems = 8;         // below this many row blocks, split the codebook too

using Cand = NearestCand;

// A functor (not a function pointer) so the sorts inline the comparison.
struct CandLess {
  bool operator()(const Cand& a, const Cand& b) const { return a.key < b.key || (a.key == b.key && a.idx < b.idx); }
};
constexpr CandLess cand_less{};

void check_finite(const float* a, int64_t rows, int64_t d, const char* name) {
  std::vector<int64_t> bad(static_cast<size_t>((rows + 1023) / 1024), -1);
  parallel_for(rows, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float* r = a + i * d;
      float s = 0.f;
      for (int64_t j = 0; j < d; ++j) s += r[j] * 0.f;  // NaN or Inf makes s NaN
      if (s != s) {
        bad[static_cast<size_t>(b / 1024)] = i;
        return;
      }
    }
  });
  for (int64_t r : bad)
    if (r >= 0)
      throw Error(ErrorCode::Value,
                  std::string("argument '") + name + "' holds NaN or Inf (row " + std::to_string(r) + ")");
}

}  // namespace

float nearest_compact(NearestCand* buf, int32_t* count, int64_t k) {
  std::nth_element(buf, buf + (k - 1), buf + *count, cand_less);
  *count = static_cast<int32_t>(k);
  return buf[k - 1].key;
}

void nearest_search(const float* x, int64_t n, const float* c, int64_t kc, int64_t d, int64_t k, Metric metric,
                    int32_t* out_idx, float* out_dist, const char* x_name, const char* c_name) {
  if (n <= 0) throw Error(ErrorCode::Value, std::string("argument '") + x_name + "' is empty (no rows)");
  if (kc <= 0) throw Error(ErrorCode::Value, std::string("argument '") + c_name + "' is empty (no rows)");
  if (d <= 0) throw Error(ErrorCode::Value, std::string("argument '") + x_name + "' has zero columns");
  if (k < 1 || k > kc)
    throw Error(ErrorCode::Index,
                "argument 'k' must be in [1, " + std::to_string(kc) + "] (codebook rows), got " + std::to_string(k));
  check_finite(x, n, d, x_name);
  check_finite(c, kc, d, c_name);

  const int64_t width = QARM_ISA_SELECT(nearest_panel_width)();
  const int64_t np = (kc + width - 1) / width;
  std::vector<float> panels(static_cast<size_t>(np * d * width), 0.f);
  std::vector<float> alpha(static_cast<size_t>(np * width), 0.f);
  std::vector<float> beta(static_cast<size_t>(np * width), std::numeric_limits<float>::infinity());
  parallel_for(np, 4, [&](int64_t pb, int64_t pe) {
    for (int64_t q = pb; q < pe; ++q) {
      float* pan = panels.data() + q * d * width;
      for (int64_t l = 0; l < width && q * width + l < kc; ++l) {
        const int64_t ci = q * width + l;
        const float* row = c + ci * d;
        double nn = 0;
        for (int64_t j = 0; j < d; ++j) {
          pan[j * width + l] = row[j];
          nn += static_cast<double>(row[j]) * row[j];
        }
        switch (metric) {
          case Metric::L2:
            alpha[ci] = -2.f;
            beta[ci] = static_cast<float>(nn);
            break;
          case Metric::IP:
            alpha[ci] = -1.f;
            beta[ci] = 0.f;
            break;
          case Metric::Cosine:
            // Norms below kTinyNorm count as zero vectors (cosine 0, distance 1): their
            // inverse would overflow float and turn the distance into NaN.
            alpha[ci] = nn > kTinyNorm2 ? static_cast<float>(-1.0 / std::sqrt(nn)) : 0.f;
            beta[ci] = 0.f;
            break;
        }
      }
    }
  });
  const NearestPanels P{panels.data(), alpha.data(), beta.data(), np, width, d};
  auto scan = QARM_ISA_SELECT(nearest_scan);

  // Row term of the distance, in double then rounded once.
  // cand: the row's survivors (at least k); keeps the k best by (key, index), then orders
  // them by (distance, index).
  auto finish_row = [&](int64_t i, std::vector<Cand>& cand) {
    if (static_cast<int64_t>(cand.size()) > k) {
      std::nth_element(cand.begin(), cand.begin() + (k - 1), cand.end(), cand_less);
      cand.resize(static_cast<size_t>(k));
    }
    const float* xr = x + i * d;
    double nn = 0;
    for (int64_t j = 0; j < d; ++j) nn += static_cast<double>(xr[j]) * xr[j];
    int32_t* oi = out_idx + i * k;
    float* od = out_dist + i * k;
    if (metric == Metric::Cosine && nn <= kTinyNorm2) {  // a zero row: all codewords tie at distance 1
      for (int64_t t = 0; t < k; ++t) {
        oi[t] = static_cast<int32_t>(t);
        od[t] = 1.f;
      }
      return;
    }
    const float xn = static_cast<float>(nn);
    const float xinv = static_cast<float>(1.0 / std::sqrt(nn));
    for (auto& cd : cand) {
      switch (metric) {
        case Metric::L2:
          cd.key = std::max(0.f, xn + cd.key);
          break;
        case Metric::IP:
          break;
        case Metric::Cosine:
          cd.key = 1.f + cd.key * xinv;
          break;
      }
    }
    std::sort(cand.begin(), cand.end(), cand_less);
    for (int64_t t = 0; t < k; ++t) {
      oi[t] = cand[static_cast<size_t>(t)].idx;
      od[t] = cand[static_cast<size_t>(t)].key;
    }
  };

  const int64_t cap = k == 1 ? 1 : 2 * k;
  // Rows per work item: 96, fewer for huge k so the candidate buffers stay bounded. Depends on
  // k only; any blocking gives the same result.
  const int64_t fit = kBufBytes / (cap * static_cast<int64_t>(sizeof(Cand)));
  const int64_t rb = std::max<int64_t>(6, std::min<int64_t>(kRowBlock, fit / 6 * 6));
  const int64_t row_blocks = (n + rb - 1) / rb;
  // Segments depend only on the problem size, and merging per-segment heaps is exact, so the
  // result is the same as a single scan.
  int64_t segs = row_blocks >= kMinItems ? 1 : std::min<int64_t>(np, (kMinItems + row_blocks - 1) / row_blocks);
  if (segs * n * cap * static_cast<int64_t>(sizeof(Cand)) > 8 * kBufBytes) segs = 1;  // huge k: rows only
  const int64_t seg_panels = (np + segs - 1) / segs;
  segs = (np + seg_panels - 1) / seg_panels;

  if (segs == 1) {
    parallel_for(row_blocks, 1, [&](int64_t b, int64_t) {
      const int64_t r0 = b * rb, rows = std::min(rb, n - r0);
      std::vector<Cand> buf(static_cast<size_t>(rows * cap));
      std::vector<int32_t> cnt(static_cast<size_t>(rows), 0);
      std::vector<float> thr(static_cast<size_t>(rows), std::numeric_limits<float>::infinity());
      scan(x + r0 * d, d, rows, P, 0, np, k, cap, buf.data(), cnt.data(), thr.data());
      std::vector<Cand> cand;
      for (int64_t r = 0; r < rows; ++r) {
        cand.assign(buf.begin() + r * cap, buf.begin() + r * cap + cnt[r]);
        finish_row(r0 + r, cand);
      }
    });
    return;
  }
  std::vector<Cand> buf(static_cast<size_t>(segs * n * cap));
  std::vector<int32_t> cnt(static_cast<size_t>(segs * n), 0);
  std::vector<float> thr(static_cast<size_t>(segs * n), std::numeric_limits<float>::infinity());
  parallel_for(row_blocks * segs, 1, [&](int64_t item, int64_t) {
    const int64_t b = item / segs, s = item % segs;
    const int64_t r0 = b * rb, rows = std::min(rb, n - r0);
    const int64_t pb = s * seg_panels, pe = std::min(np, pb + seg_panels);
    scan(x + r0 * d, d, rows, P, pb, pe, k, cap, buf.data() + (s * n + r0) * cap, cnt.data() + s * n + r0,
         thr.data() + s * n + r0);
  });
  parallel_for(n, 16, [&](int64_t b, int64_t e) {
    std::vector<Cand> cand;
    for (int64_t i = b; i < e; ++i) {
      cand.clear();
      for (int64_t s = 0; s < segs; ++s) {
        const Cand* c = buf.data() + (s * n + i) * cap;
        cand.insert(cand.end(), c, c + cnt[s * n + i]);
      }
      finish_row(i, cand);
    }
  });
}

}  // namespace qarm
