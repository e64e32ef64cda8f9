// The seeded stream of lib/tensor/random.ts (xoshiro128**) on the device, for kernels that
// continue a Generator's stream from its int32 [4] state words (Generator.getState).
#pragma once
#include <cstdint>

namespace qarm::cuda {

struct Xoshiro {
  uint32_t s0, s1, s2, s3;
  __device__ static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  __device__ uint32_t next() {
    const uint32_t result = rotl(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }
  // Generator.uniform: top 24 bits / 2^24.
  __device__ double uniform() { return static_cast<double>(next() >> 8) / 16777216.0; }
  // Generator.int(n): floor(uniform53() * n).
  __device__ int64_t below(int64_t n) {
    const double hi = static_cast<double>(next() >> 5);
    const double lo = static_cast<double>(next() >> 6);
    const double u = __ddiv_rn(__dadd_rn(__dmul_rn(hi, 67108864.0), lo), 9007199254740992.0);
    return static_cast<int64_t>(floor(__dmul_rn(u, static_cast<double>(n))));
  }
  __device__ void load(const int32_t* w) {
    s0 = static_cast<uint32_t>(w[0]), s1 = static_cast<uint32_t>(w[1]), s2 = static_cast<uint32_t>(w[2]),
    s3 = static_cast<uint32_t>(w[3]);
  }
  __device__ void store(int32_t* w) const {
    w[0] = static_cast<int32_t>(s0), w[1] = static_cast<int32_t>(s1), w[2] = static_cast<int32_t>(s2),
    w[3] = static_cast<int32_t>(s3);
  }
};

}  // namespace qarm::cuda
