/**
 * `qarm run`: the end-to-end QARM experiment.
 *
 *   dataset → protocol (splits, negatives, histories)
 *           → content embeddings (item text encoders + the folder's .npy modalities)
 *           → behaviour pairs from the training period → contrastive aligner
 *           → RQ codes (raw and aligned) + VQ codes (aligned pool of warm items) + statistics
 *           → every variant × every seed: train with early stopping on validation AUC, evaluate
 *             on the all / warm / long-tail / cold slices; paired per-seed differences against qarm
 *           → optionally the same again at each share of the training users (`trainFractions`)
 *           → results.json, report.html, a summary table.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { align, filterPairs, pairKeys } from '../align/align.js';
import { minePairs, type MinePairsOptions } from '../align/pairs.js';
import { cooccurrenceScores, groupByUser } from '../align/miners.js';
import { embeddingScorer, matrixScorer, pairRecall } from '../align/pair_recall.js';
import type { Dataset } from '../data/dataset.js';
import { numThreads, setNumThreads } from '../tensor/runtime.js';
import { Generator } from '../tensor/random.js';
import type { ItemFeatures } from '../rank/types.js';
import type { RankCommunicator } from '../rank/trainer.js';
import { buildProtocol, type Protocol } from './protocol.js';
import { interactionLog } from './dataset_log.js';
import { itemOrder, permuteRows, toRankSamples, type ItemOrder } from './features.js';
import { buildRandomCodes, buildRQ, buildVQ, type RQTable, type VQTable } from './code_tables.js';
import type { RankContext } from './train_variant.js';
import { runRankJobs, type RankJob } from './rank_jobs.js';
import { VARIANT_SPECS, type VariantSpec } from './variants.js';
import {
  aggregateRuns,
  curveTable,
  pairedDifferences,
  pairedTable,
  SLICES,
  summaryTable,
  type CurveFractionResult,
  type Results,
  type SeedRun,
  type RecallRow,
  type SliceName,
  type VariantMetrics,
  type VariantResult,
} from './results.js';
import { sliceClasses, sliceSizes } from './slice_metrics.js';
import type { RunConfig } from './config.js';
import type { Progress } from './progress.js';
import { loadData, writeJson, writeText } from './io.js';
import { writeNpy } from '../data/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { renderReport } from './report.js';

/** What {@link runExperiment} returns (and writes). */
export interface RunOutput {
  results: Results;
  table: string;
  files: { results: string; report: string };
}

