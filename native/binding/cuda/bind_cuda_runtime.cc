// Device discovery, raw buffers (the JS caching allocator sits on malloc/free) and copies.
#include <napi.h>

#include "../../cuda/api.h"
#include "device_args.h"

namespace qarm::binding::cuda_glue {
namespace cu = qarm::cuda;
namespace {

// {count, reason}: never throws, so the loader can probe a machine without a GPU.
Napi::Value DeviceCount(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  std::string reason;
  int n = 0;
  try {
    n = cu::device_count(&reason);
  } catch (const std::exception& e) {
    reason = e.what();
    n = 0;
  }
  o.Set("count", n);
  o.Set("reason", reason);
  return o;
}

Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cu::DeviceInfo d = cu::device_info();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("multiprocessors", d.sm_count);
    o.Set("totalBytes", static_cast<double>(d.total_bytes));
    o.Set("freeBytes", static_cast<double>(d.free_bytes));
    return o;
  });
}

Napi::Value Malloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t bytes = integer(info, 0, "bytes", 0, kMaxCount);
    void* p = cu::raw_malloc(static_cast<size_t>(bytes));
    register_allocation(p, static_cast<size_t>(bytes));
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    void* p = device_ptr(info, 0, "ptr", 0);
    forget_allocation(p);
    cu::raw_free(p);
    return info.Env().Undefined();
  });
}

Napi::TypedArray host_array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray())
    fail(ErrorCode::DType, std::string("argument '") + name + "' must be a typed array");
  return info[i].As<Napi::TypedArray>();
}

void* host_data(Napi::TypedArray a) { return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(); }

// upload(ptr, hostArray): the whole array to the start of the buffer.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::TypedArray h = host_array(info, 1, "data");
    void* p = device_ptr(info, 0, "ptr", h.ByteLength());
    cu::copy_h2d(p, host_data(h), h.ByteLength());
    return info.Env().Undefined();
  });
}

// download(ptr, hostArray): fills the whole array from the start of the buffer.
Napi::Value Download(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::TypedArray h = host_array(info, 1, "out");
    void* p = device_ptr(info, 0, "ptr", h.ByteLength());
    cu::copy_d2h(host_data(h), p, h.ByteLength());
    return info.Env().Undefined();
  });
}

// copy(dst, src, bytes)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t bytes = integer(info, 2, "bytes", 0, kMaxCount);
    void* dst = device_ptr(info, 0, "dst", bytes);
    void* src = device_ptr(info, 1, "src", bytes);
    cu::copy_d2d(dst, src, static_cast<size_t>(bytes));
    return info.Env().Undefined();
  });
}

// copy2d(dst, dstOffset, dstPitch, src, srcOffset, srcPitch, width, height), all in bytes:
// `height` runs of `width` bytes (concat, slice and pad are all this).
Napi::Value Copy2d(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t doff = integer(info, 1, "dstOffset", 0, kMaxCount), dpitch = integer(info, 2, "dstPitch", 0, kMaxCount);
    int64_t soff = integer(info, 4, "srcOffset", 0, kMaxCount), spitch = integer(info, 5, "srcPitch", 0, kMaxCount);
    int64_t width = integer(info, 6, "width", 0, kMaxCount), height = integer(info, 7, "height", 0, kMaxCount);
    if (width > dpitch || width > spitch) fail(ErrorCode::Shape, "argument 'width' exceeds a pitch");
    int64_t dneed = height ? doff + checked_mul(height - 1, dpitch, "dst") + width : 0;
    int64_t sneed = height ? soff + checked_mul(height - 1, spitch, "src") + width : 0;
    auto* dst = static_cast<uint8_t*>(device_ptr(info, 0, "dst", dneed));
    auto* src = static_cast<const uint8_t*>(device_ptr(info, 3, "src", sneed));
    cu::copy_2d(dst + doff, dpitch, src + soff, spitch, width, height);
    return info.Env().Undefined();
  });
}

Napi::Value MemsetZero(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t bytes = integer(info, 1, "bytes", 0, kMaxCount);
    cu::memset_zero(device_ptr(info, 0, "ptr", bytes), static_cast<size_t>(bytes));
    return info.Env().Undefined();
  });
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cu::synchronize();
    return info.Env().Undefined();
  });
}

Napi::Value GemmBackend(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), cu::gemm_backend()); });
}

Napi::Value SetGemmBuiltin(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), cu::set_gemm_builtin(boolean(info, 0, "builtin")));
  });
}

Napi::Value LiveAllocations(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(live_allocations()));
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceCount", Napi::Function::New(env, DeviceCount));
  exports.Set("deviceInfo", Napi::Function::New(env, DeviceInfo));
  exports.Set("malloc", Napi::Function::New(env, Malloc));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("download", Napi::Function::New(env, Download));
  exports.Set("copy", Napi::Function::New(env, Copy));
  exports.Set("copy2d", Napi::Function::New(env, Copy2d));
  exports.Set("memsetZero", Napi::Function::New(env, MemsetZero));
  exports.Set("synchronize", Napi::Function::New(env, Synchronize));
  exports.Set("gemmBackend", Napi::Function::New(env, GemmBackend));
  exports.Set("setGemmBuiltin", Napi::Function::New(env, SetGemmBuiltin));
  exports.Set("liveAllocations", Napi::Function::New(env, LiveAllocations));
}

}  // namespace qarm::binding::cuda_glue
