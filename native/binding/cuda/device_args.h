// Device pointers at the N-API boundary. JS holds device buffers as BigInt addresses handed
// out by `malloc`; this registry remembers every live allocation and its size, so each
// argument is checked to be a live base address with room for what the kernel will touch
// (a stale, forged or too-small pointer is a typed JS error, never a device fault).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "../args.h"

namespace qarm::binding::cuda_glue {

void register_allocation(void* p, size_t bytes);
// Forgets p; false when it was not live.
bool forget_allocation(void* p);
size_t live_allocations();

// The live device buffer at argument i, checked to hold at least min_bytes.
void* device_ptr(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min_bytes);
// Same, or nullptr when the argument is null/undefined.
void* device_ptr_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t min_bytes);

template <class T>
T* dev(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min_elems) {
  return static_cast<T*>(device_ptr(info, i, name, static_cast<uint64_t>(min_elems) * sizeof(T)));
}

// Elements a device buffer may hold (the checks of args.h cover the rest).
constexpr int64_t kMaxCount = int64_t(1) << 40;

}  // namespace qarm::binding::cuda_glue
