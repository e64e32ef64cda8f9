// MPI at run time, for the collectives of lib/dist. Plain C++ (no Node headers): the N-API
// glue is native/binding/bind_dist.cc. Nothing links against MPI; see mpi_loader.cc for why and
// for the ABI it assumes.
#pragma once
#include <string>

namespace qarm::dist {

struct MpiInfo {
  int rank = 0;
  int size = 1;
  std::string library;     // the name or path that was dlopen'ed
  std::string version;     // MPI_Get_library_version's text
  bool owns_init = false;  // we called MPI_Init_thread, so we finalize
};

// Loads `library` (a dlopen name or path) and initialises MPI once; later calls return the
// first result whatever they pass. Throws Error(IO) when the library cannot be loaded or is not
// Open MPI, Error(Device) when MPI_Init_thread fails.
const MpiInfo& mpi_init(const std::string& library);

// Whether mpi_init succeeded and MPI is not finalized yet.
bool mpi_ready();

// What mpi_init reported (rank and size in MPI_COMM_WORLD); Error(Device) before mpi_init.
MpiInfo mpi_info();

// MPI_Allgatherv of bytes over MPI_COMM_WORLD. counts/displs have one entry per rank, in bytes.
// The caller checks the ranges; this only calls MPI (from the thread that initialised it).
void mpi_allgatherv(const void* send, int send_count, void* recv, const int* counts, const int* displs);

// MPI_Bcast of `count` bytes from `root` over MPI_COMM_WORLD.
void mpi_bcast(void* buf, int count, int root);

// MPI_Finalize, if we initialised MPI and nobody finalized it yet. Safe to call twice.
void mpi_finalize();

// MPI_Abort(MPI_COMM_WORLD, code): ends every rank (used when one rank fails, so the others do
// not wait forever in a collective).
void mpi_abort(int code);

}  // namespace qarm::dist
