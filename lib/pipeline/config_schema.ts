/**
 * The zod schemas of `qarm run`'s configuration and the types derived from them: one schema per
 * section in its resolved form (every field present, {@link RunConfigSchema}); the config file
 * ({@link ConfigSchema}) is the same sections with every key optional. Unknown keys are errors
 * at every level, so a misspelt option is named instead of silently ignored.
 */
import { z } from 'zod';
import type { AlignOptions, MinePairsOptions } from '../align/index.js';

const timePoint = z.union([z.string().min(1), z.number().finite()]);
const int = (min: number) => z.number().int().min(min);
const frac = z.number().gt(0).lt(1);
const share = z.number().gt(0).lte(1);

/** `protocol.split`: every key optional even when resolved (absent = the split's own rule). */
export const SplitSchema = z.strictObject({
  /** `'time'` (default): one cut for everybody; `'per-user'`: each user's last events (lib/pipeline/protocol_split.ts). */
  mode: z.enum(['time', 'per-user']).optional(),
  /** Time mode: the first validation time (a date string or Unix seconds). */
  trainEnd: timePoint.optional(),
  /** Time mode: the first test time. */
  testStart: timePoint.optional(),
  /** Time mode: shares of the events (not of the time span) before validation / before test. */
  trainFraction: frac.optional(),
  testFraction: frac.optional(),
  /** Per-user mode: shares of each user's events in validation (0.1) and test (0.2), at least one each. */
  validationShare: frac.optional(),
  testShare: frac.optional(),
});

const ProtocolSection = z.strictObject({
  split: SplitSchema,
  /** Sampled negatives per positive. */
  negatives: int(0),
  /** History items the ranker sees per request. */
  historyLength: int(1),
  /** Seed of the negative sampling and the user subsets. */
  seed: z.number().int(),
  /** Share of the users in the experiment (seeded). */
  userFraction: share,
  /** Share of users whose training events are used (data-efficiency curve); validation/test unchanged. */
  trainUserFraction: share,
});

const ContentSection = z.strictObject({
  /** Content modalities to encode from item text; `.npy` modalities of the dataset are always added. */
  modalities: z.array(z.enum(['glove', 'chargram'])).min(1),
  /** Width of the chargram encoder's output. */
  lexicalDims: int(2),
  /** Use `<name>.npy` files of the dataset folder (all of them when true). */
  useDatasetEmbeddings: z.boolean(),
  /** Cache encoded text on disk. */
  cache: z.boolean(),
});

const countKinds = ['users', 'events'] as const;
const miners = ['cooccurrence', 'swing', 'user2item'] as const;

/**
 * `pairs`: options of lib/align's `minePairs` (its `MinePairsOptions` document each; absent =
 * lib/align's `PAIR_MINING_DEFAULTS`).
 */
export const PairsSchema = z.strictObject({
  miners: z.array(z.enum(miners)).min(1).optional(),
  topN: int(1).optional(),
  cap: int(1).optional(),
  minScore: z.number().finite().optional(),
  cooccurrence: z
    .strictObject({
      sameBasket: z.boolean().optional(),
      window: z.number().min(0).optional(),
      count: z.enum(countKinds).optional(),
      maxBasket: int(1).optional(),
    })
    .optional(),
  swing: z
    .strictObject({
      alpha: z.number().positive().optional(),
      userWeight: z.boolean().optional(),
      userAlpha: z.number().min(0).optional(),
      maxItemsPerUser: int(1).optional(),
    })
    .optional(),
  user2item: z.strictObject({ historyLength: int(1).optional() }).optional(),
});

/**
 * `align`: options of lib/align's aligner (its `AlignerOptions` and `AlignOptions` document each;
 * absent = lib/align's `ALIGN_DEFAULTS`). Data handling (events, encoders, mining) is the
 * pipeline's, so those keys are not here.
 */
