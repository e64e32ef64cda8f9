#!/usr/bin/env node
// Chooses the RQ code shape (levels x codebook size) of `qarm run` on the VALIDATION split:
// content, pairs and the aligner are built once with the run's defaults (over --config), then
// `qarm` is trained for each candidate (RQ shape, VQ k) and seed; prints validation AUC all /
// cold (mean over seeds). The codes come from the run's code space (`codes.space`). Test
// metrics are never read.
//
//   node scripts/tune-codes.mjs [--config run.json] [--seeds 1,2] [--shapes 3x64,2x256,...] [--vq-k 25,50] [--ranker '{"maxEpochs":6}']
import '../dist/index.js';
import { readConfigFile, resolveConfig } from '../dist/pipeline/config.js';
import { loadData } from '../dist/pipeline/io.js';
import { buildProtocol } from '../dist/pipeline/protocol.js';
import { interactionLog } from '../dist/pipeline/dataset_log.js';
import { prepare, itemFeatures } from '../dist/pipeline/run.js';
import { toRankSamples, warmMask } from '../dist/pipeline/features.js';
import { buildRQ, buildVQ } from '../dist/pipeline/code_tables.js';
import { runRankJobs } from '../dist/pipeline/rank_jobs.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { consoleProgress, silentProgress } from '../dist/pipeline/progress.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const seeds = arg('seeds', '1,2').split(',').map(Number);
const shapes = arg('shapes', '2x64,3x64,4x64,3x32,3x128,2x256,3x256')
  .split(',')
  .map((s) => {
    const [l, k] = s.split('x').map(Number);
    return { levels: l, size: k };
  });
const configFile = arg('config', null);
const cfg = resolveConfig(configFile ? readConfigFile(configFile) : undefined, {});
const vqKs = arg('vq-k', String(cfg.codes.vqK)).split(',').map(Number);
const candidates = shapes.flatMap((sh) => vqKs.map((vqK) => ({ ...sh, vqK })));
Object.assign(cfg.ranker, JSON.parse(arg('ranker', '{}')));
const progress = consoleProgress();
const ds = await loadData(null);
const P = buildProtocol(interactionLog(ds), cfg.protocol);
const spec = VARIANT_SPECS.qarm;
const prep = await prepare(ds, P, cfg, [spec], progress, {});
const o = prep.order;
const train = toRankSamples(P.train, P, o, {
  maxHistory: cfg.protocol.historyLength,
  negativeFraction: cfg.ranker.trainNegativeFraction,
  seed: cfg.protocol.seed,
});
const validation = toRankSamples(P.validation, P, o);
const ctx = {
  numUsers: P.numTrainUsers,
  numWarm: o.numWarm,
  train,
  validation,
  test: validation,
  warmValidation: warmMask(validation, o),
  warmTest: warmMask(validation, o),
  items: (s) => itemFeatures(s, prep),
};
const rows = [];
for (const sh of candidates) {
  const t0 = Date.now();
  const cs = prep.codeSpace;
  prep.rqAligned = buildRQ('rq', cs.values, cs.dim, P.warm, {
    levels: sh.levels,
    codebookSize: sh.size,
    iterations: cfg.codes.iterations,
    seed: cfg.codes.seed,
  });
  prep.vqAligned = buildVQ('vq', cs.values, cs.dim, P.warm, sh.vqK);
  const jobs = seeds.map((seed, id) => ({ id, spec, seed, ranker: cfg.ranker }));
  const runs = await runRankJobs(jobs, ctx, [spec], silentProgress, Math.min(2, jobs.length), 1);
  const mean = (f) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const std = (f) => (runs.length < 2 ? 0 : Math.sqrt(runs.reduce((a, r) => a + (f(r) - mean(f)) ** 2, 0) / (runs.length - 1)));
  const row = {
    shape: `${sh.levels}x${sh.size}`,
    vqK: sh.vqK,
    valAll: mean((r) => r.validation.all.auc),
    valCold: mean((r) => r.validation.cold.auc),
    valAllStd: std((r) => r.validation.all.auc),
    valColdStd: std((r) => r.validation.cold.auc),
    valGauc: mean((r) => r.validation.all.gauc),
    perSeedAll: runs.map((r) => +r.validation.all.auc.toFixed(4)),
    epochs: runs.map((r) => r.bestEpoch),
    collision: prep.rqAligned.summary.collisionRate,
    seconds: (Date.now() - t0) / 1000,
  };
  rows.push(row);
  progress.log(JSON.stringify(row));
}
console.log(`code space: ${prep.codeSpace.space} (${prep.codeSpace.dim}-d, aligned weight ${prep.codeSpace.mixWeight})`);
console.log('| RQ shape | VQ k | val AUC all | val AUC cold | val GAUC all | collision rate | best epochs |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.shape} | ${r.vqK} | ${r.valAll.toFixed(4)} ± ${r.valAllStd.toFixed(4)} | ${r.valCold.toFixed(4)} ± ${r.valColdStd.toFixed(4)} | ${r.valGauc.toFixed(4)} | ${(100 * r.collision).toFixed(1)} % | ${r.epochs.join(', ')} |`,
  );
