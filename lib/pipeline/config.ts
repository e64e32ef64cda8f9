/**
 * The experiment configuration of `qarm run`: a JSON file validated with zod, merged over the
 * defaults (and over the `--quick` preset), then over command-line flags.
 *
 * Every default here was chosen on the validation split of the bundled data (docs/decisions.md;
 * the protocol is in the README, "Protocol"); none was tuned on test.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ValueError, IOError } from '../errors.js';
import { VARIANTS } from './results.js';

const timePoint = z.union([z.string().min(1), z.number().finite()]);
const int = (min: number) => z.number().int().min(min);
const frac = z.number().gt(0).lt(1);

const SplitSchema = z.strictObject({
  /** `'time'` (default): one cut for everybody; `'per-user'`: each user's last events (lib/pipeline/protocol_split.ts). */
  mode: z.enum(['time', 'per-user']).optional(),
  trainEnd: timePoint.optional(),
  testStart: timePoint.optional(),
  /** Time mode: shares of the events (not of the time span) before validation / before test. */
  trainFraction: frac.optional(),
  testFraction: frac.optional(),
  /** Per-user mode: shares of each user's events in validation (0.1) and test (0.2), at least one each. */
  validationShare: frac.optional(),
  testShare: frac.optional(),
});

const ProtocolSchema = z.strictObject({
  split: SplitSchema.optional(),
  negatives: int(0).optional(),
  historyLength: int(1).optional(),
  seed: z.number().int().optional(),
  userFraction: z.number().gt(0).lte(1).optional(),
  trainUserFraction: z.number().gt(0).lte(1).optional(),
});

const ContentSchema = z.strictObject({
  /** Content modalities to encode from item text; `.npy` modalities of the dataset are always added. */
  modalities: z.array(z.enum(['glove', 'chargram'])).min(1).optional(),
  lexicalDims: int(2).optional(),
  /** Use `<name>.npy` files of the dataset folder (all of them when true). */
  useDatasetEmbeddings: z.boolean().optional(),
  cache: z.boolean().optional(),
});

/** Options handed to the pair miners and the aligner (lib/align); checked there. */
const PassThrough = z.record(z.string(), z.unknown());

/** The embedding space the `qarm` codes (RQ and VQ) are built from; see {@link RunConfig}. */
export const CODE_SPACES = ['aligned', 'mixed'] as const;
export type CodeSpace = (typeof CODE_SPACES)[number];

/** How the ranker embeds the codes (every variant that has codes); see {@link CodeFeatures}. */
const CodeFeaturesSchema = z.strictObject({
  mode: z.enum(['levels', 'prefix']).optional(),
  prefixTableSize: int(1).optional(),
  vqHistory: z.boolean().optional(),
  vqCross: z.boolean().optional(),
  codeDropout: z.boolean().optional(),
  countNorm: z.enum(['log1p', 'scaled']).optional(),
});

const CodesSchema = z.strictObject({
  /** `'aligned'`: the aligner's 64-d output; `'mixed'`: its retrieval space `[√w·aligned, √(1−w)·content]`. */
  space: z.enum(CODE_SPACES).optional(),
  vqK: int(1).optional(),
  rqLevels: int(1).optional(),
  rqCodebookSize: z.union([int(2), z.array(int(2)).min(1)]).optional(),
  iterations: int(1).optional(),
  seed: z.number().int().optional(),
  /** Balanced k-means at every RQ level (cluster sizes capped at ceil(n / K)). */
  rqBalanced: z.boolean().optional(),
  features: CodeFeaturesSchema.optional(),
});

const RankerSchema = z.strictObject({
  embeddingDim: int(1).optional(),
  hidden: z.array(int(1)).optional(),
  attentionHidden: z.array(int(1)).optional(),
  batchSize: int(1).optional(),
  lr: z.number().positive().optional(),
  weightDecay: z.number().min(0).optional(),
  maxEpochs: int(1).optional(),
  patience: int(0).optional(),
  /** Keep this fraction of training negatives (seeded); 1 keeps all. */
  trainNegativeFraction: z.number().gt(0).lte(1).optional(),
  /** Item-id dropout of every variant: train the target's id as the OOV (cold) row with this probability. */
  itemIdDropout: z.number().min(0).lt(1).optional(),
  /** The same for each history item id. */
  historyIdDropout: z.number().min(0).lt(1).optional(),
});

