// Process-wide glibc malloc settings, applied once when the addon loads.
//
// Why: CPU tensors are typed arrays that Node allocates with calloc and frees at some later
// GC, and training allocates many blocks of a few hundred KiB per step (a batch of
// embeddings, activations, gradients), plus a few MiB-sized ones at each validation pass.
// glibc serves blocks above M_MMAP_THRESHOLD (128 KiB by default) with mmap, but the
// threshold is dynamic: each time a larger mmapped block is freed it is raised to that size
// (up to 32 MiB), and the heap trim threshold with it, so from then on such blocks come from
// the heap and the arenas keep what they free. As the threshold drifts up during a run, RSS
// creeps up with it although live tensors and the V8 heap stay flat. A fixed threshold (any
// value) turns the drift off and RSS is flat after warm-up. The value matters for speed: at
// glibc's 128 KiB default every per-step tensor of a batch-1024 ranker step is a fresh mmap,
// page-faulted and zeroed each step, which costs a quarter or more of training throughput.
// The measurements of both are in bench/results/leak.md. We fix it at 32 MiB,
// the ceiling glibc's own drift would reach, with the trim threshold at twice that (as glibc
// pairs them): blocks up to 32 MiB are reused from the heap from the first step on. Starting
// with MALLOC_MMAP_THRESHOLD_ (or GLIBC_TUNABLES) set keeps the user's own choice.
#include "malloc_config.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace qarm::binding {

void configure_malloc() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
        (tunables && (std::strstr(tunables, "mmap_threshold") || std::strstr(tunables, "trim_threshold"))))
      return;
    // Both together: setting the mmap threshold alone leaves the trim threshold to drift.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  });
#endif
}

}  // namespace qarm::binding
