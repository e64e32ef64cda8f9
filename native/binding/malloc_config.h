// Process-wide allocator settings applied at addon load (see malloc_config.cc for why).
#pragma once

namespace qarm::binding {
// Fixes glibc's mmap threshold (no-op elsewhere and when the user set it). Idempotent.
void configure_malloc();
}  // namespace qarm::binding
