// A warp-held sorted list of the best (smallest) (value, index) pairs, used by the fused
// nearest-codeword kernels. Position p = s * 32 + lane lives in slot s of lane `lane`, so a
// list of SLOTS * 32 entries costs 2 * SLOTS registers per lane, and inserting one candidate
// is a handful of warp shuffles whatever its position. Order: value ascending, ties to the
// lower index (the CPU contract). Every function must be called by all 32 lanes.
#pragma once
#include <cstdint>
#include <cfloat>

namespace qarm::cuda {

__device__ __forceinline__ bool pair_less(float a, int32_t ai, float b, int32_t bi) {
  return a < b || (a == b && ai < bi);
}

template <int SLOTS>
struct WarpList {
  float v[SLOTS];
  int32_t i[SLOTS];

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int s = 0; s < SLOTS; ++s) {
      v[s] = FLT_MAX;
      i[s] = INT32_MAX;
    }
  }

  // The entry at position p (all lanes receive it).
  __device__ __forceinline__ void at(int p, float& val, int32_t& idx) const {
    const int slot = p >> 5, src = p & 31;
    float sv = v[0];
    int32_t si = i[0];
#pragma unroll
    for (int s = 1; s < SLOTS; ++s)
      if (s == slot) {
        sv = v[s];
        si = i[s];
      }
    val = __shfl_sync(0xffffffffu, sv, src);
    idx = __shfl_sync(0xffffffffu, si, src);
  }

  // Inserts (val, idx) (same on all lanes) at its sorted place, dropping the last entry.
  __device__ __forceinline__ void insert(float val, int32_t idx) {
    const int lane = threadIdx.x & 31;
    int pos = 0;
#pragma unroll
    for (int s = 0; s < SLOTS; ++s) pos += __popc(__ballot_sync(0xffffffffu, pair_less(v[s], i[s], val, idx)));
      // Shift positions >= pos up by one, highest slot first so lane 31 of slot s - 1 is read
      // before that slot changes.
#pragma unroll
    for (int s = SLOTS - 1; s >= 0; --s) {
      float up_v = __shfl_up_sync(0xffffffffu, v[s], 1);
      int32_t up_i = __shfl_up_sync(0xffffffffu, i[s], 1);
      if (s > 0) {
        float carry_v = __shfl_sync(0xffffffffu, v[s > 0 ? s - 1 : 0], 31);
        int32_t carry_i = __shfl_sync(0xffffffffu, i[s > 0 ? s - 1 : 0], 31);
        if (lane == 0) {
          up_v = carry_v;
          up_i = carry_i;
        }
      }
      const int p = s * 32 + lane;
      if (p > pos) {
        v[s] = up_v;
        i[s] = up_i;
      } else if (p == pos) {
        v[s] = val;
        i[s] = idx;
      }
    }
  }

  // Offers each lane's candidate (val, idx) (valid where `ok`); keeps the best `k`.
  // `kth_*` caches the current k-th entry so most candidates are rejected by one compare.
  __device__ __forceinline__ void offer(bool ok, float val, int32_t idx, int k, float& kth_v, int32_t& kth_i) {
    unsigned mask = __ballot_sync(0xffffffffu, ok && pair_less(val, idx, kth_v, kth_i));
    while (mask) {
      const int src = __ffs(mask) - 1;
      mask &= mask - 1;
      const float cv = __shfl_sync(0xffffffffu, val, src);
      const int32_t ci = __shfl_sync(0xffffffffu, idx, src);
      if (pair_less(cv, ci, kth_v, kth_i)) {
        insert(cv, ci);
        at(k - 1, kth_v, kth_i);
      }
    }
  }
};

}  // namespace qarm::cuda
