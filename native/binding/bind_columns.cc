// N-API glue for strided column-block copies between float32 matrices (copy_columns in
// native/core/attention.h), behind the concatColumns / sliceColumns kernels.
#include <napi.h>

#include <limits>

#include "../core/attention.h"
#include "args.h"

namespace qarm::binding {
namespace {

// copyColumns(src, rows, srcCols, srcOff, dst, dstCols, dstOff, width)
Napi::Value CopyColumns(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int64_t rows = integer(info, 1, "rows", 0, std::numeric_limits<int64_t>::max() / 8);
    int64_t sc = integer(info, 2, "srcCols", 0, kMaxDim), so = integer(info, 3, "srcOff", 0, kMaxDim);
    int64_t dc = integer(info, 5, "dstCols", 0, kMaxDim), dof = integer(info, 6, "dstOff", 0, kMaxDim);
    int64_t w = integer(info, 7, "width", 0, kMaxDim);
    if (so + w > sc) fail(ErrorCode::Shape, "argument 'srcOff' + 'width' exceeds 'srcCols'");
    if (dof + w > dc) fail(ErrorCode::Shape, "argument 'dstOff' + 'width' exceeds 'dstCols'");
    auto src = f32(info, 0, "src", checked_mul(rows, sc, "src"));
    auto dst = f32(info, 4, "dst", checked_mul(rows, dc, "dst"));
    copy_columns(src.Data(), rows, sc, so, dst.Data(), dc, dof, w);
    return info.Env().Undefined();
  });
}

}  // namespace

void register_columns(Napi::Env env, Napi::Object exports) {
  exports.Set("copyColumns", Napi::Function::New(env, CopyColumns));
}

}  // namespace qarm::binding
