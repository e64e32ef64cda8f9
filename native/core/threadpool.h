// A fixed pool of worker threads with a static, deterministic partitioning of work.
// Kernels split their iteration space into chunks whose boundaries depend only on the
// problem size (never on the thread count), so every reduction happens in the same order
// however many threads run it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace qarm {

// Number of worker threads used by parallel_for (>= 1).
int num_threads();
// Sets the thread count; n <= 0 restores the default (QARM_NUM_THREADS or hardware cores).
void set_num_threads(int n);

// Runs fn(chunk_index) for chunk_index in [0, num_chunks), spread over the pool.
// The calling thread takes part. Calls from inside a running parallel_for run serially.
void parallel_chunks(int64_t num_chunks, const std::function<void(int64_t)>& fn);

// Splits [0, n) into chunks of `grain` items (the last may be shorter) and runs
// fn(begin, end) for each. Chunk boundaries depend only on n and grain.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace qarm