const EvaluationSchema = z.strictObject({
  /** A warm item with fewer training events than this is long-tail (its own slice). */
  longTailMax: int(1).optional(),
});

/** The JSON config file's schema (every key optional; unknown keys are errors). */
export const ConfigSchema = z.strictObject({
  data: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  seeds: z.union([int(1), z.array(z.number().int()).min(1)]).optional(),
  variants: z.array(z.string().min(1)).min(1).optional(),
  ablations: z.array(z.string().min(1)).optional(),
  threads: int(1).optional(),
  /** Ranker trainings run side by side in worker threads (default: two, or one on a single core; README, "Commands"). */
  workers: int(1).optional(),
  /** Held-out pairs sampled per set for the alignment recall table. */
  recallPairs: int(1).optional(),
  protocol: ProtocolSchema.optional(),
  evaluation: EvaluationSchema.optional(),
  /**
   * The data-efficiency curve: rerun the pipeline (aligner, codes, ranker) on each share of the
   * training users, with the same validation and test; empty = no curve.
   */
  trainFractions: z.array(z.number().gt(0).lte(1)).optional(),
  content: ContentSchema.optional(),
  pairs: PassThrough.optional(),
  align: PassThrough.optional(),
  codes: CodesSchema.optional(),
  ranker: RankerSchema.optional(),
});

export type ConfigFile = z.infer<typeof ConfigSchema>;

/**
 * How the ranker turns the codes into features (`codes.features`; lib/rank's RankerConfig and
 * FeatureSwitches document each in full). Defaults are the ranker's behaviour before these
 * switches existed; the lead sets them from validation runs.
 */
export interface CodeFeatures {
  /** `'levels'`: one table per RQ level; `'prefix'`: one table per code prefix (c1), (c1,c2), … ['levels']. */
  mode: 'levels' | 'prefix';
  /** Rows of a prefix table whose exact prefixes do not fit (then hashed, collisions reported) [16384]. */
  prefixTableSize: number;
  /** The VQ-code bag also in every history item's representation [false]. */
  vqHistory: boolean;
  /** The VQ cross feature: history items among the target's VQ codes, pooled, and their count [false]. */
  vqCross: boolean;
  /** With item-id dropout, also drop 0..L−1 of the target's finest code levels [false]. */
  codeDropout: boolean;
  /** Cross-feature counts as log(1 + c) (`'log1p'`) or log(1 + c) / log(1 + H) (`'scaled'`, in [0, 1]) ['scaled'; lib/rank's Ranker keeps 'log1p']. */
  countNorm: 'log1p' | 'scaled';
}

/**
 * The feature defaults, chosen on validation (docs/decisions.md, "Code features"): of the
 * issue-14 options only the scaled counts earned their place (with balanced RQ, `codes.rqBalanced`).
 */
export function defaultCodeFeatures(): CodeFeatures {
  return { mode: 'levels', prefixTableSize: 16384, vqHistory: false, vqCross: false, codeDropout: false, countNorm: 'scaled' };
}

/** How codes became features before `codes.features` existed: a saved config without the key means these. */
export function legacyCodeFeatures(): CodeFeatures {
  return { ...defaultCodeFeatures(), countNorm: 'log1p' };
}

