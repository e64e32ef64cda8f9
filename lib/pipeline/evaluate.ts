/**
 * Slice metrics of a scored split: AUC, GAUC (groups = the protocol's requests) and logloss
 * over all samples, warm-target samples and cold-target samples.
 */
import { auc, gauc, logloss } from '../rank/metrics.js';
import type { RankSamples } from '../rank/types.js';
import type { MetricName, SliceName } from './results.js';

export type SliceScores = Record<SliceName, Record<MetricName, number>>;

/** Metrics per slice; a slice without both classes (or empty) gets NaN. */
export function sliceMetrics(s: RankSamples, probs: Float32Array | Float64Array, warm: Uint8Array): SliceScores {
  const out = {} as SliceScores;
  for (const slice of ['all', 'warm', 'cold'] as const) {
    const rows: number[] = [];
    for (let i = 0; i < s.size; i++) if (slice === 'all' || (warm[i] === 1) === (slice === 'warm')) rows.push(i);
    const y = new Float32Array(rows.length), p = new Float64Array(rows.length), g = new Int32Array(rows.length);
    rows.forEach((r, k) => {
      y[k] = s.label[r];
      p[k] = probs[r];
      g[k] = s.group ? s.group[r] : s.user[r];
    });
    out[slice] = { auc: safe(() => auc(y, p)), gauc: safe(() => gauc(y, p, g)), logloss: safe(() => logloss(y, p)) };
  }
  return out;
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return NaN;
  }
}
