// Elementwise kernels. Binary ops broadcast: the caller passes the output shape and, for
// each input, strides over that shape (0 on broadcast dimensions).
#pragma once
#include <cstdint>

#include "../common/op_codes.h"

namespace qarm {

void unary(UnaryOp op, const float* x, float* y, int64_t n);

// shape/strides have `rank` entries; strides are in elements.
void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides, float* out,
            const int64_t* shape, int rank);

// y = alpha * x + beta * y, in place on y (used by optimizers and gradient accumulation).
void axpby(float alpha, const float* x, float beta, float* y, int64_t n);

}  // namespace qarm
