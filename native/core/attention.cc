#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu_features.h"
#include "threadpool.h"

namespace qarm {

void weighted_pool(const float* w, const float* k, float* out, int64_t B, int64_t M, int64_t H, int64_t D) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(M * H * D, 1));
  parallel_for(B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* kb = k + b * H * D;
      for (int64_t m = 0; m < M; ++m) {
        const float* wm = w + (b * M + m) * H;
        float* __restrict o = out + (b * M + m) * D;
        std::memset(o, 0, sizeof(float) * static_cast<size_t>(D));
        for (int64_t h = 0; h < H; ++h) {
          const float c = wm[h];
          if (c == 0.f) continue;
          const float* __restrict kr = kb + h * D;
          for (int64_t j = 0; j < D; ++j) o[j] += c * kr[j];
        }
      }
    }
  });
}

void weighted_pool_backward(const float* w, const float* k, const float* dout, float* dw, float* dk, int64_t B,
                            int64_t M, int64_t H, int64_t D) {
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(M * H * D, 1));
  parallel_for(B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* kb = k + b * H * D;
      const float* db = dout + b * M * D;
      for (int64_t h = 0; h < H; ++h) {
        const float* __restrict kr = kb + h * D;
        if (dw) {
          for (int64_t m = 0; m < M; ++m) {
            const float* __restrict dm = db + m * D;
            float s = 0.f;
            for (int64_t j = 0; j < D; ++j) s += dm[j] * kr[j];
            dw[(b * M + m) * H + h] = s;
          }
        }
        if (dk) {
          float* __restrict dr = dk + (b * H + h) * D;
          std::memset(dr, 0, sizeof(float) * static_cast<size_t>(D));
          for (int64_t m = 0; m < M; ++m) {
            const float c = w[(b * M + m) * H + h];
            const float* __restrict dm = db + m * D;
            for (int64_t j = 0; j < D; ++j) dr[j] += c * dm[j];
          }
        }
      }
    }
  });
}

}  // namespace qarm

QARM_ISA_DECLARE(void din_fwd_sample(const float* qt, const float* mt, const float* kb, int64_t H, int64_t K, int64_t A,
                                     int64_t Ap, const float* w2, float b2, int act, float* zbuf, float* scores))
QARM_ISA_DECLARE(void din_bwd_sample(const float* qb, const float* kb, const float* wkd, const float* wp,
                                     const float* wqd, const float* w2, const float* hidden, const float* ds, int act,
                                     int64_t H, int64_t K, int64_t A, int64_t Ap, int64_t Kp, float* g, float* dqt,
                                     float* mtT, float* gqd, float* gkd, float* gwp, float* gb1, float* gw2, float* gb2,
                                     float* dq, float* dk))