/** The resolved configuration (every field present). */
export interface RunConfig {
  data: string | null;
  out: string;
  seeds: number[];
  variants: string[];
  ablations: string[];
  threads: number | null;
  workers: number;
  recallPairs: number;
  quick: boolean;
  protocol: {
    split: z.infer<typeof SplitSchema>;
    negatives: number;
    historyLength: number;
    seed: number;
    userFraction: number;
    /** Share of users whose training events are used (data-efficiency curve); validation/test unchanged. */
    trainUserFraction: number;
  };
  evaluation: { longTailMax: number };
  /** Shares of training users of the data-efficiency curve, distinct, descending; [] = no curve. */
  trainFractions: number[];
  content: { modalities: ('glove' | 'chargram')[]; lexicalDims: number; useDatasetEmbeddings: boolean; cache: boolean };
  pairs: Record<string, unknown>;
  align: Record<string, unknown>;
  /**
   * `space`: what the `qarm` codes are built from. `'aligned'` = the aligner's output alone;
   * `'mixed'` = lib/align's retrieval space `[√w · aligned, √(1−w) · content]` with w chosen
   * (with the epoch) on validation pairs from `align.contentMix`, so cold items keep their
   * content neighbourhood. `id+aligned` always reads the aligned output; `id+rq-raw` and
   * `qarm-unaligned` always read raw content.
   */
  codes: { space: CodeSpace; vqK: number; rqLevels: number; rqCodebookSize: number | number[]; iterations: number; seed: number; rqBalanced: boolean; features: CodeFeatures };
  ranker: {
    embeddingDim: number;
    hidden: number[];
    attentionHidden: number[];
    batchSize: number;
    lr: number;
    weightDecay: number;
    maxEpochs: number;
    patience: number;
    trainNegativeFraction: number;
    itemIdDropout: number;
    historyIdDropout: number;
  };
}

/** Defaults of a full run. */
export function defaultConfig(): RunConfig {
  return {
    data: null,
    out: 'qarm-out',
    seeds: [1, 2, 3],
    variants: [...VARIANTS],
    ablations: [],
    threads: null,
    // Two trainings side by side (one kernel thread each) on two cores: half the wall time, the
    // same metrics (docs/decisions.md, "Ranking workers").
    workers: Math.min(2, availableParallelism()),
    recallPairs: 3000,
    quick: false,
    protocol: { split: {}, negatives: 4, historyLength: 20, seed: 17, userFraction: 1, trainUserFraction: 1 },
    // Long tail = warm items with fewer than 5 training events (issue 14; MovieLens has two thirds
    // of its movies at <= 5 ratings).
    evaluation: { longTailMax: 5 },
    trainFractions: [],
    content: { modalities: ['glove', 'chargram'], lexicalDims: 128, useDatasetEmbeddings: true, cache: true },
    pairs: {},
    // The run pins the aligner its results were measured with rather than lib/align's defaults
    // (lr, patience, hidden, stopping rule, content mix, temperature, one projector), each chosen
    // on validation: docs/decisions.md, "Aligner settings pinned by the run".
    align: { lr: 1e-3, patience: 2, hidden: [256], earlyStopOn: 'new', contentMix: [0.8], temperature: 0.1, ensemble: 1 },
    // Code space, RQ shape, VQ k, balanced RQ and the code features were chosen on validation:
    // docs/decisions.md, "Code space", "RQ shape" and "Code features".
    codes: { space: 'mixed', vqK: 25, rqLevels: 3, rqCodebookSize: 64, iterations: 20, seed: 7, rqBalanced: true, features: defaultCodeFeatures() },
    ranker: {
      embeddingDim: 16,
      hidden: [64, 32],
      attentionHidden: [16],
      batchSize: 1024,
      lr: 2e-3,
      weightDecay: 0,
      maxEpochs: 6,
      patience: 2,
      trainNegativeFraction: 0.5,
      // Item-id dropout, the same for every variant, chosen on validation (docs/decisions.md,
      // "Item-id dropout"): without it no training sample touches the OOV row every cold item
      // maps to. Dropping history ids too did not help.
      itemIdDropout: 0.1,
      historyIdDropout: 0,
    },
  };
}

