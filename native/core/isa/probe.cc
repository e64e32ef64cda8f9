// Reports which instruction-set build is running, so tests can check the dispatch.
#include "simd.h"

namespace qarm {
namespace QARM_ISA_NS {

int vector_width() { return VecF::kWidth; }

}  // namespace QARM_ISA_NS
}  // namespace qarm
