// Device discovery, raw allocation and copies. Caching lives above (lib/tensor/cuda/
// allocator.ts); these are the uncached primitives it builds on. All work is issued on the
// legacy default stream, so a buffer returned to the cache is safe to reuse by the next
// launch without further synchronisation.
#include <string>

#include "api.h"
#include "common.cuh"

namespace qarm::cuda {

int device_count(std::string* reason) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (reason) *reason = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return 0;
  }
  if (n == 0 && reason) *reason = "cudaGetDeviceCount returned 0 devices";
  return n;
}

DeviceInfo device_info() {
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.name = p.name;
  info.major = p.major;
  info.minor = p.minor;
  info.sm_count = p.multiProcessorCount;
  check(cudaMemGetInfo(&info.free_bytes, &info.total_bytes), "cudaMemGetInfo");
  return info;
}

void* raw_malloc(size_t bytes) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw Error(ErrorCode::Value, "CUDA out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  check(e, "cudaMalloc");
  return p;
}

void raw_free(void* p) { check(cudaFree(p), "cudaFree"); }

void copy_h2d(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device");
}
void copy_d2h(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}
void copy_d2d(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0), "device copy");
}
void copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height) {
  if (width && height)
    check(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, cudaMemcpyDeviceToDevice, 0), "2-D device copy");
}
void memset_zero(void* p, size_t bytes) {
  if (bytes) check(cudaMemsetAsync(p, 0, bytes, 0), "cudaMemset");
}
void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

// ---- device error word ----
namespace {
int32_t* g_err = nullptr;
}

int32_t* error_word() {
  if (!g_err) check(cudaMalloc(&g_err, sizeof(int32_t)), "cudaMalloc(error word)");
  return g_err;
}
void reset_error_word() { check(cudaMemsetAsync(error_word(), 0x7f, sizeof(int32_t), 0), "reset error word"); }
int64_t read_error_word() {
  int32_t v = 0;
  check(cudaMemcpy(&v, error_word(), sizeof(int32_t), cudaMemcpyDeviceToHost), "read error word");
  return v == kClean ? -1 : static_cast<int64_t>(v);
}

void raise_index_error(const char* arg, int64_t pos, const int32_t* idx, int64_t rows) {
  int32_t bad = 0;
  cudaMemcpy(&bad, idx + pos, sizeof(int32_t), cudaMemcpyDeviceToHost);
  throw Error(ErrorCode::Index, std::string("argument '") + arg + "': index " + std::to_string(bad) + " at position " +
                                    std::to_string(pos) + " is outside [0, " + std::to_string(rows) + ")");
}

void throw_if_bad(const char* arg, const int32_t* idx, int64_t rows) {
  int64_t pos = read_error_word();
  if (pos >= 0) raise_index_error(arg, pos, idx, rows);
}

}  // namespace qarm::cuda