/** Overrides applied by `--quick` (a smoke run, not a result). */
export const QUICK_PRESET: ConfigFile = {
  seeds: [1, 2],
  recallPairs: 300,
  protocol: { userFraction: 0.1, historyLength: 10 },
  content: { modalities: ['chargram'], lexicalDims: 32 },
  pairs: { miners: ['cooccurrence'] },
  align: { epochs: 2, patience: 1, hidden: [32], maxValidationPairs: 300 },
  codes: { rqLevels: 2, rqCodebookSize: 16, iterations: 5, vqK: 10 },
  ranker: { embeddingDim: 8, hidden: [16], attentionHidden: [8], maxEpochs: 2, patience: 0, batchSize: 1024, trainNegativeFraction: 0.5 },
};

/** Turns zod issues into one readable line: `ranker.lr: expected number, got string; ...`. */
export function formatIssues(error: z.ZodError, source: string): string {
  const parts = error.issues.slice(0, 5).map((i) => {
    const path = i.path.length ? i.path.join('.') : '(top level)';
    return `${path}: ${i.message}`;
  });
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return `${source}: invalid configuration: ${parts.join('; ')}`;
}

/** Validates a parsed JSON value as a config, ValueError with a clear message otherwise. */
export function validateConfig(value: unknown, source = 'config'): ConfigFile {
  const r = ConfigSchema.safeParse(value);
  if (!r.success) throw new ValueError(formatIssues(r.error, source), 'config');
  if (r.data.variants) {
    const known = new Set<string>([...VARIANTS]);
    const bad = r.data.variants.filter((v) => !known.has(v));
    if (bad.length) throw new ValueError(`${source}: invalid configuration: variants: unknown variant(s) ${bad.join(', ')} (known: ${[...known].join(', ')})`, 'config');
  }
  return r.data;
}

/** Reads and validates a JSON config file. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IOError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'config');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValueError(`${path}: not valid JSON (${(e as Error).message})`, 'config');
  }
  return validateConfig(value, path);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (!isPlain(base) || !isPlain(over)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = v === undefined ? out[k] : merge(out[k], v);
  return out as T;
}

function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Defaults ← quick preset (if quick) ← config file ← flags. */
export function resolveConfig(file: ConfigFile | undefined, flags: ConfigFile & { quick?: boolean }): RunConfig {
  let c = defaultConfig();
  const quick = flags.quick ?? false;
  if (quick) c = merge(c, QUICK_PRESET);
  c = merge(c, file ?? {});
  const { quick: _q, ...rest } = flags;
  c = merge(c, rest);
  c.quick = quick;
  c.seeds = normalizeSeeds(c.seeds as number | number[]);
  c.trainFractions = normalizeFractions(c.trainFractions);
  checkCodeSpace(c);
  const sp = c.protocol.split;
  if (c.data === null && sp.mode !== 'per-user' && [sp.trainEnd, sp.testStart, sp.trainFraction, sp.testFraction].every((v) => v === undefined)) {
    // The bundled dataset: the documented fixed dates (the default event fractions give the same
    // periods; the dates say so in config.json).
    c.protocol.split = { trainEnd: '2011-09-01', testStart: '2011-10-15', ...c.protocol.split };
  }
  return c;
}

/**
 * `codes.space: 'mixed'` needs a content weight to choose from: with `align.contentMix` only
 * [1] the mixed space is the aligned one, and the switch would silently do nothing.
 */
function checkCodeSpace(c: RunConfig): void {
  const mix = c.align.contentMix;
  if (c.codes.space === 'mixed' && Array.isArray(mix) && mix.length > 0 && mix.every((w) => w === 1)) {
    throw new ValueError("invalid configuration: codes.space 'mixed' needs align.contentMix to list a weight below 1 (with [1] the mixed space is the aligned space; set codes.space 'aligned' for codes from the aligner's output alone)", 'config');
  }
}

/** Distinct, descending; a repeated fraction would only repeat work. */
export function normalizeFractions(f: number[]): number[] {
  return [...new Set(f)].sort((a, b) => b - a);
}

/** `3` → [1, 2, 3]; a list stays as given. */
export function normalizeSeeds(s: number | number[]): number[] {
  if (Array.isArray(s)) return s.slice();
  return Array.from({ length: s }, (_, i) => i + 1);
}
