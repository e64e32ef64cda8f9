// N-API glue for the MPI collectives of lib/dist (native/dist/mpi_loader.cc does the MPI
// calls). Everything moves bytes: lib/dist chooses chunk sizes, offsets and the order of the
// sums; this file checks that every count and offset stays inside the buffers before MPI sees
// them, since MPI itself would read or write out of bounds.
#include <napi.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../dist/mpi_loader.h"
#include "args.h"

namespace qarm::binding {
namespace {

using qarm::dist::MpiInfo;

Napi::Uint8Array bytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    fail(ErrorCode::DType, std::string("argument '") + name + "' must be a Uint8Array");
  return info[i].As<Napi::Uint8Array>();
}

constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

Napi::Value MpiInit(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) fail(ErrorCode::Value, "argument 'library' must be a string");
    const MpiInfo& m = qarm::dist::mpi_init(info[0].As<Napi::String>().Utf8Value());
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("rank", m.rank);
    o.Set("size", m.size);
    o.Set("library", m.library);
    o.Set("version", m.version);
    o.Set("ownsInit", m.owns_init);
    return o;
  });
}

// mpiAllgatherv(send, recv, counts, displs, rank): rank r's `counts[r]` bytes land at
// recv[displs[r]]; `send` must hold exactly counts[rank] bytes.
Napi::Value MpiAllgatherv(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto send = bytes(info, 0, "send");
    auto recv = bytes(info, 1, "recv");
    auto counts = i32(info, 2, "counts", 1);
    auto displs = i32(info, 3, "displs", 1);
    int64_t size = static_cast<int64_t>(counts.ElementLength());
    int64_t rank = integer(info, 4, "rank", 0, size - 1);
    if (static_cast<int64_t>(displs.ElementLength()) != size)
      fail(ErrorCode::Shape, "argument 'displs' has " + std::to_string(displs.ElementLength()) +
                                 " entries, 'counts' has " + std::to_string(size));
    int64_t recv_len = static_cast<int64_t>(recv.ByteLength());
    for (int64_t r = 0; r < size; ++r) {
      int64_t c = counts[r], d = displs[r];
      if (c < 0 || d < 0 || d + c > recv_len)
        fail(ErrorCode::Index, "argument 'counts'/'displs': rank " + std::to_string(r) + " block [" + std::to_string(d) +
                                   ", " + std::to_string(d + c) + ") is outside recv (" + std::to_string(recv_len) +
                                   " bytes)");
    }
    if (static_cast<int64_t>(send.ByteLength()) != counts[rank])
      fail(ErrorCode::Shape, "argument 'send' has " + std::to_string(send.ByteLength()) + " bytes, counts[" +
                                 std::to_string(rank) + "] = " + std::to_string(counts[rank]));
    qarm::dist::mpi_allgatherv(send.Data(), counts[rank], recv.Data(), counts.Data(), displs.Data());
    return info.Env().Undefined();
  });
}

// mpiBcast(buf, root): root's bytes overwrite every other rank's buf (same length everywhere).
Napi::Value MpiBcast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto buf = bytes(info, 0, "buf");
    int64_t root = integer(info, 1, "root", 0, kMaxInt);
    if (static_cast<int64_t>(buf.ByteLength()) > kMaxInt)
      fail(ErrorCode::Shape, "argument 'buf' has " + std::to_string(buf.ByteLength()) + " bytes, more than one MPI call moves");
    qarm::dist::mpi_bcast(buf.Data(), static_cast<int>(buf.ByteLength()), static_cast<int>(root));
    return info.Env().Undefined();
  });
}

Napi::Value MpiFinalize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    qarm::dist::mpi_finalize();
    return info.Env().Undefined();
  });
}

Napi::Value MpiAbort(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    qarm::dist::mpi_abort(static_cast<int>(integer(info, 0, "code", 0, 255)));
    return info.Env().Undefined();
  });
}

}  // namespace

void register_dist(Napi::Env env, Napi::Object exports) {
  exports.Set("mpiInit", Napi::Function::New(env, MpiInit));
  exports.Set("mpiAllgatherv", Napi::Function::New(env, MpiAllgatherv));
  exports.Set("mpiBcast", Napi::Function::New(env, MpiBcast));
  exports.Set("mpiFinalize", Napi::Function::New(env, MpiFinalize));
  exports.Set("mpiAbort", Napi::Function::New(env, MpiAbort));
}

}  // namespace qarm::binding
