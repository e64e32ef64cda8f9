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

// mpiAllgatherv(send, recv, counts, displs): rank r's `counts[r]` bytes land at recv[displs[r]];
// `send` must hold exactly this rank's count, and there is one count per rank.
Napi::Value MpiAllgatherv(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto send = bytes(info, 0, "send");
    auto recv = bytes(info, 1, "recv");
    auto counts = i32(info, 2, "counts", 0);
    auto displs = i32(info, 3, "displs", 0);
    // MPI reads one count and one offset per rank of the world: fewer would be read past.
    const MpiInfo world = qarm::dist::mpi_info();
    const size_t size = static_cast<size_t>(world.size);
    if (counts.ElementLength() != size || displs.ElementLength() != size)
      fail(ErrorCode::Shape, "argument 'counts' (and 'displs') needs one entry per rank (" + std::to_string(size) +
                                 "), got " + std::to_string(counts.ElementLength()) + " and " +
                                 std::to_string(displs.ElementLength()));
    const int32_t* cnt = counts.Data();
    const int32_t* dsp = displs.Data();
    const int64_t recv_len = static_cast<int64_t>(recv.ByteLength());
    for (size_t r = 0; r < size; ++r) {
      const int64_t c = cnt[r], d = dsp[r];
      if (c < 0 || d < 0 || d + c > recv_len)
        fail(ErrorCode::Index, "argument 'counts'/'displs': rank " + std::to_string(r) + " block [" +
                                   std::to_string(d) + ", " + std::to_string(d + c) + ") is outside recv (" +
                                   std::to_string(recv_len) + " bytes)");
    }
    const int32_t own = cnt[world.rank];
    if (static_cast<int64_t>(send.ByteLength()) != own)
      fail(ErrorCode::Shape, "argument 'send' has " + std::to_string(send.ByteLength()) + " bytes, counts[" +
                                 std::to_string(world.rank) + "] = " + std::to_string(own));
    qarm::dist::mpi_allgatherv(send.Data(), own, recv.Data(), cnt, dsp);
    return info.Env().Undefined();
  });
}

// mpiBcast(buf, root): root's bytes overwrite every other rank's buf (same length everywhere).
Napi::Value MpiBcast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto buf = bytes(info, 0, "buf");
    int64_t root = integer(info, 1, "root", 0, qarm::dist::mpi_info().size - 1);
    if (static_cast<int64_t>(buf.ByteLength()) > kMaxInt)
      fail(ErrorCode::Shape,
           "argument 'buf' has " + std::to_string(buf.ByteLength()) + " bytes, more than one MPI call moves");
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
