// Errors raised by kernels. The binding layer turns them into typed JS errors; the code
// picks the JS class and the message always names the offending argument.
#pragma once
#include <stdexcept>
#include <string>

namespace qarm {

enum class ErrorCode { Shape, DType, Device, Index, Value, IO, Disposed };

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::Shape:
      return "ERR_QARM_SHAPE";
    case ErrorCode::DType:
      return "ERR_QARM_DTYPE";
    case ErrorCode::Device:
      return "ERR_QARM_DEVICE";
    case ErrorCode::Index:
      return "ERR_QARM_INDEX";
    case ErrorCode::Value:
      return "ERR_QARM_VALUE";
    case ErrorCode::IO:
      return "ERR_QARM_IO";
    case ErrorCode::Disposed:
      return "ERR_QARM_DISPOSED";
  }
  return "ERR_QARM";
}

}  // namespace qarm
