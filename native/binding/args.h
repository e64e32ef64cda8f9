// Argument checking for the N-API surface of both addons (the CPU addon and qarm_cuda.node
// link this file). Every entry point reads its arguments through these helpers, so a wrong
// type or a too-short buffer becomes a typed JS error naming the argument rather than an
// out-of-bounds access.
#pragma once
#include <napi.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../common/op_codes.h"
#include "../core/error.h"

namespace qarm::binding {

[[noreturn]] void fail(ErrorCode code, const std::string& message);

Napi::Float32Array f32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min_length);
Napi::Int32Array i32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min_length);
// An integer argument within [lo, hi].
int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi);
double number(const Napi::CallbackInfo& info, size_t i, const char* name);
bool boolean(const Napi::CallbackInfo& info, size_t i, const char* name);
// An array of integers (shape or strides), each within [lo, hi].
std::vector<int64_t> int_list(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi);
// The string at i, or `fallback` when it is not a string (optional argument names).
std::string str_arg(const Napi::CallbackInfo& info, size_t i, const char* fallback);
// Whether an optional argument was given (not null/undefined).
bool present(const Napi::CallbackInfo& info, size_t i);

// Largest dimension (rows, columns, counts per row) a kernel accepts: int32 indexing.
constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
// a * b, or a ShapeError on argument `what` when the product overflows.
int64_t checked_mul(int64_t a, int64_t b, const char* what);
// Largest element offset a strided view over `shape` reaches, plus one (0 for an empty
// shape); overflow-checked, so an absurd stride fails the length check instead of wrapping.
int64_t strided_extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, const char* what);

// Op codes (native/common/op_codes.h): unary/binary ops by number, the metric by name.
UnaryOp unary_op_arg(const Napi::CallbackInfo& info, size_t i);
BinaryOp binary_op_arg(const Napi::CallbackInfo& info, size_t i);
Metric metric_arg(const Napi::CallbackInfo& info, size_t i);

// Wraps a binding body: turns qarm::Error and std exceptions into JS errors with a `code`.
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body);

Napi::Error to_js_error(Napi::Env env, ErrorCode code, const std::string& message);

template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw to_js_error(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw to_js_error(env, ErrorCode::Value, "out of memory");
  } catch (const std::exception& e) {
    throw to_js_error(env, ErrorCode::Value, e.what());
  }
}

// Registration hook each bind_*.cc file provides; addon.cc calls them all.
using Register = void (*)(Napi::Env, Napi::Object);

}  // namespace qarm::binding
