/**
 * The actions behind the `qarm` subcommands. Each validates its inputs up front (config,
 * dataset folder, writable output folder) so that a mistake costs one clear line, not a
 * half-finished run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IOError, ValueError } from '../errors.js';
import { readNpy, writeNpy } from '../data/npy.js';
import { Tensor } from '../tensor/tensor.js';
import { setNumThreads } from '../tensor/runtime.js';
import { dist } from '../dist/index.js';
import { runAlignCommand } from './align_command.js';
import { RQKMeans } from '../quant/rqkmeans.js';
import { codeStats } from '../quant/vq_codes.js';
import { RQ_FILE, VQ_FILE } from './codebooks.js';
import { saveVqPool, vqCodesOfRows } from './vq_pool.js';
import { readConfigFile, resolveConfig, validateConfig, type ConfigFile, type RunConfig } from './config.js';
import { consoleProgress, silentProgress, type Progress } from './progress.js';
import { checkDataDir, prepareOutDir, writeJson } from './io.js';
import { writeQuantizeStats, type QuantizeVqStats } from './quantize_stats.js';
import { runExperiment } from './run.js';
import { ABLATIONS, VARIANT_SPECS } from './variants.js';

interface CommonFlags {
  data?: string;
  out?: string;
  config?: string;
  quick?: boolean;
  threads?: number;
  workers?: number;
  progress?: boolean;
}

function progressFor(o: CommonFlags): Progress {
  return o.progress === false ? silentProgress : consoleProgress();
}

type RunFlags = CommonFlags & { seeds?: number[]; variants?: string[]; ablations?: boolean; trainFraction?: number[] };

function configFrom(o: RunFlags): RunConfig {
  const file: ConfigFile | undefined = o.config ? readConfigFile(o.config) : undefined;
  const flags: ConfigFile & { quick?: boolean } = validateConfig(
    Object.fromEntries(
      Object.entries({
        data: o.data,
        out: o.out,
        seeds: o.seeds,
        variants: o.variants,
        threads: o.threads,
        workers: o.workers,
        trainFractions: o.trainFraction,
      }).filter(([, v]) => v !== undefined),
    ),
    'command line',
  );
  if (o.ablations) flags.ablations = [...ABLATIONS];
  flags.quick = o.quick;
  const cfg = resolveConfig(file, flags);
  for (const v of [...cfg.variants, ...cfg.ablations])
    if (!VARIANT_SPECS[v]) throw new ValueError(`unknown variant '${v}' (known: ${Object.keys(VARIANT_SPECS).join(', ')})`, 'variants');
  return cfg;
}

/**
 * `qarm run`. Under an MPI launcher with more than one rank every rank runs the same experiment,
 * the aligner and each ranker training data-parallel (lib/pipeline/run.ts); rank 0 alone writes
 * the output folder and prints, and results.json records `worldSize`.
 */
export async function runCommand(o: RunFlags): Promise<void> {
  const cfg = configFrom(o);
  checkDataDir(cfg.data);
  const worldSize = dist.worldSize;
  const writes = worldSize === 1 || dist.rank === 0;
  // Rank 0 alone checks and writes the folder; a failure there exits non-zero, which ends the
  // job (lib/dist aborts MPI), so no rank is left waiting in a collective.
  const out = writes ? prepareOutDir(cfg.out) : resolve(cfg.out);
  const command = ['qarm', ...process.argv.slice(2)].join(' ');
  const r = await runExperiment(cfg, out, writes ? progressFor(o) : silentProgress, command, worldSize > 1 ? { dist } : {});
  if (!writes) return;
  process.stdout.write(`\n${r.table}\n\nwall time ${r.results.wallSeconds.toFixed(1)} s; wrote ${r.files.results} and ${r.files.report}\n`);
}

