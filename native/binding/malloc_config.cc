// Process-wide glibc malloc settings, applied once when the addon loads.
//
// Why: CPU tensors are typed arrays that Node allocates with calloc and frees at some later
// GC, and training allocates many blocks of a few hundred KiB per step (a batch of
// embeddings, activations, gradients), plus a few MiB-sized ones at each validation pass.
// glibc serves blocks above M_MMAP_THRESHOLD (128 KiB by default) with mmap, but the
// threshold is dynamic: each time a larger mmapped block is freed it is raised to that size
// (up to 32 MiB), and the heap trim threshold with it, so from then on such blocks come from
// the heap and the arenas keep what they free. As the threshold drifts up during a run, RSS
// creeps up with it although live tensors and the V8 heap stay flat (measured: +7 % over
// 10,000 ranker steps after a 5,000-step warm-up, still rising for ~20,000 steps more).
// A fixed threshold (any value; we keep glibc's own default) turns the drift off and RSS is
// flat after warm-up (bench/results/leak.md), for a little more system time spent in
// mmap/munmap. The same as starting with MALLOC_MMAP_THRESHOLD_=131072; a user who sets that
// variable (or GLIBC_TUNABLES) keeps their own choice.
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
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") || (tunables && (std::strstr(tunables, "mmap_threshold") || std::strstr(tunables, "trim_threshold")))) return;
    // Both at glibc's defaults: by the time the addon loads, Node's start-up may already have
    // raised them, and setting the mmap threshold alone leaves the trim threshold raised.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  });
#endif
}

}  // namespace qarm::binding
