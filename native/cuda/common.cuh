// Shared helpers for the .cu files: status checks that throw qarm::Error, launch sizing,
// and a device-side error word that index-validating kernels set instead of reading out of
// bounds (the host checks it after the launch and throws an IndexError).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "../core/error.h"

namespace qarm::cuda {

[[noreturn]] inline void throw_cuda(cudaError_t e, const char* what) {
  ErrorCode code = (e == cudaErrorMemoryAllocation) ? ErrorCode::Value : ErrorCode::Device;
  throw Error(code,
              std::string("CUDA error in ") + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw_cuda(e, what);
}

// Checks the launch that just happened (configuration errors surface here, faults later).
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

// Grow-only device scratch buffer, one per purpose; every use happens in stream order, so a
// buffer is reused without synchronising. Never freed: it lives as long as the CUDA context.
struct DeviceScratch {
  void* p = nullptr;
  size_t cap = 0;
  void* get(size_t bytes) {
    if (bytes > cap) {
      if (p) check(cudaFree(p), "cudaFree(scratch)");
      p = nullptr;
      cap = 0;
      check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc(scratch)");
      cap = bytes;
    }
    return p;
  }
};

inline unsigned blocks_for(int64_t n, int threads, int64_t cap = 65535LL * 32) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < cap ? b : cap);
}

// A persistent device int32 error word: kClean, else the lowest bad position seen (so the
// message names the same position as the CPU kernels do).
constexpr int32_t kClean = 0x7f7f7f7f;  // what a 0x7f byte memset writes
int32_t* error_word();
// Zeroes the word before a validating launch.
void reset_error_word();
// Reads the word (synchronises); returns -1 when clean, else the offending position.
int64_t read_error_word();

// Raises the IndexError a validating kernel reported, naming the argument.
void raise_index_error(const char* arg, int64_t pos, const int32_t* idx, int64_t rows);
// Reads the error word (synchronises) and raises if a kernel reported a bad index.
void throw_if_bad(const char* arg, const int32_t* idx, int64_t rows);

__device__ inline void report_bad(int32_t* err, int64_t pos) {
  atomicMin(err, static_cast<int32_t>(pos < kClean - 1 ? pos : kClean - 1));
}

}  // namespace qarm::cuda