/**
 * `qarm align`: the aligner of lib/align on a dataset folder, with the run's protocol split.
 * Under an MPI launcher with more than one rank the aligner trains data-parallel; every rank
 * prepares the same content and pairs, rank 0 alone writes the folder (align.json records
 * `worldSize`) and prints.
 */
export async function alignCommand(o: CommonFlags): Promise<void> {
  const cfg = configFrom(o);
  checkDataDir(cfg.data);
  const writes = dist.worldSize === 1 || dist.rank === 0;
  // As in `qarm train`: a rank-0 failure here ends the job through lib/dist's abort.
  const out = writes ? prepareOutDir(o.out ?? 'qarm-align') : resolve(o.out ?? 'qarm-align');
  if (cfg.threads) setNumThreads(cfg.threads);
  const progress = writes ? progressFor(o) : silentProgress;
  const { loadData } = await import('./io.js');
  const { buildProtocol } = await import('./protocol.js');
  const { interactionLog } = await import('./dataset_log.js');
  const ds = await loadData(cfg.data);
  const P = buildProtocol(interactionLog(ds), cfg.protocol);
  progress.log(
    P.split.mode === 'time'
      ? `aligning ${ds.name}: pairs from before ${P.stats.splitDates.trainEnd}, early stopping on pairs up to ${P.stats.splitDates.testStart}`
      : `aligning ${ds.name}: pairs from each user's training events, early stopping on their validation events (per-user split)`,
  );
  const [trainEvents, validationEvents] = P.periodInteractions.map((idx) => Array.from(idx, (i) => ds.interactions[i]));
  const report = await runAlignCommand({
    ...(cfg.align as object),
    data: ds.dir,
    out,
    encoders: { modalities: cfg.content.modalities, lexicalDims: cfg.content.lexicalDims, log: (m: string) => progress.log(m) },
    mining: cfg.pairs as object,
    trainEvents,
    validationEvents,
    ...(dist.worldSize > 1 ? { dist } : {}),
  });
  if (!writes) return;
  process.stdout.write(
    `${JSON.stringify({ pairCounts: report.pairCounts, bestEpoch: report.bestEpoch, bestValidation: report.bestValidation, seconds: report.seconds }, null, 2)}\nwrote ${out}/aligned.npy, align.json\n`,
  );
}

/** Flags of `qarm quantize` that fit codebooks (meaningless with `--codebooks`). */
export const QUANTIZE_FIT_FLAGS = ['levels', 'codebookSize', 'iterations', 'vqK', 'pool', 'seed'] as const;

/**
 * `qarm quantize`: embeddings .npy → RQ codes, VQ codes, their codebooks, stats; with
 * `codebooks`, one shard's codes from saved codebooks instead (lib/pipeline/encode_shard.ts).
 * `explicitFlags` lists the flags given on the command line (not defaulted). Under an MPI
 * launcher the fit runs data-parallel, each rank on its shard of the rows, and rank 0 writes the
 * one-process files (lib/pipeline/quantize_dist.ts).
 */
