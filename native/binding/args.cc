#include "args.h"

#include <cmath>
#include <vector>

namespace qarm::binding {

void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

Napi::Error to_js_error(Napi::Env env, ErrorCode code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, error_code_name(code)));
  return err;
}

namespace {
std::string arg(const char* name) { return std::string("argument '") + name + "'"; }
}  // namespace

Napi::Float32Array f32(const Napi::CallbackInfo& info, size_t i, const char* name,
                       int64_t min_length) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    fail(ErrorCode::DType, arg(name) + " must be a Float32Array");
  auto a = info[i].As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_length)
    fail(ErrorCode::Shape, arg(name) + " has " + std::to_string(a.ElementLength()) +
                               " elements, needs at least " + std::to_string(min_length));
  return a;
}

Napi::Int32Array i32(const Napi::CallbackInfo& info, size_t i, const char* name,
                     int64_t min_length) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    fail(ErrorCode::DType, arg(name) + " must be an Int32Array");
  auto a = info[i].As<Napi::Int32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_length)
    fail(ErrorCode::Shape, arg(name) + " has " + std::to_string(a.ElementLength()) +
                               " elements, needs at least " + std::to_string(min_length));
  return a;
}

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo,
                int64_t hi) {
  if (i >= info.Length() || !info[i].IsNumber())
    fail(ErrorCode::Value, arg(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v != std::floor(v))
    fail(ErrorCode::Value, arg(name) + " must be an integer, got " + std::to_string(v));
  if (v < static_cast<double>(lo) || v > static_cast<double>(hi))
    fail(ErrorCode::Value, arg(name) + " = " + std::to_string(static_cast<int64_t>(v)) +
                               " is outside [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]");
  return static_cast<int64_t>(v);
}

double number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber())
    fail(ErrorCode::Value, arg(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolean(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean())
    fail(ErrorCode::Value, arg(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> int_list(const Napi::CallbackInfo& info, size_t i, const char* name,
                              int64_t lo, int64_t hi) {
  if (i >= info.Length() || !info[i].IsArray()) fail(ErrorCode::Value, arg(name) + " must be an array");
  auto a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) fail(ErrorCode::Value, arg(name) + " must hold numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) ||
        d > static_cast<double>(hi))
      fail(ErrorCode::Value, arg(name) + "[" + std::to_string(k) + "] is out of range");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

}  // namespace qarm::binding
