/**
 * The shape of `results.json` and the helpers that fill it: per-seed metrics reduced to
 * mean ± std, and the plain-text summary table printed at the end of `qarm run`.
 */

import { ShapeError } from '../errors.js';

/** Variant names of the experiment, in report order. */
export const VARIANTS = ['id', 'id+content', 'id+aligned', 'id+rq-raw', 'qarm', 'id+random-codes'] as const;
export type VariantName = (typeof VARIANTS)[number] | string;
/**
 * Sample slices by target item: `warm` = the item has a training event, `longtail` = warm with
 * fewer than `evaluation.longTailMax` training events (a subset of warm), `cold` = no training
 * event.
 */
export const SLICES = ['all', 'warm', 'longtail', 'cold'] as const;
export type SliceName = (typeof SLICES)[number];
export const METRICS = ['auc', 'gauc', 'logloss'] as const;
export type MetricName = (typeof METRICS)[number];

/** One metric over seeds. */
export interface Stat {
  mean: number;
  /** Sample standard deviation over seeds (n − 1 in the denominator; 0 for one seed). */
  std: number;
  /** The per-seed values, in seed order. */
  values: number[];
}

/** Metrics of one slice. */
export type SliceMetrics = Record<MetricName, Stat>;
/** Metrics of one variant on one split. */
export type VariantMetrics = Record<SliceName, SliceMetrics>;

/** One epoch of a training curve. */
export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  valAuc: number;
  seconds?: number;
}

/** What each training run reports back. */
export interface SeedRun {
  seed: number;
  /** Test metrics by slice. */
  test: Record<SliceName, Record<MetricName, number>>;
  /** Validation metrics by slice (at the chosen epoch). */
  validation: Record<SliceName, Record<MetricName, number>>;
  curve: CurvePoint[];
  bestEpoch: number;
  seconds: number;
}

/** The per-variant block of results.json. */
export interface VariantResult extends VariantMetrics {
  validation: VariantMetrics;
  curves: { seed: number; points: CurvePoint[] }[];
  bestEpochs: number[];
  trainSeconds: number[];
  /** Feature switches / description of the variant. */
  description?: string;
}

/** Per-level code statistics as shown in the report (a subset of quant's codeStats). */
export interface CodeSummary {
  name: string;
  levels: number;
  codebookSize: number[];
  utilisation: number[];
  perplexity: number[];
  collisionRate: number;
  largestBucket?: number;
  /** Codes used by no training item (after back-off handling). */
  untrainedRows?: number[];
  [extra: string]: unknown;
}

/** Recall@K of held-out pairs, raw content vs aligned space (and the mixed space the codes use, when they do). */
export interface RecallRow {
  set: string;
  k: number;
  raw: number;
  aligned: number;
  /** The retrieval space `[√w·aligned, √(1−w)·content]`, with `codes.space: 'mixed'`. */
  mixed?: number;
  behaviour?: number;
}

/** Metrics whose per-seed differences are kept in `paired`. */
export const PAIRED_METRICS = ['auc', 'gauc'] as const;
export type PairedMetricName = (typeof PAIRED_METRICS)[number];

/** `paired.<variant>.<slice>.<metric>`: per-seed `reference − variant` (the reference is `qarm`). */
export type Paired = Record<string, Record<SliceName, Record<PairedMetricName, Stat>>>;

/** One point of the data-efficiency curve: the pipeline rerun with a share of the training users. */
export interface CurveFractionResult {
  /** Share of training users the aligner, codes and ranker saw (`protocol.trainUserFraction`). */
  fraction: number;
  /** Test metrics by variant and slice (the same per-seed reduction as `variants`). */
  variants: Record<string, VariantMetrics>;
  /** Per-seed `qarm − variant` at this fraction (absent when `qarm` is not run). */
  paired?: Paired;
  /** Test samples per slice at this fraction (warm/long-tail/cold follow this fraction's training events). */
  testSamples: Record<SliceName, number>;
  /** Training samples and warm items at this fraction. */
  trainSamples: number;
  warmItems: number;
  /** Wall time of this point (0 for the main run's point, whose time is in `timings`). */
  seconds: number;
}

/** results.json. */
export interface Results {
  qarm: string;
  /** Processes of the run (the design contract: every output JSON records it). */
  worldSize: number;
  createdAt: string;
  command: string;
  wallSeconds: number;
  timings: Record<string, number>;
  /** `rankWorkers`: trainings run side by side; `loadAverage`: the 1/5/15-minute load when the run started and ended (wall times on a shared machine need it). */
  machine: { cpus: number; threads: number; rankWorkers?: number; loadAverage?: { start: number[]; end: number[] }; node: string; platform: string };
  dataset: { name: string; dir: string; [k: string]: unknown };
  config: unknown;
  seeds: number[];
  variants: Record<string, VariantResult>;
  ablations?: Record<string, VariantResult>;
  /** Per-seed `qarm − variant` on every slice, for every other variant and ablation. */
  paired?: Paired;
  /** Test samples per slice of the main run. */
  testSamples?: Record<SliceName, number>;
  /** The data-efficiency curve (`trainFractions`), fractions in descending order. */
  curve?: CurveFractionResult[];
  alignment?: { recall: RecallRow[]; [k: string]: unknown };
  codes?: CodeSummary[];
  notes?: string[];
}