export async function quantizeCommand(o: {
  input: string;
  out: string;
  levels: number;
  codebookSize: number;
  iterations: number;
  vqK: number;
  pool?: string;
  seed: number;
  threads?: number;
  progress?: boolean;
  codebooks?: string[];
  shardIndex?: number;
  numShards?: number;
  explicitFlags?: string[];
}): Promise<void> {
  const given = new Set(o.explicitFlags ?? []);
  const flag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (o.codebooks) {
    const fit = QUANTIZE_FIT_FLAGS.filter((k) => given.has(k));
    if (fit.length)
      throw new ValueError(
        `${flag(fit[0])} fits codebooks, but --codebooks fits nothing (it encodes with the saved ones); drop ${fit.map(flag).join(', ')}`,
        fit[0],
      );
    const { encodeShardCommand } = await import('./encode_shard.js');
    // Under mpirun the ranks are a job array's tasks: rank r writes shard r of N (no collective).
    const mpi = dist.worldSize > 1 ? { rank: dist.rank, worldSize: dist.worldSize } : undefined;
    const r = encodeShardCommand({ ...o, codebooks: o.codebooks, ...(mpi ? { mpi } : {}) });
    process.stdout.write(`rows ${r.rowOffset}..${r.rowOffset + r.rows} encoded; wrote ${r.files.map((f) => join(o.out, f)).join(', ')}\n`);
    return;
  }
  for (const k of ['shardIndex', 'numShards'] as const) {
    if (o[k] !== undefined) throw new ValueError(`${flag(k)} needs --codebooks (fitting runs on the whole input)`, k);
  }
  if (o.threads) setNumThreads(o.threads);
  if (!existsSync(o.input)) throw new IOError(`--input ${o.input} does not exist`, 'input');
  if (dist.worldSize > 1) {
    // Under an MPI launcher: the ranks share the rows (lib/pipeline/quantize_dist.ts).
    const { quantizeDistributed } = await import('./quantize_dist.js');
    return quantizeDistributed(o, dist, dist.rank === 0 ? progressFor(o) : silentProgress);
  }
  const x = readNpy(o.input);
  if (x.dtype !== 'float32' || x.rank !== 2)
    throw new ValueError(`--input ${o.input}: expected float32 [N, D] embeddings, got ${x.dtype} [${x.shape.join(', ')}]`, 'input');
  const [n, d] = x.shape;
  if (n < o.codebookSize) throw new ValueError(`--input has ${n} rows, fewer than --codebook-size ${o.codebookSize}`, 'codebookSize');
  const out = prepareOutDir(o.out);
  const progress = progressFor(o);
  const t0 = Date.now();
  const task = progress.task('rq-kmeans', o.levels);
  const rq = new RQKMeans({ levels: o.levels, codebookSize: o.codebookSize, iterations: o.iterations, seed: o.seed }).fit(x);
  task.done();
  const codes = rq.encode(x);
  rq.save(join(out, RQ_FILE));
  writeNpy(join(out, 'rq_codes.npy'), codes);
  const st = codeStats(codes, o.codebookSize, { embeddings: x, codebooks: rq.codebooks });
  let vq: QuantizeVqStats | undefined;
  if (o.vqK > 0) {
    let poolRows: number[] = Array.from({ length: n }, (_, i) => i);
    if (o.pool) {
      const m = readNpy(o.pool);
      const a = m.dtype === 'int32' ? m.i32() : m.f32();
      if (a.length !== n) throw new ValueError(`--pool ${o.pool}: expected ${n} entries (one per row of --input), got ${a.length}`, 'pool');
      poolRows = poolRows.filter((i) => a[i] !== 0);
    }
    if (o.vqK >= poolRows.length) throw new ValueError(`--vq-k ${o.vqK} must be smaller than the pool (${poolRows.length} rows)`, 'vqK');
    const xs = x.f32();
    const pv = new Float32Array(poolRows.length * d);
    poolRows.forEach((r, i) => pv.set(xs.subarray(r * d, (r + 1) * d), i * d));
    const pool = { pool: Tensor.fromArray(pv, [poolRows.length, d], 'float32'), rows: Int32Array.from(poolRows), k: o.vqK, inputRows: n };
    // Codes are row numbers of --input (not pool positions); an item never names itself.
    writeNpy(join(out, 'vq_codes.npy'), Tensor.fromArray(vqCodesOfRows(x, 0, pool), [n, o.vqK], 'int32'));
    saveVqPool(join(out, VQ_FILE), pool);
    vq = { k: o.vqK, poolSize: poolRows.length };
  }
  writeQuantizeStats(out, 1, o, { n, dim: d }, st, rq.relativeError, vq, t0);
  const lines = st.levels.map(
    (l, i) =>
      `  level ${i + 1}: used ${l.used}/${o.codebookSize} (${(100 * l.utilisation).toFixed(1)} %), perplexity ${l.perplexity.toFixed(1)}${l.relativeError !== undefined ? `, relative error ${l.relativeError.toFixed(4)}` : ''}`,
  );
  process.stdout.write(
    `RQ codes: ${n} x ${o.levels} levels\n${lines.join('\n')}\n  collision rate ${(100 * st.collisionRate).toFixed(2)} %, largest bucket ${st.largestBucket}, ${st.uniqueTuples} distinct tuples\n` +
      (vq ? `VQ codes: ${n} x ${o.vqK} from a pool of ${vq.poolSize}\n` : '') +
      `wrote ${out}/stats.json\n`,
  );
}