export const AlignSchema = z.strictObject({
  dims: int(1).optional(),
  hidden: z.array(int(1)).optional(),
  activation: z.enum(['relu', 'tanh', 'sigmoid', 'none']).optional(),
  temperature: z.number().positive().optional(),
  batchSize: int(2).optional(),
  lr: z.number().positive().optional(),
  weightDecay: z.number().min(0).optional(),
  epochs: int(1).optional(),
  patience: int(0).optional(),
  neighbourhoodWeight: z.number().min(0).optional(),
  neighbourhoodTemperature: z.number().positive().optional(),
  contentMix: z.array(z.number().gt(0).lte(1)).min(1).optional(),
  validationK: int(1).optional(),
  maxValidationPairs: int(1).optional(),
  ensemble: int(1).optional(),
  seed: z.number().int().optional(),
  earlyStopOn: z.enum(['new', 'all']).optional(),
});

// Compile-time checks that every pairs / align key is an option lib/align takes, with its type.
type Assignable<T extends U, U> = T;
export type _PairsKeysAreMinerOptions = Assignable<z.infer<typeof PairsSchema>, MinePairsOptions>;
export type _AlignKeysAreAlignOptions = Assignable<z.infer<typeof AlignSchema>, AlignOptions>;

/** The embedding space the `qarm` codes (RQ and VQ) are built from; see {@link RunConfig}. */
export const CODE_SPACES = ['aligned', 'mixed'] as const;
/** One of {@link CODE_SPACES}. */
export type CodeSpace = (typeof CODE_SPACES)[number];

/**
 * `codes.features`: how the ranker turns the codes into features (lib/rank's RankerConfig and
 * FeatureSwitches document each in full).
 */
export const CodeFeaturesSchema = z.strictObject({
  /** `'levels'`: one table per RQ level; `'prefix'`: one table per code prefix (c1), (c1,c2), … ['levels']. */
  mode: z.enum(['levels', 'prefix']),
  /** Rows of a prefix table whose exact prefixes do not fit (then hashed, collisions reported) [16384]. */
  prefixTableSize: int(1),
  /** The VQ-code bag also in every history item's representation [false]. */
  vqHistory: z.boolean(),
  /** The VQ cross feature: history items among the target's VQ codes, pooled, and their count [false]. */
  vqCross: z.boolean(),
  /** With item-id dropout, also drop 0..L−1 of the target's finest code levels [false]. */
  codeDropout: z.boolean(),
  /** Cross-feature counts as log(1 + c) (`'log1p'`) or log(1 + c) / log(1 + H) (`'scaled'`, in [0, 1]) ['scaled'; lib/rank's Ranker keeps 'log1p']. */
  countNorm: z.enum(['log1p', 'scaled']),
});

/**
 * How the ranker turns the codes into features (`codes.features`). Defaults are in
 * `defaultCodeFeatures()`; a config saved before the key existed means `legacyCodeFeatures()`.
 */
// An interface rather than a type alias, so that the API reference lists the fields.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CodeFeatures extends z.infer<typeof CodeFeaturesSchema> {}

const CodesSection = z.strictObject({
  /**
   * What the `qarm` codes are built from. `'aligned'` = the aligner's output alone; `'mixed'` =
   * lib/align's retrieval space `[√w · aligned, √(1−w) · content]` with w chosen (with the epoch)
   * on validation pairs from `align.contentMix`, so cold items keep their content neighbourhood.
   * `id+aligned` always reads the aligned output; `id+rq-raw` and `qarm-unaligned` always read
   * raw content.
   */
  space: z.enum(CODE_SPACES),
  /** VQ codes per item (nearest warm items). */
  vqK: int(1),
  /** RQ levels. */
  rqLevels: int(1),
  /** RQ codebook size, one for all levels or one per level. */
  rqCodebookSize: z.union([int(2), z.array(int(2)).min(1)]),
  /** k-means iterations per RQ level. */
  iterations: int(1),
  /** Seed of the codebooks (random codes use `seed + 1000003`). */
  seed: z.number().int(),
  /** Balanced k-means at every RQ level (cluster sizes capped at ceil(n / K)). */
  rqBalanced: z.boolean(),
  features: CodeFeaturesSchema,
});