/** Mean and sample std of `values` (NaN-free input expected). */
export function stat(values: number[]): Stat {
  const n = values.length;
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, values: values.slice() };
}

/** Reduces per-seed runs of one variant to its results.json block. */
export function aggregateRuns(runs: SeedRun[], description?: string): VariantResult {
  const reduce = (pick: (r: SeedRun) => Record<SliceName, Record<MetricName, number>>): VariantMetrics => {
    const out = {} as VariantMetrics;
    for (const s of SLICES) {
      out[s] = {} as SliceMetrics;
      // A slice missing from a run (one scored before the slice existed) is NaN, not a crash.
      for (const m of METRICS) out[s][m] = stat(runs.map((r) => pick(r)[s]?.[m] ?? NaN));
    }
    return out;
  };
  const test = reduce((r) => r.test);
  return {
    ...test,
    validation: reduce((r) => r.validation),
    curves: runs.map((r) => ({ seed: r.seed, points: r.curve })),
    bestEpochs: runs.map((r) => r.bestEpoch),
    trainSeconds: runs.map((r) => r.seconds),
    description,
  };
}

/**
 * Per-seed differences `reference − variant` on every slice (AUC and GAUC), for each variant
 * other than `reference`. Seeds pair up by position: every variant of a run is trained on the
 * same seed list. A seed where either side is NaN (an empty slice) gives NaN.
 */
export function pairedDifferences(variants: Record<string, VariantMetrics>, reference = 'qarm'): Paired | undefined {
  const ref = variants[reference];
  if (!ref) return undefined;
  const out: Paired = {};
  for (const [name, v] of Object.entries(variants)) {
    if (name === reference) continue;
    out[name] = {} as Paired[string];
    for (const s of SLICES) {
      out[name][s] = {} as Record<PairedMetricName, Stat>;
      for (const m of PAIRED_METRICS) {
        const a = ref[s]?.[m]?.values ?? [],
          b = v[s]?.[m]?.values ?? [];
        if (a.length !== b.length)
          throw new ShapeError(
            `variants: ${reference} has ${a.length} seeds on ${s} ${m}, ${name} has ${b.length}; paired differences need the same seeds`,
            'variants',
          );
        out[name][s][m] = stat(a.map((x, i) => x - b[i]));
      }
    }
  }
  return out;
}

/** `+0.0034 ± 0.0052` (signed mean, for differences). */
export function fmtDiff(s: Stat | undefined, digits = 4): string {
  if (!s || !Number.isFinite(s.mean)) return 'n/a';
  return `${s.mean >= 0 ? '+' : '−'}${Math.abs(s.mean).toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/** The Markdown table of paired differences: one row per variant, `metric` by slice. */
export function pairedTable(paired: Paired, metric: PairedMetricName = 'auc', reference = 'qarm'): string {
  const head = [`${reference} − variant (${metric}, per seed)`, ...SLICES];
  const rows = [head, head.map(() => '---')];
  for (const [name, p] of Object.entries(paired)) rows.push([name, ...SLICES.map((s) => fmtDiff(p[s]?.[metric]))]);
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The slices the data-efficiency curve is plotted on. */
export const CURVE_SLICES = ['all', 'longtail', 'cold'] as const satisfies readonly SliceName[];

/** The Markdown table of the data-efficiency curve: test AUC by fraction and variant, and `qarm − variant`. */
export function curveTable(curve: CurveFractionResult[], reference = 'qarm'): string {
  const head = ['fraction', 'variant', ...CURVE_SLICES.map((s) => `${s} auc`), ...CURVE_SLICES.map((s) => `${reference} − variant ${s}`)];
  const rows = [head, head.map(() => '---')];
  for (const c of curve) {
    for (const [name, v] of Object.entries(c.variants)) {
      const p = c.paired?.[name];
      rows.push([String(c.fraction), name, ...CURVE_SLICES.map((s) => fmtStat(v[s]?.auc)), ...CURVE_SLICES.map((s) => (p ? fmtDiff(p[s]?.auc) : ''))]);
    }
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** `0.6612 ± 0.0041`. */
export function fmtStat(s: Stat | undefined, digits = 4): string {
  if (!s || !Number.isFinite(s.mean)) return 'n/a';
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/**
 * The plain-text (Markdown) summary table: one row per variant, AUC/GAUC/logloss by slice. A
 * slice missing from `variants` (a results.json written before it existed) shows n/a.
 */
export function summaryTable(variants: Record<string, VariantMetrics>, metrics: readonly MetricName[] = METRICS): string {
  const head = ['variant'];
  for (const s of SLICES) for (const m of metrics) head.push(`${s} ${m}`);
  const rows = [head, head.map(() => '---')];
  for (const [name, v] of Object.entries(variants)) {
    const r = [name];
    for (const s of SLICES) for (const m of metrics) r.push(fmtStat(v[s]?.[m]));
    rows.push(r);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
