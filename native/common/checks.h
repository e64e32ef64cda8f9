// Argument checks on host data that the CPU kernels (native/core) and the CUDA glue
// (native/binding/cuda, on host copies) both need, with the same messages.
#pragma once
#include <cstdint>
#include <string>

#include "../core/error.h"

namespace qarm {

// Bag offsets [nbags + 1]: start at 0, non-decreasing, end at the number of values nv.
inline void check_offsets(const int32_t* offsets, int64_t nbags, int64_t nv, const char* arg) {
  const std::string name = std::string("argument '") + arg + "'";
  if (offsets[0] != 0) throw Error(ErrorCode::Value, name + " must start at 0, got " + std::to_string(offsets[0]));
  for (int64_t b = 0; b < nbags; ++b) {
    if (offsets[b + 1] < offsets[b])
      throw Error(ErrorCode::Value, name + " must be non-decreasing (entry " + std::to_string(b + 1) + ")");
  }
  if (offsets[nbags] != nv)
    throw Error(ErrorCode::Value, name + " must end at the number of values " + std::to_string(nv) + ", got " +
                                      std::to_string(offsets[nbags]));
}

}  // namespace qarm
