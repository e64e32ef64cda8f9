// The op codes both addons share (native/core and native/cuda include this file; neither
// declares its own). They cross the N-API boundary from lib/tensor/op_codes.ts: unary and
// binary ops as these numbers, metrics by the names in kMetricNames. test/op_codes.test.js
// parses this header and checks the TypeScript tables against it, so keep one enumerator per
// line as `Name = value,` and kMetricNames in enum order.
#pragma once
#include <cstring>

namespace qarm {

enum class UnaryOp : int {
  Neg = 0,
  Relu = 1,
  Sigmoid = 2,
  Tanh = 3,
  Exp = 4,
  Log = 5,
  Sqrt = 6,
  Abs = 7,
  Square = 8,
  ReluGrad = 9,
};
constexpr int kUnaryOpCount = 10;

// Ge/Le give 1.0 where a >= b (a <= b), else 0.0.
enum class BinaryOp : int {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Max = 4,
  Min = 5,
  Pow = 6,
  Ge = 7,
  Le = 8,
};
constexpr int kBinaryOpCount = 9;

// Nearest-codeword metrics: l2 = squared Euclidean, ip = negative inner product,
// cosine = 1 - cosine similarity.
enum class Metric : int {
  L2 = 0,
  IP = 1,
  Cosine = 2,
};
constexpr int kMetricCount = 3;
constexpr const char* kMetricNames[kMetricCount] = {"l2", "ip", "cosine"};

// The metric called `name`; false when there is none.
inline bool metric_from_name(const char* name, Metric* out) {
  for (int m = 0; m < kMetricCount; ++m) {
    if (std::strcmp(name, kMetricNames[m]) == 0) {
      *out = static_cast<Metric>(m);
      return true;
    }
  }
  return false;
}

}  // namespace qarm