/**
 * `qarm train`: one variant, one seed; writes the run's metrics (results.json, report.html of
 * that single run), model.json, config.json and the best-epoch checkpoint.
 *
 * Under an MPI launcher (`mpirun -np N qarm train ...`, lib/dist's `dist` with more than one
 * rank) it trains data-parallel: every rank prepares the same samples and item tables and
 * `trainRanker` gets `dist`; rank 0 alone writes the output folder and prints, the other ranks
 * create and write nothing. Every output JSON records `worldSize`. `--table-sharding row` shards
 * the embedding tables row-wise over the ranks (trainRanker's `tableSharding`; ignored with one
 * rank); the results are the replicated ones.
 */
export async function trainCommand(o: CommonFlags & { variant: string; seed: number; tableSharding?: 'replicated' | 'row' }): Promise<void> {
  if (!VARIANT_SPECS[o.variant]) throw new ValueError(`--variant: unknown variant '${o.variant}' (known: ${Object.keys(VARIANT_SPECS).join(', ')})`, 'variant');
  const cfg = configFrom({ ...o, seeds: [o.seed] });
  cfg.variants = Object.keys(VARIANT_SPECS).slice(0, 5).includes(o.variant) ? [o.variant] : [];
  cfg.ablations = cfg.variants.length ? [] : [o.variant];
  checkDataDir(cfg.data);
  const worldSize = dist.worldSize;
  const writes = worldSize === 1 || dist.rank === 0;
  // Rank 0 alone checks and writes the folder; a failure there exits non-zero, which ends the
  // job (lib/dist aborts MPI), so no rank is left waiting in a collective.
  const out = writes ? prepareOutDir(cfg.out) : resolve(cfg.out);
  const r = await runExperiment(cfg, out, writes ? progressFor(o) : silentProgress, ['qarm', ...process.argv.slice(2)].join(' '), {
    saveModels: true,
    ...(worldSize > 1 ? { dist, tableSharding: o.tableSharding } : {}),
  });
  if (!writes) return;
  // worldSize: the design contract (every output JSON records it); `qarm eval` ignores it.
  writeJson(join(out, 'config.json'), { ...cfg, worldSize });
  process.stdout.write(
    `\n${r.table}\n\nwrote ${r.files.results}, ${r.files.report}, ${o.variant}-seed${o.seed}.ckpt (best-epoch weights; rerunning the same command resumes from it)\n`,
  );
}

/**
 * `qarm eval`: a `qarm train` folder (model.json + checkpoints) is evaluated afresh — the
 * saved best-epoch weights score the split rebuilt from the dataset with the saved protocol;
 * a `qarm run` folder (no checkpoints) has its recorded metrics printed.
 */
export async function evalCommand(o: { model: string; split: string; threads?: number }): Promise<void> {
  if (o.split !== 'test' && o.split !== 'validation') throw new ValueError(`--split must be 'validation' or 'test', got '${o.split}'`, 'split');
  if (o.threads) setNumThreads(o.threads);
  if (existsSync(join(o.model, 'model.json'))) return evalCheckpoints(o.model, o.split);
  const file = join(o.model, 'results.json');
  if (!existsSync(file)) throw new IOError(`--model ${o.model}: no results.json (is it an output folder of qarm train or qarm run?)`, 'model');
  const r = readJsonFile(file, 'model') as { variants: Record<string, Record<string, unknown>> };
  const { summaryTable } = await import('./results.js');
  const pick = Object.fromEntries(Object.entries(r.variants).map(([k, v]) => [k, (o.split === 'test' ? v : v.validation) as never]));
  process.stdout.write(`${summaryTable(pick)}\n`);
}

