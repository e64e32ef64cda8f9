// cuBLAS at run time: the CUDA toolkit on the build machine may lack cuBLAS (ours does), and
// users' machines may have it from a driver/toolkit/PyTorch install. So nothing links
// against it: the first GEMM tries to dlopen libcublas, resolves the four entry points it
// needs by name (their C ABI is stable across 11.x-13.x), and otherwise the built-in tiled
// kernel (gemm.cu) runs. QARM_CUBLAS=0 disables the lookup; QARM_CUBLAS=/path/libcublas.so
// names a specific library.
#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string>

#include "../core/error.h"

namespace qarm::cuda {
namespace {

using Handle = void*;
// cublasStatus_t, cublasOperation_t and cublasMath_t are C enums (int-sized).
using CreateFn = int (*)(Handle*);
using DestroyFn = int (*)(Handle);
using SetMathModeFn = int (*)(Handle, int);
using SgemmFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int, const float*, int,
                        const float*, float*, int);
constexpr int kOpN = 0, kOpT = 1;
constexpr int kPedanticMath = 2;  // CUBLAS_PEDANTIC_MATH: true fp32, never TF32

struct Cublas {
  void* lib = nullptr;
  Handle handle = nullptr;
  SgemmFn sgemm = nullptr;
  bool tried = false;
};

Cublas g;
std::mutex g_mu;

void load() {
  g.tried = true;
  const char* env = std::getenv("QARM_CUBLAS");
  if (env && std::string(env) == "0") return;
  const char* names[] = {env, "libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"};
  for (const char* n : names) {
    if (!n || !*n) continue;
    g.lib = dlopen(n, RTLD_NOW | RTLD_LOCAL);
    if (g.lib) break;
  }
  if (!g.lib) return;
  auto create = reinterpret_cast<CreateFn>(dlsym(g.lib, "cublasCreate_v2"));
  auto mode = reinterpret_cast<SetMathModeFn>(dlsym(g.lib, "cublasSetMathMode"));
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(g.lib, "cublasSgemm_v2"));
  if (!create || !sgemm || create(&g.handle) != 0) {
    dlclose(g.lib);
    g.lib = nullptr;
    g.handle = nullptr;
    return;
  }
  // Match the CPU and the built-in kernel: fp32 products, no silent TF32 down-conversion.
  if (mode) mode(g.handle, kPedanticMath);
  g.sgemm = sgemm;
}

bool fits_int(int64_t v) { return v >= 0 && v <= std::numeric_limits<int>::max(); }

}  // namespace

bool cublas_available() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g.tried) load();
  return g.sgemm != nullptr;
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands and
// the M/N roles, keep each operand's own transpose flag.
bool cublas_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (!cublas_available()) return false;
  if (!fits_int(M) || !fits_int(N) || !fits_int(K) || !fits_int(lda) || !fits_int(ldb) || !fits_int(ldc)) return false;
  int st = g.sgemm(g.handle, tb ? kOpT : kOpN, ta ? kOpT : kOpN, static_cast<int>(N), static_cast<int>(M),
                   static_cast<int>(K), &alpha, B, static_cast<int>(ldb < 1 ? 1 : ldb), A,
                   static_cast<int>(lda < 1 ? 1 : lda), &beta, C, static_cast<int>(ldc < 1 ? 1 : ldc));
  if (st != 0) throw Error(ErrorCode::Device, "cublasSgemm failed with status " + std::to_string(st));
  return true;
}

}  // namespace qarm::cuda
