/**
 * Slice metrics of a scored split: AUC, GAUC (groups = the protocol's requests) and logloss
 * over all samples and over the samples whose target is a warm item, a long-tail item (warm,
 * with few training events) or a cold item.
 */
import { auc, gauc, logloss } from '../rank/metrics.js';
import type { RankSamples } from '../rank/types.js';
import { ValueError } from '../errors.js';
import type { ItemOrder } from './features.js';
import { SLICES, type MetricName, type SliceName } from './results.js';

export type SliceScores = Record<SliceName, Record<MetricName, number>>;

/**
 * Per-sample slice class: 0 = cold target, 1 = warm target, 2 = warm long-tail target.
 * A 0/1 warm mask ({@link warmMask} of features.ts) is a valid class array too: it simply has
 * no long-tail samples, so that slice scores NaN.
 */
export const SLICE_CLASS = { cold: 0, warm: 1, longtail: 2 } as const;

/**
 * The slice class ({@link SLICE_CLASS}) of every sample of a ranker split. `trainCount` is
 * indexed by global item (the protocol's `trainCount`: training events = training positives);
 * a warm item is long-tail when it has fewer than `longTailMax` training events.
 */
export function sliceClasses(s: RankSamples, order: ItemOrder, trainCount: Int32Array, longTailMax: number): Uint8Array {
  if (!Number.isInteger(longTailMax) || longTailMax < 1) throw new ValueError(`longTailMax: expected an integer >= 1, got ${longTailMax}`, 'longTailMax');
  if (trainCount.length !== order.itemAt.length)
    throw new ValueError(`trainCount: expected ${order.itemAt.length} entries (one per item), got ${trainCount.length}`, 'trainCount');
  const out = new Uint8Array(s.size);
  for (let i = 0; i < s.size; i++) {
    const r = s.item[i];
    if (r >= order.numWarm) continue;
    out[i] = trainCount[order.itemAt[r]] < longTailMax ? SLICE_CLASS.longtail : SLICE_CLASS.warm;
  }
  return out;
}

/** Whether a sample of class `c` belongs to `slice`. */
export function inSlice(c: number, slice: SliceName): boolean {
  if (slice === 'all') return true;
  if (slice === 'cold') return c === SLICE_CLASS.cold;
  if (slice === 'warm') return c !== SLICE_CLASS.cold;
  return c === SLICE_CLASS.longtail;
}

/** Metrics per slice; a slice without both classes (or empty) gets NaN. `classes`: see {@link sliceClasses}. */
export function sliceMetrics(s: RankSamples, probs: Float32Array | Float64Array, classes: Uint8Array): SliceScores {
  const out = {} as SliceScores;
  for (const slice of SLICES) {
    const rows: number[] = [];
    for (let i = 0; i < s.size; i++) if (inSlice(classes[i], slice)) rows.push(i);
    const y = new Float32Array(rows.length),
      p = new Float64Array(rows.length),
      g = new Int32Array(rows.length);
    rows.forEach((r, k) => {
      y[k] = s.label[r];
      p[k] = probs[r];
      g[k] = s.group ? s.group[r] : s.user[r];
    });
    out[slice] = { auc: safe(() => auc(y, p)), gauc: safe(() => gauc(y, p, g)), logloss: safe(() => logloss(y, p)) };
  }
  return out;
}

/** Samples per slice (for the report: how much each slice's metric rests on). */
export function sliceSizes(classes: Uint8Array): Record<SliceName, number> {
  const out = Object.fromEntries(SLICES.map((s) => [s, 0])) as Record<SliceName, number>;
  for (const c of classes) for (const s of SLICES) if (inSlice(c, s)) out[s]++;
  return out;
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return NaN;
  }
}
