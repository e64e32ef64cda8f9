// Data-parallel ranker training over real MPI processes: mpirun starts
// test/support/dist_rank_worker.mjs on 2 and 3 ranks, each training the cases of
// test/support/dist_rank_data.js with `dist`; this file trains the same rankers in one process on
// the same global batches and compares. Needs Open MPI's mpirun (Debian: apt-get install
// openmpi-bin); without it the suite skips and says why. The one-rank check runs everywhere.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { diffs, f32, mpirunMissing, runJob as runJobOf } from './support/mpirun.js';
import { CASES, RANKER, flatParams, rankData } from './support/dist_rank_data.js';

const worker = new URL('./support/dist_rank_worker.mjs', import.meta.url).pathname;

const runJob = (np) => runJobOf(worker, np, { prefix: 'qarm-drk-' });

// Measured on 2 and 3 ranks, both cases (commit of this test): the same validation AUC in every
// epoch (difference 0), weights at most 9.3e-8 apart (1.7e-5 relative to max(|w|, 1e-3)),
// validation probabilities at most 6e-8 apart. The bounds leave 100x room for other summation orders.
const AUC_TOL = 0.002;
const WEIGHT_ABS_TOL = 1e-5;

describe('data-parallel ranker training over MPI (mpirun)', function () {
  this.timeout(180000);
  const skip = mpirunMissing();
  const jobs = {};
  const ref = {};

  before(async function () {
    if (skip) {
      console.warn(`    data-parallel ranker training skipped: ${skip}`);
      this.skip();
    }
    jobs[2] = runJob(2);
    jobs[3] = runJob(3);
    const { items, train, valid } = rankData(q);
    for (const c of CASES) {
      const ranker = new q.rank.Ranker(RANKER, items);
      const r = await q.rank.trainRanker(ranker, train, valid, c.opts);
      ref[c.name] = { params: flatParams(ranker), history: r.history, bestEpoch: r.bestEpoch, bestProbs: r.bestProbs };
    }
  });

  for (const np of [2, 3]) {
    it(`${np} ranks = one process on the same global batches (AUC within ${AUC_TOL}, weights within ${WEIGHT_ABS_TOL}), identical parameters on every rank`, () => {
      const figures = [];
      for (const c of CASES) {
        const ranks = jobs[np].map((o) => o.cases[c.name]);
        const want = ref[c.name];
        ranks.forEach((o, r) => {
          assert.equal(o.params, ranks[0].params, `${c.name}: rank ${r} ended with other parameters than rank 0`);
          assert.equal(o.bestProbs, ranks[0].bestProbs, `${c.name}: rank ${r} has other validation probabilities`);
          assert.deepEqual(o.history, ranks[0].history, `${c.name}: rank ${r} has another history`);
        });
        const got = ranks[0];
        assert.equal(got.history.length, want.history.length);
        assert.equal(got.bestEpoch, want.bestEpoch, `${c.name}: best epoch`);
        assert.equal(got.steps, want.history.length * Math.ceil(641 / c.opts.batchSize));
        let aucDiff = 0;
        got.history.forEach((h, e) => {
          const w = want.history[e];
          aucDiff = Math.max(aucDiff, Math.abs(h.auc - w.auc));
          assert.ok(Math.abs(h.auc - w.auc) <= AUC_TOL, `${c.name}: epoch ${e} AUC ${h.auc} vs one process ${w.auc}`);
          assert.ok(Math.abs(h.loss - w.loss) <= 1e-5, `${c.name}: epoch ${e} training loss ${h.loss} vs ${w.loss}`);
          assert.ok(Math.abs(h.logloss - w.logloss) <= 1e-4, `${c.name}: epoch ${e} logloss ${h.logloss} vs ${w.logloss}`);
        });
        const w = diffs(f32(got.params), want.params);
        const p = diffs(f32(got.bestProbs), want.bestProbs);
        figures.push(
          `${c.name}: AUC ${aucDiff.toExponential(1)}, weights ${w.abs.toExponential(1)} abs / ${w.rel.toExponential(1)} rel, probs ${p.abs.toExponential(1)}`,
        );
        assert.ok(w.abs <= WEIGHT_ABS_TOL, `${c.name}: weights differ by ${w.abs} (abs) from one process`);
        assert.ok(p.abs <= 1e-5, `${c.name}: validation probabilities differ by ${p.abs}`);
        // One allReduce per step (the dense gradients), none elsewhere.
        assert.equal(got.stats.allReduce.calls, got.steps, `${c.name}: allReduce calls`);
      }
      console.log(`      ${np} ranks, max diff from one process: ${figures.join('; ')}`);
    });

    it(`${np} ranks: resume from a checkpoint only rank 0 wrote and holds`, () => {
      const ranks = jobs[np];
      ranks.forEach((o, r) => {
        assert.equal(o.resume.written, r === 0, `rank ${r} ${o.resume.written ? 'wrote' : 'did not write'} a checkpoint`);
        assert.deepEqual(o.resume.epochs, [1], `rank ${r}: the resumed run trained epochs ${o.resume.epochs}`);
        // Resuming reproduces the uninterrupted distributed run bit for bit.
        assert.equal(o.resume.params, o.cases[CASES[0].name].params, `rank ${r}: resumed parameters`);
        assert.deepEqual(
          o.resume.history,
          o.cases[CASES[0].name].history.map((h) => h.auc),
        );
      });
    });

    it(`${np} ranks: mismatched options or data throw the same typed error on every rank`, () => {
      for (const o of jobs[np]) {
        assert.deepEqual(o.errors['batchSize differs'] && [o.errors['batchSize differs'].name, o.errors['batchSize differs'].argument], [
          'ValueError',
          'batchSize',
        ]);
        assert.deepEqual(o.errors['train differs'] && [o.errors['train differs'].name, o.errors['train differs'].argument], ['ValueError', 'train']);
        const bad = o.errors['bad option on the last rank'];
        assert.equal(bad.name, 'ValueError');
        assert.equal(bad.argument, o.rank === np - 1 ? 'lr' : 'dist');
      }
    });
  }
});

describe('data-parallel ranker training, one rank', () => {
  it('dist with a world of one trains bit-identically to no dist', async () => {
    const { items, train, valid } = rankData(q);
    const c = CASES[1];
    const a = new q.rank.Ranker(RANKER, items);
    const ra = await q.rank.trainRanker(a, train, valid, c.opts);
    const b = new q.rank.Ranker(RANKER, items);
    const rb = await q.rank.trainRanker(b, train, valid, { ...c.opts, dist: q.dist });
    assert.equal(q.dist.worldSize, 1);
    assert.deepEqual(flatParams(b), flatParams(a));
    assert.deepEqual(
      rb.history.map((h) => h.auc),
      ra.history.map((h) => h.auc),
    );
  });
});