function readJsonFile(file: string, arg: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new IOError(`${file}: cannot read JSON (${(e as Error).message})`, arg);
  }
}

async function evalCheckpoints(dir: string, split: 'test' | 'validation'): Promise<void> {
  const { loadData } = await import('./io.js');
  const { buildProtocol } = await import('./protocol.js');
  const { interactionLog } = await import('./dataset_log.js');
  const { itemOrder, toRankSamples } = await import('./features.js');
  const { variantRanker } = await import('./train_variant.js');
  const { loadBestWeights } = await import('../rank/trainer.js');
  const { sliceClasses, sliceMetrics } = await import('./slice_metrics.js');
  const { aggregateRuns, summaryTable } = await import('./results.js');
  const { models } = readJsonFile(join(dir, 'model.json'), 'model') as { models: import('./run.js').SavedModel[] };
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(cfgFile)) throw new IOError(`--model ${dir}: no config.json next to model.json`, 'model');
  const cfg = readJsonFile(cfgFile, 'model') as RunConfig;
  const ds = await loadData(cfg.data, { skipEmbeddings: true });
  const P = buildProtocol(interactionLog(ds), cfg.protocol);
  const order = itemOrder(P);
  const samples = toRankSamples(split === 'test' ? P.test : P.validation, P, order);
  // `evaluation` is absent from configs saved before the long-tail slice existed: its default then.
  const classes = sliceClasses(samples, order, P.trainCount, cfg.evaluation?.longTailMax ?? 5);
  const npy = (f: string, dtype: 'int32' | 'float32'): Tensor => {
    const t = readNpy(join(dir, f));
    if (t.dtype !== dtype || t.rank !== 2) throw new IOError(`${join(dir, f)}: expected ${dtype} [items, k]`, 'model');
    return t;
  };
  const table: Record<string, ReturnType<typeof aggregateRuns>> = {};
  for (const m of models) {
    const spec = VARIANT_SPECS[m.variant];
    if (!spec) throw new IOError(`${dir}/model.json: unknown variant '${m.variant}'`, 'model');
    if (m.numItems !== P.numItems) throw new IOError(`${dir}/model.json: ${m.numItems} items, but the dataset has ${P.numItems}`, 'model');
    const items: import('../rank/types.js').ItemFeatures = { numItems: m.numItems };
    if (m.rq) {
      const t = npy(m.rq.file, 'int32');
      items.rq = { codes: Int32Array.from(t.i32()), levels: t.shape[1], codebookSize: m.rq.codebookSize };
    }
    if (m.vq) {
      const t = npy(m.vq.file, 'int32');
      items.vq = { codes: Int32Array.from(t.i32()), k: t.shape[1], poolSize: m.vq.poolSize };
    }
    if (m.dense) {
      const t = npy(m.dense.file, 'float32');
      items.dense = { values: Float32Array.from(t.f32()), dim: t.shape[1] };
    }
    const runs = m.checkpoints.map(({ seed, file }) => {
      const ranker = variantRanker(spec, m.numUsers, m.numWarm, items, cfg.ranker, seed, cfg.codes?.features);
      loadBestWeights(join(dir, file), ranker);
      ranker.eval();
      const s = sliceMetrics(samples, ranker.predict(samples), classes);
      ranker.dispose?.();
      return { seed, test: s, validation: s, curve: [], bestEpoch: 0, seconds: 0 };
    });
    table[m.variant] = aggregateRuns(runs);
  }
  process.stdout.write(`${split} split of ${ds.name}, from the saved checkpoints:\n${summaryTable(table)}\n`);
}
