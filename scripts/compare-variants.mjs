#!/usr/bin/env node
// Compares configurations on the VALIDATION split only (test metrics are never computed): for
// each grid entry (a partial run config merged over --config and the defaults: `codes`,
// `ranker`, `align` … ) content, pairs, aligner and codes are built, then every (entry, variant,
// seed) is trained on two workers; prints validation AUC on all / long-tail / cold samples
// (mean ± std over seeds), their mean (the selection score used for issue 14's choices), per-seed
// values and best epochs. Besides the run's variants it knows `qarm+aligned` (qarm plus the
// frozen aligned embedding) and `qarm+content` (qarm plus the frozen raw content embedding).
//
//   node scripts/compare-variants.mjs [--data DIR] [--config run.json] [--seeds 1,2,3]
//        [--variants qarm,id+aligned] [--grid '[{"codes":{"features":{"mode":"prefix"}}},{"ranker":{"lr":1e-3}}]']
import { parseArgs } from 'node:util';
import '../dist/index.js';
import { readConfigFile, resolveConfig } from '../dist/pipeline/config.js';
import { loadData } from '../dist/pipeline/io.js';
import { buildProtocol } from '../dist/pipeline/protocol.js';
import { interactionLog } from '../dist/pipeline/dataset_log.js';
import { prepare, itemFeatures } from '../dist/pipeline/run.js';
import { toRankSamples } from '../dist/pipeline/features.js';
import { sliceClasses } from '../dist/pipeline/slice_metrics.js';
import { runRankJobs } from '../dist/pipeline/rank_jobs.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { fmtStat, stat } from '../dist/pipeline/results.js';
import { silentProgress } from '../dist/pipeline/progress.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
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
const file = args.config ? readConfigFile(args.config) : {};
const base = resolveConfig(file, args.data ? { data: args.data } : {});
const ds = await loadData(base.data);
const P = buildProtocol(interactionLog(ds), base.protocol);
const deep = (a, b) => {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const o = { ...a };
  for (const [k, v] of Object.entries(b)) o[k] = deep(a[k], v);
  return o;
};
console.log(`| grid entry | variant | val AUC all | val AUC long-tail | val AUC cold | mean of the three | per-seed all / long-tail / cold | best epochs |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const g of grid) {
  const cfg = resolveConfig(deep(file, g), args.data ? { data: args.data } : {});
  const t0 = Date.now();
  const prep = await prepare(ds, P, cfg, specs, silentProgress, {});
  const o = prep.order;
  const train = toRankSamples(P.train, P, o, {
    maxHistory: cfg.protocol.historyLength,
    negativeFraction: cfg.ranker.trainNegativeFraction,
    seed: cfg.protocol.seed,
  });
  const validation = toRankSamples(P.validation, P, o);
  const classes = sliceClasses(validation, o, P.trainCount, cfg.evaluation.longTailMax);
  // The "test" slot is the validation set again, so nothing here ever reads the test period.
  const ctx = {
    numUsers: P.numTrainUsers,
    numWarm: o.numWarm,
    train,
    validation,
    test: validation,
    warmValidation: classes,
    warmTest: classes,
    items: (s) => itemFeatures(s, prep),
    codeFeatures: cfg.codes.features,
  };
  const jobs = specs.flatMap((spec) => seeds.map((seed) => ({ spec, seed, ranker: cfg.ranker }))).map((j, id) => ({ id, ...j }));
  const runs = await runRankJobs(jobs, ctx, specs, silentProgress, 2, 1);
  for (const spec of specs) {
    const rs = jobs.filter((j) => j.spec === spec).map((j) => runs[j.id]);
    const fmt = (f) => fmtStat(stat(rs.map(f)));
    const v = (r) => r.validation;
    const score = (r) => (v(r).all.auc + v(r).longtail.auc + v(r).cold.auc) / 3;
    const per = rs.map((r) => `${v(r).all.auc.toFixed(4)} / ${v(r).longtail.auc.toFixed(4)} / ${v(r).cold.auc.toFixed(4)}`).join(', ');
    console.log(
      `| ${JSON.stringify(g)} | ${spec.name} | ${fmt((r) => v(r).all.auc)} | ${fmt((r) => v(r).longtail.auc)} | ${fmt((r) => v(r).cold.auc)} | ${fmt(score)} | ${per} | ${rs.map((r) => r.bestEpoch).join(', ')} |`,
    );
  }
  console.error(`entry ${JSON.stringify(g)}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
