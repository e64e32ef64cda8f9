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
import { RANKER_DEFAULTS, TRAIN_DEFAULTS } from '../rank/index.js';
import { ConfigSchema, type CodeFeatures, type ConfigFile, type RunConfig } from './config_schema.js';
import { VARIANTS } from './results.js';

export { AlignSchema, CODE_SPACES, CodeFeaturesSchema, ConfigSchema, PairsSchema, RunConfigSchema, SplitSchema } from './config_schema.js';
export type { CodeFeatures, CodeSpace, ConfigFile, RunConfig } from './config_schema.js';

/**
 * The feature defaults, chosen on validation (docs/decisions.md, "Code features"): of the
 * issue-14 options only the scaled counts earned their place (with balanced RQ, `codes.rqBalanced`).
 */
export function defaultCodeFeatures(): CodeFeatures {
  return {
    mode: RANKER_DEFAULTS.codeMode,
    prefixTableSize: RANKER_DEFAULTS.prefixTableSize,
    vqHistory: false,
    vqCross: false,
    codeDropout: TRAIN_DEFAULTS.codeDropout,
    // Scaled counts chosen on validation (docs/decisions.md, "Code features"); lib/rank keeps log1p.
    countNorm: 'scaled',
  };
}

/**
 * How codes became features before `codes.features` existed: a saved config without the key
 * means these. Spelt out rather than derived from any default, so its meaning never moves.
 */
export function legacyCodeFeatures(): CodeFeatures {
  return { mode: 'levels', prefixTableSize: 16384, vqHistory: false, vqCross: false, codeDropout: false, countNorm: 'log1p' };
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
    // lib/align's PAIR_MINING_DEFAULTS as they are.
    pairs: {},
    // Where the run differs from lib/align's ALIGN_DEFAULTS: it pins the aligner its results were
    // measured with, each setting chosen on validation (docs/decisions.md, "Aligner settings
    // pinned by the run"); the rest are lib/align's.
    align: {
      lr: 1e-3, // 2e-3 scored lower on validation (pair recall and qarm AUC)
      patience: 2, // recall peaks early: the same kept epoch as with 4, two epochs sooner
      hidden: [256], // the projector the results were measured with
      earlyStopOn: 'new', // validation pairs not mined in training, as the results were measured
      contentMix: [0.8], // one fixed weight for the mixed code space (docs/decisions.md, "Code space")
      temperature: 0.1, // 0.2 scored lower on validation with the run's other settings
      ensemble: 1, // 3 projectors scored lower on validation and take 3x as long
    },
    // Code space, RQ shape, VQ k, balanced RQ and the code features were chosen on validation:
    // docs/decisions.md, "Code space", "RQ shape" and "Code features".
    codes: { space: 'mixed', vqK: 25, rqLevels: 3, rqCodebookSize: 64, iterations: 20, seed: 7, rqBalanced: true, features: defaultCodeFeatures() },
    // lib/rank's RANKER_DEFAULTS and TRAIN_DEFAULTS but where a comment says why not.
    ranker: {
      embeddingDim: RANKER_DEFAULTS.embeddingDim,
      hidden: [64, 32], // a tower sized for a 2-core machine (lib/rank's [200, 80] is the DIN paper's scale)
      attentionHidden: [16], // likewise (lib/rank: [36])
      batchSize: TRAIN_DEFAULTS.batchSize,
      lr: 2e-3, // the pipeline's rate from its first version, not tuned since (lib/rank: 1e-3)
      weightDecay: TRAIN_DEFAULTS.weightDecay,
      maxEpochs: 6, // the ranker budget chosen on validation (lib/rank: 5)
      patience: TRAIN_DEFAULTS.patience,
      trainNegativeFraction: 0.5, // the pipeline's own: half the training negatives, for 2 cores
      // Item-id dropout, the same for every variant, chosen on validation (docs/decisions.md,
      // "Item-id dropout"): without it no training sample touches the OOV row every cold item
      // maps to (lib/rank: 0). Dropping history ids too did not help.
      itemIdDropout: 0.1,
      historyIdDropout: TRAIN_DEFAULTS.historyIdDropout,
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
    if (i.code === 'unrecognized_keys') {
      // Name each bad key by its full path and say what the section takes.
      const known = keysAt(i.path);
      const section = i.path.length ? i.path.join('.') : 'the top level';
      return `${i.keys.map((k) => [...i.path, k].join('.')).join(', ')}: unknown key${i.keys.length > 1 ? 's' : ''}${known ? ` (${section} takes ${known.join(', ')})` : ''}`;
    }
    const path = i.path.length ? i.path.join('.') : '(top level)';
    return `${path}: ${i.message}`;
  });
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return `${source}: invalid configuration: ${parts.join('; ')}`;
}

/** The keys the config file's object at `path` takes (null when `path` is not an object). */
function keysAt(path: readonly PropertyKey[]): string[] | null {
  const unwrap = (t: z.ZodType): z.ZodType => (t instanceof z.ZodOptional || t instanceof z.ZodNullable ? unwrap(t.unwrap() as z.ZodType) : t);
  let t: z.ZodType = ConfigSchema;
  for (const key of path) {
    const u = unwrap(t);
    if (!(u instanceof z.ZodObject) || typeof key !== 'string' || !(key in u.shape)) return null;
    t = u.shape[key] as z.ZodType;
  }
  const u = unwrap(t);
  return u instanceof z.ZodObject ? Object.keys(u.shape) : null;
}

/** Validates a parsed JSON value as a config, ValueError with a clear message otherwise. */
export function validateConfig(value: unknown, source = 'config'): ConfigFile {
  const r = ConfigSchema.safeParse(value);
  if (!r.success) throw new ValueError(formatIssues(r.error, source), 'config');
  if (r.data.variants) {
    const known = new Set<string>([...VARIANTS]);
    const bad = r.data.variants.filter((v) => !known.has(v));
    if (bad.length)
      throw new ValueError(`${source}: invalid configuration: variants: unknown variant(s) ${bad.join(', ')} (known: ${[...known].join(', ')})`, 'config');
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
    throw new ValueError(
      "invalid configuration: codes.space 'mixed' needs align.contentMix to list a weight below 1 (with [1] the mixed space is the aligned space; set codes.space 'aligned' for codes from the aligner's output alone)",
      'config',
    );
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
