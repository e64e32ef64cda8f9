// Ranker trainings spread over worker threads give the same bits as one after another.
import assert from 'node:assert/strict';
import '../dist/index.js';
import { synthetic } from '../dist/rank/synthetic.js';
import { runRankJobs } from '../dist/pipeline/rank_jobs.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { silentProgress } from '../dist/pipeline/progress.js';

describe('pipeline rank jobs', function () {
  this.timeout(120000);

  it('runs (variant, seed) jobs on 1 or 2 workers bit-identically to the sequential run, in job order', async () => {
    const numItems = 301;
    const { items, samples } = synthetic(1500, { numItems, numUsers: 50, codebookSizes: [7, 5], maxHistory: 6, seed: 3 });
    const split = (a, b) => ({
      size: b - a,
      maxHistory: 6,
      user: samples.user.slice(a, b),
      item: samples.item.slice(a, b),
      label: samples.label.slice(a, b),
      history: samples.history.slice(a * 6, b * 6),
      historyLength: samples.historyLength.slice(a, b),
      group: samples.user.slice(a, b),
    });
    const dense = new Float32Array(numItems * 3).map((_, i) => Math.sin(i));
    const vq = new Int32Array(numItems * 2).map((_, i) => (i * 7) % 200);
    const all = { ...items, dense: { values: dense, dim: 3 }, vq: { codes: vq, k: 2, poolSize: 200 } };
    const specs = [VARIANT_SPECS.id, VARIANT_SPECS['id+content'], VARIANT_SPECS.qarm];
    const test = split(1200, 1500);
    const ctx = {
      numUsers: 50,
      numWarm: 250,
      train: split(0, 1000),
      validation: split(1000, 1200),
      test,
      warmValidation: new Uint8Array(200).fill(1),
      warmTest: Uint8Array.from(test.item, (i) => (i < 250 ? 1 : 0)),
      items: (s) => ({ numItems, ...(s.dense ? { dense: all.dense } : {}), ...(s.rq ? { rq: all.rq } : {}), ...(s.vq ? { vq: all.vq } : {}) }),
    };
    const ranker = {
      embeddingDim: 4,
      hidden: [8],
      attentionHidden: [4],
      batchSize: 128,
      lr: 5e-3,
      weightDecay: 0,
      maxEpochs: 2,
      patience: 1,
      trainNegativeFraction: 1,
    };
    const jobs = specs.flatMap((spec) => [1, 2].map((seed) => ({ spec, seed, ranker }))).map((j, id) => ({ id, ...j }));
    const strip = (runs) =>
      runs.map((r) => ({ seed: r.seed, test: r.test, validation: r.validation, bestEpoch: r.bestEpoch, curve: r.curve.map((c) => ({ ...c, seconds: 0 })) }));
    const seq = strip(await runRankJobs(jobs, ctx, specs, silentProgress, 0, 1));
    const one = strip(await runRankJobs(jobs, ctx, specs, silentProgress, 1, 2));
    const par = strip(await runRankJobs(jobs, ctx, specs, silentProgress, 2, 1));
    assert.deepEqual(par, seq);
    assert.deepEqual(one, seq);
    assert.deepEqual(
      seq.map((r) => r.seed),
      [1, 2, 1, 2, 1, 2],
    );
    // Different variants really differ (the comparison is not vacuous).
    assert.notDeepEqual(seq[0].test, seq[4].test);

    // Non-default code features reach the workers: the same bits as the sequential run with
    // them, and different bits from the defaults (a worker that lost them would train defaults).
    const codeFeatures = { mode: 'prefix', prefixTableSize: 16, vqHistory: true, vqCross: true, codeDropout: true, countNorm: 'scaled' };
    const qjobs = jobs.filter((j) => j.spec.name === 'qarm').map((j, id) => ({ ...j, id }));
    const fctx = { ...ctx, codeFeatures };
    const fseq = strip(await runRankJobs(qjobs, fctx, specs, silentProgress, 0, 1));
    const fpar = strip(await runRankJobs(qjobs, fctx, specs, silentProgress, 2, 1));
    assert.deepEqual(fpar, fseq);
    assert.notDeepEqual(
      fseq.map((r) => r.test),
      seq.slice(4).map((r) => r.test),
    );
  });
});
