// MPI at run time. The addon must build and run where MPI is not installed (most users, CI's
// build step), so nothing includes mpi.h or links libmpi: the first distributed call dlopens
// the library (QARM_MPI_LIB or Open MPI's libmpi.so.40, chosen in lib/dist) and resolves the
// few entry points it needs by name.
//
// Without mpi.h the types come from one implementation's ABI, and this file targets Open MPI's
// (libmpi.so.40: Open MPI 3.x, 4.x and 5.x): a communicator or datatype handle is a pointer to
// a struct, and the predefined handles MPI_COMM_WORLD and MPI_BYTE are the addresses of the
// exported objects `ompi_mpi_comm_world` and `ompi_mpi_byte`; MPI_THREAD_FUNNELED is 1. MPICH
// and its derivatives use integer handles instead, so a library without those two symbols is
// refused by name rather than called with the wrong types.
//
// The library is opened RTLD_GLOBAL because Open MPI loads its own components (mca_*.so) with
// dlopen, and they resolve libmpi/libopen-pal symbols from the global scope. It is never closed
// once MPI is initialised: Open MPI cannot be unloaded or initialised twice in one process.
#include "mpi_loader.h"

#include <dlfcn.h>

#include <memory>
#include <mutex>
#include <thread>

#include "../core/error.h"

