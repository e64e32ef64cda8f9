// Runtime choice of the instruction set used by the SIMD kernels in isa/.
// isa/*.cc is compiled once per instruction set into its own namespace (avx512, avx2,
// generic); QARM_ISA_SELECT picks the best one the CPU supports, or the one forced with
// QARM_ISA / set_isa() (capped to what the CPU can run), so tests can cover every path.
#pragma once

namespace qarm {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

Isa cpu_isa();             // the instruction set kernels use now
Isa best_supported_isa();  // the best one this CPU runs
// Forces an instruction set; returns the one actually in force (never above the CPU's).
Isa set_isa(Isa isa);
const char* isa_name(Isa isa);

}  // namespace qarm

#if defined(__x86_64__) || defined(_M_X64)
#define QARM_X86 1
#define QARM_ISA_SELECT(fn)                                       \
  (::qarm::cpu_isa() == ::qarm::Isa::Avx512 ? &::qarm::avx512::fn \
   : ::qarm::cpu_isa() == ::qarm::Isa::Avx2 ? &::qarm::avx2::fn   \
                                            : &::qarm::generic::fn)
#define QARM_ISA_DECLARE(decl) \
  namespace qarm {             \
  namespace avx512 {           \
  decl;                        \
  }                            \
  namespace avx2 {             \
  decl;                        \
  }                            \
  namespace generic {          \
  decl;                        \
  }                            \
  }
#else
#define QARM_ISA_SELECT(fn) (&::qarm::generic::fn)
#define QARM_ISA_DECLARE(decl) \
  namespace qarm {             \
  namespace generic {          \
  decl;                        \
  }                            \
  }
#endif
