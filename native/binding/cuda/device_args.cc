#include "device_args.h"

#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>

namespace qarm::binding::cuda_glue {
namespace {
std::mutex g_mu;
std::unordered_map<uintptr_t, size_t> g_live;

std::string arg(const char* name) { return std::string("argument '") + name + "'"; }
}  // namespace

void register_allocation(void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_live[reinterpret_cast<uintptr_t>(p)] = bytes;
}

bool forget_allocation(void* p) {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_live.erase(reinterpret_cast<uintptr_t>(p)) > 0;
}

size_t live_allocations() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_live.size();
}

void* device_ptr(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min_bytes) {
  if (i >= info.Length() || !info[i].IsBigInt())
    fail(ErrorCode::Device, arg(name) + " must be a CUDA buffer address (BigInt)");
  bool lossless = false;
  uint64_t addr = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) fail(ErrorCode::Device, arg(name) + " is not a valid CUDA buffer address");
  size_t size = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_live.find(static_cast<uintptr_t>(addr));
    if (it == g_live.end()) fail(ErrorCode::Device, arg(name) + " is not a live CUDA buffer (freed or foreign)");
    size = it->second;
  }
  if (min_bytes > size)
    fail(ErrorCode::Shape,
         arg(name) + " holds " + std::to_string(size) + " bytes, the kernel needs " + std::to_string(min_bytes));
  return reinterpret_cast<void*>(static_cast<uintptr_t>(addr));
}

void* device_ptr_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min_bytes) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return device_ptr(info, i, name, min_bytes);
}

}  // namespace qarm::binding::cuda_glue
