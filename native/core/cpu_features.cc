#include "cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace qarm {
namespace {

Isa detect() {
#if defined(QARM_X86)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}

Isa from_env(Isa best) {
  const char* env = std::getenv("QARM_ISA");
  if (!env) return best;
  Isa want = best;
  if (!std::strcmp(env, "generic") || !std::strcmp(env, "scalar"))
    want = Isa::Generic;
  else if (!std::strcmp(env, "avx2"))
    want = Isa::Avx2;
  else if (!std::strcmp(env, "avx512"))
    want = Isa::Avx512;
  return want < best ? want : best;
}

std::atomic<int>& current() {
  static std::atomic<int> isa{static_cast<int>(from_env(best_supported_isa()))};
  return isa;
}

}  // namespace

Isa best_supported_isa() {
  static const Isa best = detect();
  return best;
}

Isa cpu_isa() { return static_cast<Isa>(current().load(std::memory_order_relaxed)); }

Isa set_isa(Isa isa) {
  Isa best = best_supported_isa();
  Isa use = isa < best ? isa : best;
  current().store(static_cast<int>(use));
  return use;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx2:
      return "avx2";
    default:
      return "generic";
  }
}

}  // namespace qarm
