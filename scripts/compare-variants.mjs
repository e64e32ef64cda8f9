#!/usr/bin/env node
// Compares ranker variants on the VALIDATION split only (test metrics are never computed):
// content, pairs, aligner and codes are built once with the run's defaults (over --config),
// then every (ranker override, variant, seed) is trained on two workers; prints validation AUC
// all / cold and GAUC (mean ± std over seeds), per-seed values and best epochs.
// Besides the run's variants it knows `qarm+aligned` (qarm plus the frozen aligned embedding)
// and `qarm+content` (qarm plus the frozen raw content embedding).
//
//   node scripts/compare-variants.mjs [--config run.json] [--seeds 1,2,3] [--variants qarm,id+aligned]
//        [--grid '[{"weightDecay":1e-5},{"weightDecay":1e-4}]']
import { parseArgs } from 'node:util';
import '../dist/index.js';
import { readConfigFile, resolveConfig } from '../dist/pipeline/config.js';
import { loadData } from '../dist/pipeline/io.js';
import { buildProtocol } from '../dist/pipeline/protocol.js';
import { interactionLog } from '../dist/pipeline/dataset_log.js';
import { prepare, itemFeatures } from '../dist/pipeline/run.js';
import { toRankSamples, warmMask } from '../dist/pipeline/features.js';
import { runRankJobs } from '../dist/pipeline/rank_jobs.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { consoleProgress, silentProgress } from '../dist/pipeline/progress.js';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3' },
    variants: { type: 'string', default: 'qarm,id+aligned' },
    grid: { type: 'string', default: '[{}]' },
  },
});
const extra = {
  'qarm+aligned': { ...VARIANT_SPECS.qarm, name: 'qarm+aligned', description: 'qarm + frozen aligned embedding', dense: 'aligned' },
  'qarm+content': { ...VARIANT_SPECS.qarm, name: 'qarm+content', description: 'qarm + frozen raw content embedding', dense: 'raw' },
};
const seeds = args.seeds.split(',').map(Number);
const specs = args.variants.split(',').map((n) => {
  const s = VARIANT_SPECS[n] ?? extra[n];
  if (!s) throw new Error(`unknown variant '${n}'`);
  return s;
});
const grid = JSON.parse(args.grid);
const cfg = resolveConfig(args.config ? readConfigFile(args.config) : undefined, {});
const ds = await loadData(null);
const P = buildProtocol(interactionLog(ds), cfg.protocol);
const prep = await prepare(ds, P, cfg, specs, consoleProgress(), {});
const o = prep.order;
const train = toRankSamples(P.train, P, o, { maxHistory: cfg.protocol.historyLength, negativeFraction: cfg.ranker.trainNegativeFraction, seed: cfg.protocol.seed });
const validation = toRankSamples(P.validation, P, o);
// The "test" slot is the validation set again, so nothing here ever reads the test period.
const ctx = { numUsers: P.numTrainUsers, numWarm: o.numWarm, train, validation, test: validation, warmValidation: warmMask(validation, o), warmTest: warmMask(validation, o), items: (s) => itemFeatures(s, prep) };
const jobs = grid
  .flatMap((g, gi) => specs.flatMap((spec) => seeds.map((seed) => ({ gi, spec, seed, ranker: { ...cfg.ranker, ...g } }))))
  .map((j, id) => ({ id, ...j }));
const runs = await runRankJobs(jobs, ctx, specs, silentProgress, 2, 1);
console.log('| ranker override | variant | val AUC all | val AUC cold | val GAUC all | per-seed AUC all / cold | best epochs |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
grid.forEach((g, gi) => {
  for (const spec of specs) {
    const rs = jobs.filter((j) => j.gi === gi && j.spec === spec).map((j) => runs[j.id]);
    const mean = (f) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
    const std = (f) => (rs.length < 2 ? 0 : Math.sqrt(rs.reduce((a, r) => a + (f(r) - mean(f)) ** 2, 0) / (rs.length - 1)));
    const fmt = (f) => `${mean(f).toFixed(4)} ± ${std(f).toFixed(4)}`;
    const per = rs.map((r) => `${r.validation.all.auc.toFixed(4)} / ${r.validation.cold.auc.toFixed(4)}`).join(', ');
    console.log(`| ${JSON.stringify(g)} | ${spec.name} | ${fmt((r) => r.validation.all.auc)} | ${fmt((r) => r.validation.cold.auc)} | ${fmt((r) => r.validation.all.gauc)} | ${per} | ${rs.map((r) => r.bestEpoch).join(', ')} |`);
  }
});
