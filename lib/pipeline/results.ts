/**
 * The shape of `results.json` and the helpers that fill it: per-seed metrics reduced to
 * mean ± std, and the plain-text summary table printed at the end of `qarm run`.
 */

/** Variant names of the experiment, in report order. */
export const VARIANTS = ['id', 'id+content', 'id+aligned', 'id+rq-raw', 'qarm', 'id+random-codes'] as const;
export type VariantName = (typeof VARIANTS)[number] | string;
export const SLICES = ['all', 'warm', 'cold'] as const;
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

/** results.json. */
export interface Results {
  qarm: string;
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
      for (const m of METRICS) out[s][m] = stat(runs.map((r) => pick(r)[s][m]));
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

/** `0.6612 ± 0.0041`. */
export function fmtStat(s: Stat, digits = 4): string {
  if (!Number.isFinite(s.mean)) return 'n/a';
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/** The plain-text (Markdown) summary table: one row per variant, AUC/GAUC/logloss by slice. */
export function summaryTable(variants: Record<string, VariantMetrics>, metrics: readonly MetricName[] = METRICS): string {
  const head = ['variant'];
  for (const s of SLICES) for (const m of metrics) head.push(`${s} ${m}`);
  const rows = [head, head.map(() => '---')];
  for (const [name, v] of Object.entries(variants)) {
    const r = [name];
    for (const s of SLICES) for (const m of metrics) r.push(fmtStat(v[s][m]));
    rows.push(r);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