namespace qarm {
namespace {

constexpr int64_t kDinBlock = 16;  // samples per weight-gradient block (fixed: determinism)

// One past the last history slot that any of the M masks selects (masks [M, H] of one sample).
// Later slots add nothing to any pooled sum and get zero gradients, so the scoring MLP (the
// bulk of the work) runs over this prefix only; padded histories are often half empty.
int64_t active_slots(const float* mk, int64_t M, int64_t H) {
  int64_t len = 0;
  for (int64_t m = 0; m < M; ++m) {
    const float* r = mk + m * H;
    for (int64_t h = H; h > len; --h) {
      if (r[h - 1] != 0.f) {
        len = h;
        break;
      }
    }
  }
  return len;
}

}  // namespace

// (Wq + Wd), (Wk − Wd) and Wp transposed to [K, Ap] (hidden units padded with zeros to Ap), and
// w2 padded to [Ap], so the per-sample loops run over full vectors of hidden units.
struct DinWeights {
  int64_t Ap;
  std::vector<float> wqd, wkd, wp, w2;
  DinWeights(const float* W1, const float* w2_, int64_t K, int64_t A)
      : Ap((A + 15) / 16 * 16),
        wqd(static_cast<size_t>(K * Ap), 0.f),
        wkd(static_cast<size_t>(K * Ap), 0.f),
        wp(static_cast<size_t>(K * Ap), 0.f),
        w2(static_cast<size_t>(Ap), 0.f) {
    for (int64_t a = 0; a < A; ++a) {
      const float* row = W1 + a * 4 * K;
      for (int64_t j = 0; j < K; ++j) {
        wqd[j * Ap + a] = row[j] + row[2 * K + j];
        wkd[j * Ap + a] = row[K + j] - row[2 * K + j];
        wp[j * Ap + a] = row[3 * K + j];
      }
      w2[a] = w2_[a];
    }
  }
};

// qt = b1 + (Wq + Wd) q and mt = (Wk − Wd) + diag(q) Wp for one sample (padded to Ap).
static void din_sample_terms(const DinWeights& w, const float* qb, const float* b1, int64_t K, int64_t A, float* qt,
                             float* mt) {
  const int64_t Ap = w.Ap;
  for (int64_t a = 0; a < Ap; ++a) qt[a] = a < A ? b1[a] : 0.f;
  for (int64_t j = 0; j < K; ++j) {
    const float qj = qb[j];
    for (int64_t a = 0; a < Ap; ++a) {
      mt[j * Ap + a] = w.wkd[j * Ap + a] + qj * w.wp[j * Ap + a];
      qt[a] += qj * w.wqd[j * Ap + a];
    }
  }
}

void din_scores_forward(const float* q, const float* k, const float* W1, const float* b1, const float* w2, float b2,
                        int act, int64_t B, int64_t H, int64_t K, int64_t A, float* scores) {
  const DinWeights w(W1, w2, K, A);
  const int64_t Ap = w.Ap;
  parallel_for(B, kDinBlock, [&](int64_t b0, int64_t b1_) {
    std::vector<float> mt(static_cast<size_t>(K * Ap)), qt(static_cast<size_t>(Ap)), z(static_cast<size_t>(H * Ap));
    for (int64_t b = b0; b < b1_; ++b) {
      din_sample_terms(w, q + b * K, b1, K, A, qt.data(), mt.data());
      QARM_ISA_SELECT(din_fwd_sample)
      (qt.data(), mt.data(), k + b * H * K, H, K, A, Ap, w.w2.data(), b2, act, z.data(), scores + b * H);
    }
  });
}

void din_scores_backward(const float* q, const float* k, const float* W1, const float* b1, const float* w2,
                         const float* dscores, int act, int64_t B, int64_t H, int64_t K, int64_t A, float* dq,
                         float* dk, float* dW1, float* db1, float* dw2, float* db2) {
  const DinWeights w(W1, w2, K, A);
  const int64_t Ap = w.Ap, Kp = (K + 15) / 16 * 16;
  const int64_t blocks = (B + kDinBlock - 1) / kDinBlock;
  // Per block: d(Wq+Wd), d(Wk-Wd), dWp [K, Ap] each, db1 [Ap], dw2 [Ap], db2.
  const int64_t per = 3 * K * Ap + 2 * Ap + 1;
  std::vector<float> acc(static_cast<size_t>(blocks * per), 0.f);
  parallel_for(blocks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> g(static_cast<size_t>(H * Ap)), dqt(static_cast<size_t>(Ap)), mtT(static_cast<size_t>(Ap * Kp)),
        hid(static_cast<size_t>(H * Ap)), qt(static_cast<size_t>(Ap)), mt(static_cast<size_t>(K * Ap));
    for (int64_t c = c0; c < c1; ++c) {
      float* blk = acc.data() + c * per;
      float* gqd = blk;
      float* gkd = blk + K * Ap;
      float* gwp = blk + 2 * K * Ap;
      float* gb1 = blk + 3 * K * Ap;
      float* gw2 = gb1 + Ap;
      float* gb2 = gw2 + Ap;
      for (int64_t b = c * kDinBlock; b < std::min(B, (c + 1) * kDinBlock); ++b) {
        din_sample_terms(w, q + b * K, b1, K, A, qt.data(), mt.data());
        QARM_ISA_SELECT(din_fwd_sample)
        (qt.data(), mt.data(), k + b * H * K, H, K, A, Ap, w.w2.data(), 0.f, act, hid.data(), nullptr);
        QARM_ISA_SELECT(din_bwd_sample)
        (q + b * K, k + b * H * K, w.wkd.data(), w.wp.data(), w.wqd.data(), w.w2.data(), hid.data(), dscores + b * H,
         act, H, K, A, Ap, Kp, g.data(), dqt.data(), mtT.data(), gqd, gkd, gwp, gb1, gw2, gb2,
         dq ? dq + b * K : nullptr, dk ? dk + b * H * K : nullptr);
      }
    }
  });
  // Sum the blocks in order, then map back to W1's [Wq | Wk | Wd | Wp] layout.
  std::vector<float> tot(static_cast<size_t>(per), 0.f);
  for (int64_t c = 0; c < blocks; ++c) {
    const float* blk = acc.data() + c * per;
    for (int64_t i = 0; i < per; ++i) tot[i] += blk[i];
  }
  const float* gqd = tot.data();
  const float* gkd = gqd + K * Ap;
  const float* gwp = gkd + K * Ap;
  for (int64_t a = 0; a < A; ++a) {
    float* row = dW1 + a * 4 * K;
    for (int64_t j = 0; j < K; ++j) {
      const float x = gqd[j * Ap + a], y = gkd[j * Ap + a];
      row[j] = x;
      row[K + j] = y;
      row[2 * K + j] = x - y;
      row[3 * K + j] = gwp[j * Ap + a];
    }
    db1[a] = tot[3 * K * Ap + a];
    dw2[a] = tot[3 * K * Ap + Ap + a];
  }
  db2[0] = tot[3 * K * Ap + 2 * Ap];
}

}  // namespace qarm