namespace qarm::dist {
namespace {

using Handle = void*;  // MPI_Comm and MPI_Datatype: pointers to Open MPI structs
using InitializedFn = int (*)(int*);
using InitThreadFn = int (*)(int*, char***, int, int*);
using CommIntFn = int (*)(Handle, int*);  // MPI_Comm_rank, MPI_Comm_size
using AllgathervFn = int (*)(const void*, int, Handle, void*, const int*, const int*, Handle, Handle);
using BcastFn = int (*)(void*, int, Handle, int, Handle);
using FinalizeFn = int (*)();
using AbortFn = int (*)(Handle, int);
using LibraryVersionFn = int (*)(char*, int*);

constexpr int kSuccess = 0;         // MPI_SUCCESS
constexpr int kThreadFunneled = 1;  // Open MPI's MPI_THREAD_FUNNELED
// Open MPI's MPI_MAX_LIBRARY_VERSION_STRING is 256; the buffer leaves room for any version.
constexpr int kVersionBuffer = 8192;

struct Api {
  InitializedFn initialized = nullptr;
  InitializedFn finalized = nullptr;
  InitThreadFn init_thread = nullptr;
  CommIntFn comm_rank = nullptr;
  CommIntFn comm_size = nullptr;
  AllgathervFn allgatherv = nullptr;
  BcastFn bcast = nullptr;
  FinalizeFn finalize = nullptr;
  AbortFn abort = nullptr;
  LibraryVersionFn library_version = nullptr;
  Handle comm_world = nullptr;
  Handle byte = nullptr;
};

struct DlClose {
  void operator()(void* h) const {
    if (h) dlclose(h);
  }
};
using Library = std::unique_ptr<void, DlClose>;

struct State {
  Api api;
  MpiInfo info;
  bool ready = false;
  bool finalized = false;
  std::thread::id owner;
};

State g;
std::mutex g_mu;

template <class T>
T symbol(void* lib, const char* name, const std::string& library) {
  void* p = dlsym(lib, name);
  if (!p) throw Error(ErrorCode::IO, "MPI library '" + library + "' has no symbol " + name);
  return reinterpret_cast<T>(p);
}

void check(int rc, const char* call) {
  if (rc != kSuccess)
    throw Error(ErrorCode::Device, std::string(call) + " failed with MPI error " + std::to_string(rc));
}

void check_thread(const char* call) {
  if (!g.ready) throw Error(ErrorCode::Device, std::string(call) + ": MPI is not initialised (or already finalized)");
  if (std::this_thread::get_id() != g.owner)
    throw Error(ErrorCode::Device, std::string(call) + ": MPI may only be called from the thread that initialised it");
}

Api resolve(void* lib, const std::string& library) {
  // The ABI check first, so that an MPICH-family library gets the clear refusal.
  Api a;
  a.comm_world = dlsym(lib, "ompi_mpi_comm_world");
  a.byte = dlsym(lib, "ompi_mpi_byte");
  if (!a.comm_world || !a.byte)
    throw Error(ErrorCode::IO, "MPI library '" + library +
                                   "' is not Open MPI (no ompi_mpi_comm_world/ompi_mpi_byte symbols): qarm targets the "
                                   "Open MPI ABI (libmpi.so.40)");
  a.initialized = symbol<InitializedFn>(lib, "MPI_Initialized", library);
  a.finalized = symbol<InitializedFn>(lib, "MPI_Finalized", library);
  a.init_thread = symbol<InitThreadFn>(lib, "MPI_Init_thread", library);
  a.comm_rank = symbol<CommIntFn>(lib, "MPI_Comm_rank", library);
  a.comm_size = symbol<CommIntFn>(lib, "MPI_Comm_size", library);
  a.allgatherv = symbol<AllgathervFn>(lib, "MPI_Allgatherv", library);
  a.bcast = symbol<BcastFn>(lib, "MPI_Bcast", library);
  a.finalize = symbol<FinalizeFn>(lib, "MPI_Finalize", library);
  a.abort = symbol<AbortFn>(lib, "MPI_Abort", library);
  a.library_version = symbol<LibraryVersionFn>(lib, "MPI_Get_library_version", library);
  return a;
}

}  // namespace

const MpiInfo& mpi_init(const std::string& library) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g.ready || g.finalized) {
    if (g.finalized)
      throw Error(ErrorCode::Device, "MPI was finalized; it cannot be initialised again in this process");
    return g.info;
  }
  dlerror();
  Library lib(dlopen(library.c_str(), RTLD_NOW | RTLD_GLOBAL));
  if (!lib) {
    const char* why = dlerror();
    throw Error(ErrorCode::IO, "cannot load MPI library '" + library + "': " + (why ? why : "dlopen failed"));
  }
  Api api = resolve(lib.get(), library);

  std::string version(kVersionBuffer, '\0');
  int vlen = 0;
  if (api.library_version(version.data(), &vlen) == kSuccess && vlen >= 0 && vlen < kVersionBuffer)
    version.resize(vlen);
  else
    version.clear();
  while (!version.empty() && (version.back() == '\n' || version.back() == '\0')) version.pop_back();

  int already = 0;
  check(api.initialized(&already), "MPI_Initialized");
  bool owns = false;
  if (!already) {
    int provided = 0;
    check(api.init_thread(nullptr, nullptr, kThreadFunneled, &provided), "MPI_Init_thread");
    owns = true;
  }
  int rank = 0, size = 1;
  check(api.comm_rank(api.comm_world, &rank), "MPI_Comm_rank");
  check(api.comm_size(api.comm_world, &size), "MPI_Comm_size");

  lib.release();  // MPI is live: the library stays loaded for the life of the process
  g.api = api;
  g.info = MpiInfo{rank, size, library, version, owns};
  g.owner = std::this_thread::get_id();
  g.ready = true;
  return g.info;
}

bool mpi_ready() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g.ready;
}

MpiInfo mpi_info() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g.ready) throw Error(ErrorCode::Device, "MPI is not initialised (or already finalized)");
  return g.info;
}

void mpi_allgatherv(const void* send, int send_count, void* recv, const int* counts, const int* displs) {
  check_thread("MPI_Allgatherv");
  check(g.api.allgatherv(send, send_count, g.api.byte, recv, counts, displs, g.api.byte, g.api.comm_world),
        "MPI_Allgatherv");
}

void mpi_bcast(void* buf, int count, int root) {
  check_thread("MPI_Bcast");
  check(g.api.bcast(buf, count, g.api.byte, root, g.api.comm_world), "MPI_Bcast");
}

void mpi_finalize() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g.ready) return;
  g.ready = false;
  g.finalized = true;
  if (!g.info.owns_init) return;
  int done = 0;
  if (g.api.finalized(&done) == kSuccess && !done) g.api.finalize();
}

void mpi_abort(int code) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g.ready) return;
  g.api.abort(g.api.comm_world, code);
}

}  // namespace qarm::dist