const RankerSection = z.strictObject({
  /** Embedding width of every table. */
  embeddingDim: int(1),
  /** Hidden sizes of the tower MLP. */
  hidden: z.array(int(1)),
  /** Hidden sizes of the DIN attention MLP. */
  attentionHidden: z.array(int(1)),
  batchSize: int(1),
  lr: z.number().positive(),
  weightDecay: z.number().min(0),
  /** Most epochs; the best epoch on validation AUC is kept. */
  maxEpochs: int(1),
  /** Stop after this many epochs without a better validation AUC. */
  patience: int(0),
  /** Keep this fraction of training negatives (seeded); 1 keeps all. */
  trainNegativeFraction: share,
  /** Item-id dropout of every variant: train the target's id as the OOV (cold) row with this probability. */
  itemIdDropout: z.number().min(0).lt(1),
  /** The same for each history item id. */
  historyIdDropout: z.number().min(0).lt(1),
});

const EvaluationSection = z.strictObject({
  /** A warm item with fewer training events than this is long-tail (its own slice). */
  longTailMax: int(1),
});

/** The resolved configuration of a run: every field present (`resolveConfig()` builds it). */
export const RunConfigSchema = z.strictObject({
  /** Dataset folder; null = the bundled Online Retail data. */
  data: z.string().min(1).nullable(),
  /** Output folder. */
  out: z.string().min(1),
  /** Ranker seeds. */
  seeds: z.array(z.number().int()).min(1),
  variants: z.array(z.string().min(1)).min(1),
  ablations: z.array(z.string().min(1)),
  /** Kernel threads; null = all cores. */
  threads: int(1).nullable(),
  /** Ranker trainings run side by side in worker threads (default: two, or one on a single core; README, "Commands"). */
  workers: int(1),
  /** Held-out pairs sampled per set for the alignment recall table. */
  recallPairs: int(1),
  /** `--quick`: a smoke run, not a result. */
  quick: z.boolean(),
  protocol: ProtocolSection,
  evaluation: EvaluationSection,
  /**
   * The data-efficiency curve: rerun the pipeline (aligner, codes, ranker) on each share of the
   * training users, with the same validation and test; distinct, descending; empty = no curve.
   */
  trainFractions: z.array(share),
  content: ContentSection,
  pairs: PairsSchema,
  align: AlignSchema,
  codes: CodesSection,
  ranker: RankerSection,
});

/**
 * The resolved configuration of `qarm run` (every field present): the defaults, the `--quick`
 * preset, the config file and the flags merged by `resolveConfig()`. `pairs` and `align` hold
 * only the keys the run sets; lib/align's defaults apply to the rest.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RunConfig extends z.infer<typeof RunConfigSchema> {}

/** The JSON config file's schema: the sections of {@link RunConfigSchema} with every key optional (unknown keys are errors). */
export const ConfigSchema = z.strictObject({
  data: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
  /** A count n (seeds 1..n) or the list of seeds. */
  seeds: z.union([int(1), z.array(z.number().int()).min(1)]).optional(),
  variants: RunConfigSchema.shape.variants.optional(),
  ablations: RunConfigSchema.shape.ablations.optional(),
  threads: int(1).optional(),
  workers: RunConfigSchema.shape.workers.optional(),
  recallPairs: RunConfigSchema.shape.recallPairs.optional(),
  protocol: ProtocolSection.partial().optional(),
  evaluation: EvaluationSection.partial().optional(),
  trainFractions: RunConfigSchema.shape.trainFractions.optional(),
  content: ContentSection.partial().optional(),
  pairs: PairsSchema.optional(),
  align: AlignSchema.optional(),
  codes: CodesSection.extend({ features: CodeFeaturesSchema.partial() }).partial().optional(),
  ranker: RankerSection.partial().optional(),
});

/** A config file's contents (every key optional), as {@link ConfigSchema} accepts them. */
export type ConfigFile = z.infer<typeof ConfigSchema>;
