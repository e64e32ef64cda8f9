#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "threadpool.h"

namespace qarm {
namespace {

constexpr int64_t kGrain = 1 << 14;

template <class F>
void map1(const float* x, float* y, int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
  });
}

inline float stable_sigmoid(float v) {
  if (v >= 0) return 1.f / (1.f + std::exp(-v));
  float e = std::exp(v);
  return e / (1.f + e);
}

template <class F>
void broadcast_apply(const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
                     const int64_t* shape, int rank, F f) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= shape[d];
  if (total == 0) return;
  if (rank == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int64_t inner = shape[rank - 1];
  const int64_t ai = as[rank - 1], bi = bs[rank - 1];
  const int64_t rows = total / inner;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      // Decompose the row index over the outer dimensions.
      int64_t rem = r, ao = 0, bo = 0;
      for (int d = rank - 2; d >= 0; --d) {
        int64_t idx = rem % shape[d];
        rem /= shape[d];
        ao += idx * as[d];
        bo += idx * bs[d];
      }
      const float* pa = a + ao;
      const float* pb = b + bo;
      float* po = out + r * inner;
      if (ai == 1 && bi == 1) {
        for (int64_t j = 0; j < inner; ++j) po[j] = f(pa[j], pb[j]);
      } else if (ai == 1 && bi == 0) {
        const float s = pb[0];
        for (int64_t j = 0; j < inner; ++j) po[j] = f(pa[j], s);
      } else if (ai == 0 && bi == 1) {
        const float s = pa[0];
        for (int64_t j = 0; j < inner; ++j) po[j] = f(s, pb[j]);
      } else {
        for (int64_t j = 0; j < inner; ++j) po[j] = f(pa[j * ai], pb[j * bi]);
      }
    }
  });
}

}  // namespace

void unary(UnaryOp op, const float* x, float* y, int64_t n) {
  switch (op) {
    case UnaryOp::Neg:
      return map1(x, y, n, [](float v) { return -v; });
    case UnaryOp::Relu:
      return map1(x, y, n, [](float v) { return v > 0.f ? v : 0.f; });
    case UnaryOp::ReluGrad:
      return map1(x, y, n, [](float v) { return v > 0.f ? 1.f : 0.f; });
    case UnaryOp::Sigmoid:
      return map1(x, y, n, stable_sigmoid);
    case UnaryOp::Tanh:
      return map1(x, y, n, [](float v) { return std::tanh(v); });
    case UnaryOp::Exp:
      return map1(x, y, n, [](float v) { return std::exp(v); });
    case UnaryOp::Log:
      return map1(x, y, n, [](float v) { return std::log(v); });
    case UnaryOp::Sqrt:
      return map1(x, y, n, [](float v) { return std::sqrt(v); });
    case UnaryOp::Abs:
      return map1(x, y, n, [](float v) { return std::fabs(v); });
    case UnaryOp::Square:
      return map1(x, y, n, [](float v) { return v * v; });
  }
}

void binary(BinaryOp op, const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
            const int64_t* shape, int rank) {
  switch (op) {
    case BinaryOp::Add:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x + y; });
    case BinaryOp::Sub:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x - y; });
    case BinaryOp::Mul:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x * y; });
    case BinaryOp::Div:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x / y; });
    case BinaryOp::Max:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x >= y ? x : y; });
    case BinaryOp::Min:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x <= y ? x : y; });
    case BinaryOp::Pow:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return std::pow(x, y); });
    case BinaryOp::Ge:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x >= y ? 1.f : 0.f; });
    case BinaryOp::Le:
      return broadcast_apply(a, as, b, bs, out, shape, rank, [](float x, float y) { return x <= y ? 1.f : 0.f; });
  }
}

void axpby(float alpha, const float* x, float beta, float* y, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = alpha * x[i] + beta * y[i];
  });
}

}  // namespace qarm
