// Data-parallel aligner training over real MPI processes: mpirun starts
// test/support/dist_align_worker.mjs on 2 and 3 ranks, each training the cases of
// test/support/dist_align_data.js with `dist`; this file trains the same aligners in one process
// on the same global batches and compares. Needs Open MPI's mpirun (Debian: apt-get install
// openmpi-bin); without it the suite skips and says why. The one-rank check runs everywhere.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { diffs, f32, mpirunMissing, runJob as runJobOf } from './support/mpirun.js';
import { CASES, alignData, flatWeights, stepGradient } from './support/dist_align_data.js';

const worker = new URL('./support/dist_align_worker.mjs', import.meta.url).pathname;

const runJob = (np) => runJobOf(worker, np, { prefix: 'qarm-dal-' });

// Measured on 2 and 3 ranks, every case (commit of this test): the same best epoch and validation
// Recall@10 in every epoch (difference 0), weights at most 1.5e-7 apart (3.2e-5 relative to
// max(|w|, 1e-3)). The bounds leave about 100x room for other summation orders.
const WEIGHT_ABS_TOL = 1e-5;
const VALIDATION_TOL = 1e-5;

describe('data-parallel aligner training over MPI (mpirun)', function () {
  this.timeout(180000);
  const skip = mpirunMissing();
  const jobs = {};
  const ref = {};

  before(function () {
    if (skip) {
      console.warn(`    data-parallel aligner training skipped: ${skip}`);
      this.skip();
    }
    jobs[2] = runJob(2);
    jobs[3] = runJob(3);
    const { content, train, validation } = alignData(q);
    for (const c of CASES) {
      const r = q.trainAligner(content, train, { ...c.opts, validation });
      ref[c.name] = {
        weights: flatWeights(r.models),
        embeddings: Float32Array.from(r.embeddings.toTypedArray()),
        history: r.history,
        bestEpoch: r.bestEpoch,
        bestValidation: r.bestValidation,
        mixWeight: r.mixWeight,
      };
    }
  });

  for (const np of [2, 3]) {
    it(`${np} ranks = one process on the same global batches (validation within ${VALIDATION_TOL}, weights within ${WEIGHT_ABS_TOL}), identical on every rank`, () => {
      const figures = [];
      for (const c of CASES) {
        const ranks = jobs[np].map((o) => o.cases[c.name]);
        const want = ref[c.name];
        ranks.forEach((o, r) => {
          assert.equal(o.weights, ranks[0].weights, `${c.name}: rank ${r} ended with other weights than rank 0`);
          assert.equal(o.embeddings, ranks[0].embeddings, `${c.name}: rank ${r} has other embeddings`);
          assert.deepEqual(o.history, ranks[0].history, `${c.name}: rank ${r} has another history`);
        });
        const got = ranks[0];
        assert.equal(got.history.length, want.history.length, `${c.name}: epochs trained`);
        assert.equal(got.bestEpoch, want.bestEpoch, `${c.name}: best epoch`);
        assert.equal(got.mixWeight, want.mixWeight, `${c.name}: content mix`);
        assert.ok(
          Math.abs(got.bestValidation - want.bestValidation) <= VALIDATION_TOL,
          `${c.name}: best validation ${got.bestValidation} vs ${want.bestValidation}`,
        );
        let valDiff = 0;
        got.history.forEach((h, e) => {
          const w = want.history[e];
          valDiff = Math.max(valDiff, Math.abs(h.validation - w.validation));
          assert.ok(
            Math.abs(h.validation - w.validation) <= VALIDATION_TOL,
            `${c.name}: epoch ${e + 1} validation ${h.validation} vs one process ${w.validation}`,
          );
          assert.ok(Math.abs(h.loss - w.loss) <= 1e-5 * Math.abs(w.loss), `${c.name}: epoch ${e + 1} training loss ${h.loss} vs ${w.loss}`);
        });
        const w = diffs(f32(got.weights), want.weights);
        const z = diffs(f32(got.embeddings), want.embeddings);
        figures.push(
          `${c.name}: validation ${valDiff.toExponential(1)}, weights ${w.abs.toExponential(1)} abs / ${w.rel.toExponential(1)} rel, embeddings ${z.abs.toExponential(1)}`,
        );
        assert.ok(w.abs <= WEIGHT_ABS_TOL, `${c.name}: weights differ by ${w.abs} (abs) from one process`);
        assert.ok(z.abs <= WEIGHT_ABS_TOL, `${c.name}: embeddings differ by ${z.abs} (abs) from one process`);
        // Per step one allGather (the projected rows) and one allReduce (the gradients); one more
        // allGather before training (the agreement).
        const members = c.opts.ensemble;
        const steps = members * want.history.length * Math.floor(257 / c.opts.batchSize);
        assert.equal(got.stats.allReduce.calls, steps, `${c.name}: allReduce calls`);
        assert.equal(got.stats.allGather.calls, steps + 1, `${c.name}: allGather calls`);
      }
      console.log(`      ${np} ranks, max diff from one process: ${figures.join('; ')}`);
    });

    it(`${np} ranks: one step's all-reduced gradient = the one-process gradient of the global batch (within 1e-5 of its largest entry)`, () => {
      const data = alignData(q);
      const figures = [];
      for (const [batch, got] of Object.entries(jobs[np][0].gradients)) {
        jobs[np].forEach((o, r) => assert.equal(o.gradients[batch], got, `batch ${batch}: rank ${r} has another gradient than rank 0`));
        const want = stepGradient(q, data, Number(batch));
        const scale = want.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
        const d = diffs(f32(got), want).abs / scale;
        figures.push(`batch ${batch}: ${d.toExponential(1)}`);
        assert.ok(d <= 1e-5, `batch ${batch}: gradient ${d} (relative to its largest entry) from one process`);
      }
      console.log(`      ${np} ranks, gradient max diff / max |g|: ${figures.join(', ')}`);
    });

    it(`${np} ranks: onEpoch asking to stop on one rank stops every rank`, () => {
      for (const o of jobs[np]) assert.deepEqual(o.stopped, { epochs: [1], history: 1 }, `rank ${o.rank}`);
    });

    it(`${np} ranks: mismatched or bad options and data throw a typed error on every rank`, () => {
      for (const o of jobs[np]) {
        const e = o.errors;
        assert.deepEqual(e['batchSize differs'] && [e['batchSize differs'].name, e['batchSize differs'].argument], ['ValueError', 'batchSize']);
        assert.deepEqual(e['pairs differ'] && [e['pairs differ'].name, e['pairs differ'].argument], ['ValueError', 'pairs']);
        const bad = e['bad option on the last rank'];
        assert.equal(bad.name, 'ValueError');
        assert.equal(bad.argument, o.rank === np - 1 ? 'temperature' : 'dist');
      }
    });
  }
});

describe('data-parallel aligner training, one rank', () => {
  it('dist with a world of one trains bit-identically to no dist', () => {
    const { content, train, validation } = alignData(q);
    const opts = { ...CASES[1].opts, epochs: 2, validation };
    const a = q.trainAligner(content, train, opts);
    const b = q.trainAligner(content, train, { ...opts, dist: q.dist });
    assert.equal(q.dist.worldSize, 1);
    assert.deepEqual(Array.from(flatWeights(b.models)), Array.from(flatWeights(a.models)));
    assert.deepEqual(
      b.history.map((h) => [h.loss, h.validation]),
      a.history.map((h) => [h.loss, h.validation]),
    );
  });
});