namespace qarm {

void copy_columns(const float* src, int64_t rows, int64_t src_cols, int64_t src_off, float* dst, int64_t dst_cols,
                  int64_t dst_off, int64_t width) {
  if (width <= 0) return;
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / width);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      std::memcpy(dst + r * dst_cols + dst_off, src + r * src_cols + src_off,
                  sizeof(float) * static_cast<size_t>(width));
  });
}

}  // namespace qarm

namespace qarm {

int64_t din_attention_pool_cache_size(int64_t B, int64_t H, int64_t A) { return B * H * ((A + 15) / 16 * 16 + 1); }

void din_attention_pool_forward(const float* rep, int64_t B, int64_t H, int64_t K, const float* masks, int64_t M,
                                const float* W1, const float* b1, const float* w2, float b2, int act, int64_t A,
                                float* pooled, float* cache) {
  const DinWeights w(W1, w2, K, A);
  const int64_t Ap = w.Ap;
  const float* keys = rep + B * K;
  parallel_for(B, kDinBlock, [&](int64_t b0, int64_t b1_) {
    std::vector<float> mt(static_cast<size_t>(K * Ap)), qt(static_cast<size_t>(Ap)), z(static_cast<size_t>(H * Ap)),
        sc(static_cast<size_t>(H));
    for (int64_t b = b0; b < b1_; ++b) {
      const float* kb = keys + b * H * K;
      std::memset(pooled + b * M * K, 0, sizeof(float) * static_cast<size_t>(M * K));
      const int64_t Hb = active_slots(masks + b * M * H, M, H);
      if (Hb == 0) continue;
      float* zb = cache ? cache + b * H * Ap : z.data();
      float* sb = cache ? cache + B * H * Ap + b * H : sc.data();
      din_sample_terms(w, rep + b * K, b1, K, A, qt.data(), mt.data());
      QARM_ISA_SELECT(din_fwd_sample)(qt.data(), mt.data(), kb, Hb, K, A, Ap, w.w2.data(), b2, act, zb, sb);
      for (int64_t m = 0; m < M; ++m) {
        const float* mk = masks + (b * M + m) * H;
        float* __restrict o = pooled + (b * M + m) * K;
        for (int64_t h = 0; h < Hb; ++h) {
          const float c = mk[h] * sb[h];
          if (c == 0.f) continue;
          const float* __restrict kr = kb + h * K;
          for (int64_t j = 0; j < K; ++j) o[j] += c * kr[j];
        }
      }
    }
  });
}

void din_attention_pool_backward(const float* rep, int64_t B, int64_t H, int64_t K, const float* masks, int64_t M,
                                 const float* W1, const float* b1, const float* w2, float b2, int act, int64_t A,
                                 const float* dpooled, float* drep, float* dW1, float* db1, float* dw2, float* db2,
                                 const float* cache) {
  const DinWeights w(W1, w2, K, A);
  const int64_t Ap = w.Ap, Kp = (K + 15) / 16 * 16;
  const float* keys = rep + B * K;
  const int64_t blocks = (B + kDinBlock - 1) / kDinBlock;
  const int64_t per = 3 * K * Ap + 2 * Ap + 1;
  std::vector<float> acc(static_cast<size_t>(blocks * per), 0.f);
  parallel_for(blocks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<float> g(static_cast<size_t>(H * Ap)), dqt(static_cast<size_t>(Ap)), mtT(static_cast<size_t>(Ap * Kp)),
        hid(static_cast<size_t>(H * Ap)), qt(static_cast<size_t>(Ap)), mt(static_cast<size_t>(K * Ap)),
        sc(static_cast<size_t>(H)), ds(static_cast<size_t>(H)), dkb(static_cast<size_t>(H * K)),
        dqb(static_cast<size_t>(K));
    for (int64_t c = c0; c < c1; ++c) {
      float* blk = acc.data() + c * per;
      float* gqd = blk;
      float* gkd = blk + K * Ap;
      float* gwp = blk + 2 * K * Ap;
      float* gb1 = blk + 3 * K * Ap;
      float* gw2 = gb1 + Ap;
      float* gb2 = gw2 + Ap;
      for (int64_t b = c * kDinBlock; b < std::min(B, (c + 1) * kDinBlock); ++b) {
        const float* qb = rep + b * K;
        const float* kb = keys + b * H * K;
        const float* dpb = dpooled + b * M * K;
        const int64_t Hb = active_slots(masks + b * M * H, M, H);
        if (drep) {
          // Rows past the active prefix (and the query, when nothing is active) get no gradient.
          std::memset(drep + (B + b * H + Hb) * K, 0, sizeof(float) * static_cast<size_t>((H - Hb) * K));
          if (Hb == 0) std::memset(drep + b * K, 0, sizeof(float) * static_cast<size_t>(K));
        }
        if (Hb == 0) continue;
        const float* hb = hid.data();
        const float* sb = sc.data();
        if (cache) {
          hb = cache + b * H * Ap;
          sb = cache + B * H * Ap + b * H;
        } else {
          din_sample_terms(w, qb, b1, K, A, qt.data(), mt.data());
          QARM_ISA_SELECT(din_fwd_sample)
          (qt.data(), mt.data(), kb, Hb, K, A, Ap, w.w2.data(), b2, act, hid.data(), sc.data());
        }
        // d score[h] = Σ_m mask[m, h] <dpooled[m], key[h]>
        for (int64_t h = 0; h < Hb; ++h) {
          const float* kr = kb + h * K;
          float s = 0.f;
          for (int64_t m = 0; m < M; ++m) {
            const float mk = masks[(b * M + m) * H + h];
            if (mk == 0.f) continue;
            const float* dp = dpb + m * K;
            float dot = 0.f;
            for (int64_t j = 0; j < K; ++j) dot += dp[j] * kr[j];
            s += mk * dot;
          }
          ds[h] = s;
        }
        QARM_ISA_SELECT(din_bwd_sample)
        (qb, kb, w.wkd.data(), w.wp.data(), w.wqd.data(), w.w2.data(), hb, ds.data(), act, Hb, K, A, Ap, Kp, g.data(),
         dqt.data(), mtT.data(), gqd, gkd, gwp, gb1, gw2, gb2, dqb.data(), dkb.data());
        if (!drep) continue;
        std::memcpy(drep + b * K, dqb.data(), sizeof(float) * static_cast<size_t>(K));
        // The pooling's own term: d key[h] += Σ_m mask[m, h] score[h] dpooled[m].
        for (int64_t h = 0; h < Hb; ++h) {
          float* __restrict dk = dkb.data() + h * K;
          for (int64_t m = 0; m < M; ++m) {
            const float cf = masks[(b * M + m) * H + h] * sb[h];
            if (cf == 0.f) continue;
            const float* __restrict dp = dpb + m * K;
            for (int64_t j = 0; j < K; ++j) dk[j] += cf * dp[j];
          }
        }
        std::memcpy(drep + (B + b * H) * K, dkb.data(), sizeof(float) * static_cast<size_t>(Hb * K));
      }
    }
  });
  std::vector<float> tot(static_cast<size_t>(per), 0.f);
  for (int64_t c = 0; c < blocks; ++c) {
    const float* blk = acc.data() + c * per;
    for (int64_t i = 0; i < per; ++i) tot[i] += blk[i];
  }
  const float* gqd = tot.data();
  const float* gkd = gqd + K * Ap;
  const float* gwp = gkd + K * Ap;
  for (int64_t a = 0; a < A; ++a) {
    float* row = dW1 + a * 4 * K;
    for (int64_t j = 0; j < K; ++j) {
      const float x = gqd[j * Ap + a], y = gkd[j * Ap + a];
      row[j] = x;
      row[K + j] = y;
      row[2 * K + j] = x - y;
      row[3 * K + j] = gwp[j * Ap + a];
    }
    db1[a] = tot[3 * K * Ap + a];
    dw2[a] = tot[3 * K * Ap + Ap + a];
  }
  db2[0] = tot[3 * K * Ap + 2 * Ap];
}

}  // namespace qarm
