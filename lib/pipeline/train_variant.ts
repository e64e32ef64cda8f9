/**
 * Trains and evaluates one ranker variant for one seed: early stopping on validation AUC
 * (lib/rank's trainer keeps the best epoch's weights), then slice metrics on validation and test.
 */
import { Ranker } from '../rank/ranker.js';
import { trainRanker, type RankCommunicator } from '../rank/trainer.js';
import type { ItemFeatures, RankSamples } from '../rank/types.js';
import { sliceMetrics } from './slice_metrics.js';
import { defaultCodeFeatures, legacyCodeFeatures, type CodeFeatures, type RunConfig } from './config.js';
import type { Progress } from './progress.js';
import type { SeedRun } from './results.js';
import { featureSwitches, type VariantSpec } from './variants.js';

/** Everything shared by all variants and seeds of a run. */
export interface RankContext {
  numUsers: number;
  numWarm: number;
  train: RankSamples;
  validation: RankSamples;
  test: RankSamples;
  warmValidation: Uint8Array;
  warmTest: Uint8Array;
  /** Item side tables in ranker order, by source. */
  items: (spec: VariantSpec) => ItemFeatures;
  /** How the codes become features (`codes.features`; the defaults when absent). */
  codeFeatures?: CodeFeatures;
}

/** The ranker of a variant: warm items have ids, cold items share the OOV row. */
export function variantRanker(
  spec: VariantSpec,
  numUsers: number,
  numWarm: number,
  items: ItemFeatures,
  cfg: RunConfig['ranker'],
  seed: number,
  codeFeatures?: Partial<CodeFeatures>,
): Ranker {
  // A config saved before `codes.features` existed keeps the features its models were trained with.
  const cf = { ...(codeFeatures ? defaultCodeFeatures() : legacyCodeFeatures()), ...codeFeatures };
  return new Ranker(
    {
      numUsers,
      numItemIds: numWarm,
      oov: true,
      embeddingDim: cfg.embeddingDim,
      attentionHidden: cfg.attentionHidden,
      hidden: cfg.hidden,
      features: featureSwitches(spec, cf),
      codeMode: cf.mode,
      prefixTableSize: cf.prefixTableSize,
      // The same hash for every seed and variant: the prefix tables differ only by their codes.
      prefixHashSeed: 0,
      countNorm: cf.countNorm,
      seed,
    },
    items,
  );
}

/**
 * `checkpointPath`: the trainer writes an atomic, resumable checkpoint there after every epoch
 * (an existing one is resumed), which `qarm train` keeps as the model file. `dist`: train
 * data-parallel with every rank of the job (each passes the same `ctx`; only rank 0 writes the
 * checkpoint); every rank gets the same result. `tableSharding`: trainRanker's, under `dist` only.
 */
export async function trainVariant(
  spec: VariantSpec,
  ctx: RankContext,
  cfg: RunConfig['ranker'],
  seed: number,
  progress: Progress,
  checkpointPath?: string,
  dist?: RankCommunicator,
  tableSharding?: 'replicated' | 'row',
): Promise<SeedRun> {
  const t0 = Date.now();
  const ranker = variantRanker(spec, ctx.numUsers, ctx.numWarm, ctx.items(spec), cfg, seed, ctx.codeFeatures);
  const batches = Math.ceil(ctx.train.size / cfg.batchSize);
  const task = progress.task(`${spec.name} seed ${seed}`, cfg.maxEpochs * batches);
  let lastVal = NaN;
  const res = await trainRanker(ranker, ctx.train, ctx.validation, {
    epochs: cfg.maxEpochs,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    weightDecay: cfg.weightDecay,
    patience: cfg.patience,
    // The same dropout for every variant (one shared recipe); `?? 0` reads configs saved before it existed.
    itemIdDropout: cfg.itemIdDropout ?? 0,
    historyIdDropout: cfg.historyIdDropout ?? 0,
    codeDropout: ctx.codeFeatures?.codeDropout ?? false,
    seed,
    checkpointPath,
    ...(dist ? { dist } : {}),
    ...(dist && tableSharding ? { tableSharding } : {}),
    onProgress: (p) =>
      task.update(
        p.epoch * batches + p.batch,
        `epoch ${p.epoch + 1} loss ${p.loss.toFixed(4)}${Number.isFinite(lastVal) ? ` val auc ${lastVal.toFixed(4)}` : ''}`,
      ),
    onEpoch: (s) => {
      lastVal = s.auc;
    },
  });
  // The kept weights' validation scores are already known from their epoch's evaluation.
  const valProbs = res.bestProbs ?? ranker.predict(ctx.validation);
  const testProbs = ranker.predict(ctx.test);
  const validation = sliceMetrics(ctx.validation, valProbs, ctx.warmValidation);
  const test = sliceMetrics(ctx.test, testProbs, ctx.warmTest);
  ranker.dispose?.();
  const seconds = (Date.now() - t0) / 1000;
  task.done(
    `best epoch ${res.bestEpoch + 1}, val auc ${res.bestAuc.toFixed(4)}, test auc ${test.all.auc.toFixed(4)} / cold ${test.cold.auc.toFixed(4)}, ${seconds.toFixed(1)} s`,
  );
  return {
    seed,
    test,
    validation,
    curve: res.history.map((h) => ({ epoch: h.epoch + 1, trainLoss: h.loss, valAuc: h.auc, seconds: h.seconds })),
    bestEpoch: res.bestEpoch + 1,
    seconds,
  };
}
