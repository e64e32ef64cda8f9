#include "args.h"

#include <cmath>
#include <limits>
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

Napi::Float32Array f32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min_length) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    fail(ErrorCode::DType, arg(name) + " must be a Float32Array");
  auto a = info[i].As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_length)
    fail(ErrorCode::Shape, arg(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs at least " +
                               std::to_string(min_length));
  return a;
}

Napi::Int32Array i32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min_length) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    fail(ErrorCode::DType, arg(name) + " must be an Int32Array");
  auto a = info[i].As<Napi::Int32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < min_length)
    fail(ErrorCode::Shape, arg(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs at least " +
                               std::to_string(min_length));
  return a;
}

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi) {
  if (i >= info.Length() || !info[i].IsNumber()) fail(ErrorCode::Value, arg(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v != std::floor(v))
    fail(ErrorCode::Value, arg(name) + " must be an integer, got " + std::to_string(v));
  if (v < static_cast<double>(lo) || v > static_cast<double>(hi))
    fail(ErrorCode::Value, arg(name) + " = " + std::to_string(static_cast<int64_t>(v)) + " is outside [" +
                               std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(v);
}

double number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) fail(ErrorCode::Value, arg(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolean(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) fail(ErrorCode::Value, arg(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> int_list(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi) {
  if (i >= info.Length() || !info[i].IsArray()) fail(ErrorCode::Value, arg(name) + " must be an array");
  auto a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) fail(ErrorCode::Value, arg(name) + " must hold numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
      fail(ErrorCode::Value, arg(name) + "[" + std::to_string(k) + "] is out of range");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::string str_arg(const Napi::CallbackInfo& info, size_t i, const char* fallback) {
  if (i < info.Length() && info[i].IsString()) return info[i].As<Napi::String>();
  return fallback;
}

bool present(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && !info[i].IsNull() && !info[i].IsUndefined();
}

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) fail(ErrorCode::Shape, arg(what) + ": size overflows");
  return a * b;
}

int64_t strided_extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, const char* what) {
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return 0;
    const int64_t step = checked_mul(shape[d] - 1, strides[d], what);
    if (off > std::numeric_limits<int64_t>::max() - step - 1) fail(ErrorCode::Shape, arg(what) + ": size overflows");
    off += step;
  }
  return off + 1;
}

UnaryOp unary_op_arg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<UnaryOp>(integer(info, i, "op", 0, kUnaryOpCount - 1));
}

BinaryOp binary_op_arg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<BinaryOp>(integer(info, i, "op", 0, kBinaryOpCount - 1));
}

Metric metric_arg(const Napi::CallbackInfo& info, size_t i) {
  std::string name = i < info.Length() && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  Metric m;
  if (!metric_from_name(name.c_str(), &m)) {
    std::string names;
    for (int k = 0; k < kMetricCount; ++k) names += std::string(k ? ", " : "") + "'" + kMetricNames[k] + "'";
    fail(ErrorCode::Value, "argument 'metric' must be one of " + names + ", got '" + name + "'");
  }
  return m;
}

}  // namespace qarm::binding