/** Everything built once per run, shared by every variant and seed. */
export interface Prepared {
  ds: Dataset;
  P: Protocol;
  order: ItemOrder;
  content: { values: Float32Array; dim: number };
  aligned: { values: Float32Array; dim: number };
  /**
   * What the `qarm` codes (RQ and VQ "aligned") are built from (`codes.space`): the aligned
   * embeddings, or lib/align's retrieval space mixing them with content at weight `mixWeight`.
   */
  codeSpace: { space: RunConfig['codes']['space']; values: Float32Array; dim: number; mixWeight: number };
  rqRaw?: RQTable;
  rqAligned?: RQTable;
  vqRaw?: VQTable;
  vqAligned?: VQTable;
  /** The random-codes control's tables (qarm's shape, no meaning). */
  rqRandom?: RQTable;
  vqRandom?: VQTable;
  alignment: Results['alignment'];
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** One pipeline pass (protocol → prepare → rank) at one share of the training users. */
interface PointRun {
  P: Protocol;
  prep: Prepared;
  ctx: RankContext;
  runs: Record<string, SeedRun[]>;
  testSamples: Record<SliceName, number>;
  workers: number;
}

/**
 * Builds the protocol of `protocolCfg`, everything the variants need from it, and trains every
 * (spec, seed). `timings` receives this pass's steps. With `dist` (more than one rank), every
 * rank builds the same protocol, tables and samples, the aligner and each ranker training run
 * data-parallel in this thread (MPI is called from the thread that initialised it, so no worker
 * threads).
 */
async function runPoint(
  ds: Dataset,
  cfg: RunConfig,
  protocolCfg: RunConfig['protocol'],
  specs: VariantSpec[],
  progress: Progress,
  timings: Record<string, number>,
  checkpoint?: (spec: VariantSpec, seed: number) => string,
  dist?: RankCommunicator,
  tableSharding?: 'replicated' | 'row',
): Promise<PointRun> {
  const lap = (name: string, since: number): void => {
    timings[name] = (Date.now() - since) / 1000;
  };
  let t = Date.now();
  const P = buildProtocol(interactionLog(ds), protocolCfg);
  lap('protocol', t);
  progress.log(
    `protocol: ${P.stats.events} first-purchase events; train ${P.train.size} / validation ${P.validation.size} / test ${P.test.size} samples; ` +
      `${P.numWarmItems} warm items, ${P.stats.coldItemsInTest} cold items in test; ${P.stats.trainTestUsers} users with training and test events; ` +
      (P.split.mode === 'time'
        ? `split ${P.stats.splitDates.trainEnd} / ${P.stats.splitDates.testStart}`
        : `per-user split (validation ${P.split.validationShare}, test ${P.split.testShare})`),
  );
  for (const w of P.stats.warnings) progress.log(`warning: ${w}`);
  if (P.validation.positives === 0 || P.test.positives === 0) {
    throw new Error(`the split leaves no ${P.validation.positives === 0 ? 'validation' : 'test'} samples; set protocol.split in the config`);
  }

  const prep = await prepare(ds, P, cfg, specs, progress, timings, dist);

  // Ranker samples, shared by all variants.
  t = Date.now();
  const order = prep.order;
  const train = toRankSamples(P.train, P, order, {
    maxHistory: protocolCfg.historyLength,
    negativeFraction: cfg.ranker.trainNegativeFraction,
    seed: protocolCfg.seed,
  });
  const validation = toRankSamples(P.validation, P, order);
  const test = toRankSamples(P.test, P, order);
  const longTailMax = cfg.evaluation.longTailMax;
  // Slice classes (cold / warm / long-tail) ride in the warm-mask fields: sliceMetrics reads both.
  // P.trainCount = training events per item = its training positives (at this fraction).
  const ctx: RankContext = {
    numUsers: P.numTrainUsers,
    numWarm: order.numWarm,
    train,
    validation,
    test,
    warmValidation: sliceClasses(validation, order, P.trainCount, longTailMax),
    warmTest: sliceClasses(test, order, P.trainCount, longTailMax),
    items: (spec) => itemFeatures(spec, prep),
    codeFeatures: cfg.codes.features,
  };
  lap('samples', t);

  t = Date.now();
  const jobs: RankJob[] = specs
    .flatMap((spec) => cfg.seeds.map((seed) => ({ spec, seed, ranker: cfg.ranker, checkpointPath: checkpoint?.(spec, seed), tableSharding })))
    .map((j, id) => ({ id, ...j }));
  const threads = cfg.threads ?? numThreads();
  const workers = dist ? 0 : Math.max(1, Math.min(cfg.workers, jobs.length));
  progress.log(
    dist
      ? `ranking: ${jobs.length} training${jobs.length === 1 ? '' : 's'}, each data-parallel over ${dist.worldSize} ranks`
      : `ranking: ${jobs.length} training${jobs.length === 1 ? '' : 's'} on ${workers} worker thread${workers === 1 ? '' : 's'}`,
  );
  const done = await runRankJobs(jobs, ctx, specs, progress, workers, Math.max(1, Math.floor(threads / Math.max(1, workers))), dist);
  const runs: Record<string, SeedRun[]> = {};
  for (const j of jobs) (runs[j.spec.name] ??= []).push(done[j.id]);
  lap('rank', t);
  return { P, prep, ctx, runs, testSamples: sliceSizes(ctx.warmTest), workers };
}

/** Test metrics by slice of each variant (the per-seed reduction of `variants`, without curves). */
function testMetrics(runs: Record<string, SeedRun[]>, names: string[]): Record<string, VariantMetrics> {
  const out: Record<string, VariantMetrics> = {};
  for (const n of names) {
    const r = aggregateRuns(runs[n]);
    out[n] = Object.fromEntries(SLICES.map((s) => [s, r[s]])) as VariantMetrics;
  }
  return out;
}

/**
 * Runs the whole experiment described by `cfg`, writing into `outDir` (already checked writable).
 * `dist` (a job of more than one rank): every rank runs the same experiment and trains the
 * aligner and every ranker data-parallel with the others; only rank 0 writes files (the others write nothing, and
 * need no `outDir`). Results record `worldSize`.
 */
export async function runExperiment(
  cfg: RunConfig,
  outDir: string,
  progress: Progress,
  command = 'qarm run',
  opts: { saveModels?: boolean; dist?: RankCommunicator; tableSharding?: 'replicated' | 'row' } = {},
): Promise<RunOutput> {
  const dist = opts.dist && opts.dist.worldSize > 1 ? opts.dist : undefined;
  const writes = !dist || dist.rank === 0;
  const t0 = Date.now();
  const loadStart = loadavg();
  const timings: Record<string, number> = {};
  if (cfg.threads) setNumThreads(cfg.threads);
  const specs = [...cfg.variants, ...cfg.ablations].map((v) => VARIANT_SPECS[v]);

  const t = Date.now();
  progress.log(`loading ${cfg.data ?? 'the bundled Online Retail dataset'}`);
  const ds = await loadData(cfg.data, { skipEmbeddings: !cfg.content.useDatasetEmbeddings });
  timings.load = (Date.now() - t) / 1000;

  const main = await runPoint(
    ds,
    cfg,
    cfg.protocol,
    specs,
    progress,
    timings,
    opts.saveModels ? (spec, seed) => join(outDir, `${spec.name}-seed${seed}.ckpt`) : undefined,
    dist,
    opts.tableSharding,
  );
  const { P, prep, runs, workers } = main;

  if (opts.saveModels && writes) saveModelTables(outDir, specs, main.ctx, cfg.seeds, dist?.worldSize ?? 1);

  const variants: Record<string, VariantResult> = {};
  const ablations: Record<string, VariantResult> = {};
  for (const v of cfg.variants) variants[v] = aggregateRuns(runs[v], VARIANT_SPECS[v].description);
  for (const v of cfg.ablations) ablations[v] = aggregateRuns(runs[v], VARIANT_SPECS[v].description);
  const paired = pairedDifferences({ ...variants, ...ablations });
  const curve = cfg.trainFractions.length ? await dataEfficiencyCurve(ds, cfg, main, progress, timings, dist, opts.tableSharding) : undefined;
  const wallSeconds = (Date.now() - t0) / 1000;
  const codes = [prep.rqAligned?.summary, prep.rqRaw?.summary, prep.rqRandom?.summary].filter((x) => x !== undefined);
  const results: Results = {
    qarm: version(),
    worldSize: dist?.worldSize ?? 1,
    createdAt: new Date().toISOString(),
    command,
    wallSeconds,
    timings,
    machine: {
      cpus: cpus().length,
      threads: numThreads(),
      rankWorkers: workers,
      loadAverage: { start: loadStart, end: loadavg() },
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    dataset: { name: ds.name, dir: ds.dir, ...P.stats },
    config: cfg,
    seeds: cfg.seeds,
    variants,
    ...(cfg.ablations.length ? { ablations } : {}),
    ...(paired ? { paired } : {}),
    testSamples: main.testSamples,
    ...(curve ? { curve } : {}),
    alignment: prep.alignment,
    codes,
    vq: prep.vqAligned?.summary,
    notes: [
      `Slices: a sample is warm/cold by its target item (cold = no training-period event); long-tail = warm with fewer than ${cfg.evaluation.longTailMax} training events (training users who bought it). GAUC groups = requests (one user basket and its negatives).`,
      'Paired differences: per seed, qarm minus the variant on the same split and seed; mean ± sample std over seeds.',
      ...(curve
        ? [
            "Data-efficiency curve: at each fraction the aligner, codes and ranker see that share of the training users (same validation and test); warm / long-tail / cold follow that fraction's training events. Ablations are not rerun per fraction.",
          ]
        : []),
      'Cold items whose RQ code at some level is used by no training item are re-encoded over the used codes only (back-off to the nearest trained code); VQ slots naming pool items no training item uses are left empty.',
      cfg.quick
        ? 'Quick run: a fraction of the users and tiny models; a smoke test, not a result.'
        : 'Hyperparameters were chosen on the validation split only.',
    ],
  } as Results;
  const table = [summaryTable(variants, ['auc', 'gauc', 'logloss']), ...(paired ? [pairedTable(paired)] : []), ...(curve ? [curveTable(curve)] : [])].join(
    '\n\n',
  );
  const resultsFile = join(outDir, 'results.json');
  const reportFile = join(outDir, 'report.html');
  if (writes) {
    writeJson(resultsFile, results);
    writeText(reportFile, renderReport(results));
  }
  return { results, table, files: { results: resultsFile, report: reportFile } };
}

/**
 * The data-efficiency curve: the pipeline rerun (protocol, aligner, codes, every variant of
 * `cfg.variants` × seed) at each share of the training users in `cfg.trainFractions`; the share
 * the main run used is the main run itself. Its wall time goes to `timings.curve`.
 */
async function dataEfficiencyCurve(
  ds: Dataset,
  cfg: RunConfig,
  main: PointRun,
  progress: Progress,
  timings: Record<string, number>,
  dist?: RankCommunicator,
  tableSharding?: 'replicated' | 'row',
): Promise<CurveFractionResult[]> {
  const t0 = Date.now();
  const mainFraction = cfg.protocol.trainUserFraction;
  const specs = cfg.variants.map((v) => VARIANT_SPECS[v]);
  const out: CurveFractionResult[] = [];
  for (const fraction of cfg.trainFractions) {
    const t = Date.now();
    let point: PointRun;
    if (fraction === mainFraction) point = main;
    else {
      progress.log(`data-efficiency curve: ${fraction} of the training users`);
      point = await runPoint(ds, cfg, { ...cfg.protocol, trainUserFraction: fraction }, specs, progress, {}, undefined, dist, tableSharding);
    }
    const variants = testMetrics(point.runs, cfg.variants);
    const paired = pairedDifferences(variants);
    out.push({
      fraction,
      variants,
      ...(paired ? { paired } : {}),
      testSamples: point.testSamples,
      trainSamples: point.P.train.size,
      warmItems: point.P.numWarmItems,
      seconds: point === main ? 0 : (Date.now() - t) / 1000,
    });
  }
  timings.curve = (Date.now() - t0) / 1000;
  return out;
}

/**
 * Content, pairs, alignment and codes: built once, only those the chosen variants need. With
 * `dist` (more than one rank) the aligner trains data-parallel; the encoders, pair mining and
 * the quantisers run on every rank alike (deterministic, so every rank builds the same tables
 * from the same aligned embeddings).
 */
export async function prepare(
  ds: Dataset,
  P: Protocol,
  cfg: RunConfig,
  specs: VariantSpec[],
  progress: Progress,
  timings: Record<string, number>,
  dist?: RankCommunicator,
): Promise<Prepared> {
  const needAligned = specs.some((s) => s.dense === 'aligned' || s.rq === 'aligned' || s.vq === 'aligned');
  const needContent = specs.some((s) => s.dense || (s.rq && s.rq !== 'random') || (s.vq && s.vq !== 'random'));
  const order = itemOrder(P);
  const n = P.numItems;
  let t = Date.now();
  // The protocol's periods, not times: they hold under the per-user split too (and carry the
  // userFraction / trainUserFraction subsets).
  const [trainEvents, validationEvents, testEvents] = P.periodInteractions.map((idx) => Array.from(idx, (i) => ds.interactions[i]));
  let content = { values: new Float32Array(0), dim: 0 };
  let aligned = { values: new Float32Array(0), dim: 0 };
  let codeSpace: Prepared['codeSpace'] = { space: cfg.codes.space, ...aligned, mixWeight: 1 };
  let alignment: Results['alignment'];
  if (needContent) {
    const task = progress.task('content + alignment', 1);
    const out = await align(ds, {
      ...cfg.align,
      encoders: {
        modalities: cfg.content.modalities,
        lexicalDims: cfg.content.lexicalDims,
        cacheDir: cfg.content.cache ? undefined : false,
        log: (m: string) => progress.log(m),
      },
      mining: cfg.pairs,
      trainEvents,
      validationEvents,
      log: (m: string) => progress.log(`aligner: ${m}`),
      // Data-parallel over the job's ranks; every rank gets the same aligned embeddings.
      ...(dist ? { dist } : {}),
    });
    content = { values: Float32Array.from(out.content.f32()), dim: out.content.shape[1] };
    aligned = { values: Float32Array.from(out.embeddings.f32()), dim: out.embeddings.shape[1] };
    // lib/align returns no retrieval space when it chose w = 1: the mixed space is then the aligned one.
    const mixed = cfg.codes.space === 'mixed' && out.retrieval !== null;
    codeSpace = mixed
      ? { space: 'mixed', values: Float32Array.from(out.retrieval!.f32()), dim: out.retrieval!.shape[1], mixWeight: out.mixWeight }
      : { space: cfg.codes.space, ...aligned, mixWeight: 1 };
    task.done(`${content.dim}-d content (${out.encoder.modalities.join('+')}), ${out.pairCounts.union} training pairs, aligner best epoch ${out.bestEpoch}`);
    timings.align = (Date.now() - t) / 1000;
    t = Date.now();
    alignment = {
      recall: heldOutRecall(
        P,
        trainEvents,
        testEvents,
        out.pairs,
        content,
        aligned,
        codeSpace.space === 'mixed' ? codeSpace : null,
        cfg.pairs,
        cfg.recallPairs,
      ),
      pairCounts: out.pairCounts,
      encoder: out.encoder,
      bestEpoch: out.bestEpoch,
      mixWeight: out.mixWeight,
      history: out.history,
      seconds: out.seconds,
    };
    timings.recall = (Date.now() - t) / 1000;
    out.content.dispose();
    out.embeddings.dispose();
    out.retrieval?.dispose();
  }
  void needAligned;
  t = Date.now();
  const c = cfg.codes;
  const rqOpts = {
    levels: c.rqLevels,
    codebookSize: c.rqCodebookSize,
    iterations: c.iterations,
    seed: c.seed,
    prefixTableSize: c.features.prefixTableSize,
    balanced: c.rqBalanced,
  };
  const prep: Prepared = { ds, P, order, content, aligned, codeSpace, alignment };
  const cs = codeSpace;
  const csName = cs.mixWeight < 1 ? `aligned ⊕ content, w ${cs.mixWeight}` : 'aligned';
  if (specs.some((s) => s.rq === 'aligned')) prep.rqAligned = buildRQ(`rq (${csName})`, cs.values, cs.dim, P.warm, rqOpts);
  if (specs.some((s) => s.rq === 'raw')) prep.rqRaw = buildRQ('rq (raw content)', content.values, content.dim, P.warm, rqOpts);
  if (specs.some((s) => s.vq === 'aligned')) prep.vqAligned = buildVQ(`vq (${csName})`, cs.values, cs.dim, P.warm, c.vqK);
  if (specs.some((s) => s.vq === 'raw')) prep.vqRaw = buildVQ('vq (raw content)', content.values, content.dim, P.warm, c.vqK);
  if (specs.some((s) => s.rq === 'random' || s.vq === 'random')) {
    // qarm's shape (levels, sizes, VQ k over the warm pool); its own seed, fixed across runs.
    const r = buildRandomCodes(P.warm, {
      levels: c.rqLevels,
      codebookSize: c.rqCodebookSize,
      k: c.vqK,
      seed: c.seed + 1000003,
      prefixTableSize: c.features.prefixTableSize,
    });
    prep.rqRandom = r.rq;
    prep.vqRandom = r.vq;
  }
  timings.codes = (Date.now() - t) / 1000;
  if (prep.rqAligned) progress.log(`codes: ${describe(prep.rqAligned)}`);
  if (prep.rqRaw) progress.log(`codes: ${describe(prep.rqRaw)}`);
  if (prep.rqRandom) progress.log(`codes: ${describe(prep.rqRandom)}`);
  void n;
  return prep;
}

function describe(t: RQTable): string {
  const s = t.summary;
  return `${s.name}: ${t.levels} x ${t.sizes.join('/')}, utilisation ${s.utilisation.map((u) => u.toFixed(2)).join('/')}, collision rate ${(100 * s.collisionRate).toFixed(1)} %`;
}

/**
 * Recall@10/50 of test-period pairs in raw vs aligned space (and the mixed space the codes are
 * built from, when it is used): all, not mined in training, involving a cold item.
 */
function heldOutRecall(
  P: Protocol,
  trainEvents: Dataset['interactions'],
  testEvents: Dataset['interactions'],
  trainPairs: { a: Int32Array; b: Int32Array; score: Float32Array },
  content: { values: Float32Array; dim: number },
  aligned: { values: Float32Array; dim: number },
  mixed: { values: Float32Array; dim: number } | null,
  mining: MinePairsOptions,
  maxPairs: number,
): RecallRow[] {
  const n = P.numItems;
  const all = minePairs(testEvents, n, mining).pairs;
  const seen = pairKeys(trainPairs, n);
  const sets = {
    all,
    new: filterPairs(all, (a, b) => !seen.has(Math.min(a, b) * n + Math.max(a, b))),
    cold: filterPairs(all, (a, b) => !P.warm[a] || !P.warm[b]),
  };
  const raw = embeddingScorer(l2rows(content.values, content.dim), n, content.dim);
  const ali = embeddingScorer(aligned.values, n, aligned.dim);
  const mix = mixed ? embeddingScorer(mixed.values, n, mixed.dim) : null;
  // Behaviour-only baseline: co-occurrence counts, read straight from the miners' score matrix.
  const beh = matrixScorer(cooccurrenceScores(groupByUser(trainEvents, n), n));
  const rows: RecallRow[] = [];
  for (const [name, full] of Object.entries(sets)) {
    if (full.a.length === 0) continue;
    // A seeded sample keeps the cost bounded (Recall over 3,000 pairs has a std of about 0.005).
    const pairs = samplePairs(full, maxPairs, 29);
    const r = pairRecall(raw, n, pairs).recall;
    const a = pairRecall(ali, n, pairs).recall;
    const b = pairRecall(beh, n, pairs).recall;
    const m = mix ? pairRecall(mix, n, pairs).recall : null;
    for (const k of [10, 50])
      rows.push({ set: `${name} (${pairs.a.length} of ${full.a.length} pairs)`, k, raw: r[k], aligned: a[k], ...(m ? { mixed: m[k] } : {}), behaviour: b[k] });
  }
  return rows;
}

function samplePairs(
  p: { a: Int32Array; b: Int32Array; score: Float32Array },
  max: number,
  seed: number,
): { a: Int32Array; b: Int32Array; score: Float32Array } {
  if (p.a.length <= max) return p;
  const idx = Int32Array.from({ length: p.a.length }, (_, i) => i);
  new Generator(seed).shuffle(idx);
  const keep = Array.from(idx.subarray(0, max)).sort((x, y) => x - y);
  return { a: Int32Array.from(keep, (k) => p.a[k]), b: Int32Array.from(keep, (k) => p.b[k]), score: Float32Array.from(keep, (k) => p.score[k]) };
}

function l2rows(x: Float32Array, dim: number): Float32Array {
  const out = Float32Array.from(x);
  for (let i = 0; i < out.length; i += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += out[i + j] * out[i + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[i + j] *= inv;
  }
  return out;
}

/**
 * What `qarm eval` needs besides the checkpoints and config.json: the item tables each variant
 * was trained with (codes and frozen embeddings depend on the aligner and k-means runs, so they
 * are saved rather than rebuilt) and the id vocabulary sizes.
 */
function saveModelTables(outDir: string, specs: VariantSpec[], ctx: RankContext, seeds: number[], worldSize: number): void {
  const models: SavedModel[] = specs.map((spec) => {
    const it = ctx.items(spec);
    const file = (part: string): string => `${spec.name}-items-${part}.npy`;
    if (it.rq) writeNpy(join(outDir, file('rq')), Tensor.fromArray(it.rq.codes, [it.numItems, it.rq.levels], 'int32'));
    if (it.vq) writeNpy(join(outDir, file('vq')), Tensor.fromArray(it.vq.codes, [it.numItems, it.vq.k], 'int32'));
    if (it.dense) writeNpy(join(outDir, file('dense')), Tensor.fromArray(it.dense.values, [it.numItems, it.dense.dim], 'float32'));
    return {
      variant: spec.name,
      checkpoints: seeds.map((seed) => ({ seed, file: `${spec.name}-seed${seed}.ckpt` })),
      numUsers: ctx.numUsers,
      numWarm: ctx.numWarm,
      numItems: it.numItems,
      ...(it.rq ? { rq: { file: file('rq'), codebookSize: it.rq.codebookSize as number | number[] } } : {}),
      ...(it.vq ? { vq: { file: file('vq'), poolSize: it.vq.poolSize } } : {}),
      ...(it.dense ? { dense: { file: file('dense') } } : {}),
    };
  });
  writeJson(join(outDir, 'model.json'), { worldSize, models });
}

/** One entry of model.json (see {@link saveModelTables}). */
export interface SavedModel {
  variant: string;
  checkpoints: { seed: number; file: string }[];
  numUsers: number;
  numWarm: number;
  numItems: number;
  rq?: { file: string; codebookSize: number | number[] };
  vq?: { file: string; poolSize: number };
  dense?: { file: string };
}

/** The item-side tables a variant reads, in ranker order. */
export function itemFeatures(spec: VariantSpec, prep: Prepared): ItemFeatures {
  const o = prep.order;
  const items: ItemFeatures = { numItems: prep.P.numItems };
  if (spec.dense) {
    const src = spec.dense === 'raw' ? prep.content : prep.aligned;
    items.dense = { values: permuteRows(src.values, src.dim, o), dim: src.dim };
  }
  if (spec.rq) {
    const rq = { raw: prep.rqRaw, aligned: prep.rqAligned, random: prep.rqRandom }[spec.rq]!;
    items.rq = { codes: permuteRows(rq.codes, rq.levels, o), levels: rq.levels, codebookSize: rq.sizes };
  }
  if (spec.vq) {
    const vq = { raw: prep.vqRaw, aligned: prep.vqAligned, random: prep.vqRandom }[spec.vq]!;
    // Pool entries name dataset items; the VQ cross feature matches them against ranker ids.
    items.vq = { codes: permuteRows(vq.codes, vq.k, o), k: vq.k, poolSize: vq.poolSize, poolItems: Int32Array.from(vq.poolItems, (i) => o.rankId[i]) };
  }
  return items;
}
