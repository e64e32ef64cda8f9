// Row-wise sharded embedding tables (trainRanker with dist and tableSharding: 'row') over real
// MPI processes: mpirun starts test/support/dist_shard_worker.mjs on 2 and 3 ranks, each training
// the cases of test/support/dist_shard_data.js sharded and replicated; this file trains the same
// rankers in one process on the same global batches and compares. Needs Open MPI's mpirun
// (Debian: apt-get install openmpi-bin); without it the suite skips and says why.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { diffs, f32, mpirunMissing, runJob as runJobOf } from './support/mpirun.js';
import { CASES, flatParams, shardData } from './support/dist_shard_data.js';

const worker = new URL('./support/dist_shard_worker.mjs', import.meta.url).pathname;

const runJob = (np) => runJobOf(worker, np, { prefix: 'qarm-shd-', timeout: 170000 });

/** Rows [start, end) rank r of np owns of a table of n rows: the first n % np ranks one more. */
function ownRows(n, np, r) {
  const base = Math.floor(n / np);
  const extra = n % np;
  const start = r * base + Math.min(r, extra);
  return [start, start + base + (r < extra ? 1 : 0)];
}

// Measured on 2 and 3 ranks, all three cases (commit of this test): sharded parameters,
// validation probabilities and histories equal replicated ones bit for bit; against one process
// the validation AUC was equal in every epoch (difference 0), the weights at most 9.3e-8 apart
// (1.7e-5 relative to max(|w|, 1e-3)), probabilities at most 6e-8. The weight bound is the
// replicated test's (test/dist_rank_mpi.test.js).
// What the cases cover: the 'adam' case's last global batch has one sample, so ranks 1 and 2
// train on none of it while rank 0 reads rows they own; of the table sizes 301, 2001, 32, 16, 4
// (user table of the VQ case) and 7 (VQ pool), 2 ranks do not divide 301, 2001 and 7, 3 ranks
// not 301, 32, 16, 7 and 4; on 3 ranks the 4-row user table
// leaves ranks 1 and 2 one row each, and almost every sample of a batch reads its OOV row.
const AUC_TOL = 1e-6;
const WEIGHT_ABS_TOL = 1e-5;

describe('row-wise sharded embedding tables over MPI (mpirun)', function () {
  this.timeout(400000);
  const skip = mpirunMissing();
  const jobs = {};
  const ref = {};
  let data;

  before(async function () {
    if (skip) {
      console.warn(`    row-wise sharded tables skipped: ${skip}`);
      this.skip();
    }
    jobs[2] = runJob(2);
    jobs[3] = runJob(3);
    data = shardData(q);
    for (const c of CASES) {
      const ranker = new q.rank.Ranker(c.ranker, data[c.items]);
      const r = await q.rank.trainRanker(ranker, data.train, data.valid, c.opts);
      ref[c.name] = { params: flatParams(ranker), history: r.history, bestEpoch: r.bestEpoch, bestProbs: r.bestProbs };
    }
  });

  for (const np of [2, 3]) {
    it(`${np} ranks, sharded = replicated bit for bit, = one process on the same global batches (AUC within ${AUC_TOL}, weights within ${WEIGHT_ABS_TOL})`, () => {
      const figures = [];
      for (const c of CASES) {
        const ranks = jobs[np].map((o) => o.cases[c.name]);
        const got = ranks[0].row;
        ranks.forEach((o, r) => {
          assert.equal(o.row.params, got.params, `${c.name}: rank ${r} ended with other parameters than rank 0`);
          assert.equal(o.row.bestProbs, got.bestProbs, `${c.name}: rank ${r} has other validation probabilities`);
          assert.deepEqual(o.row.history, got.history, `${c.name}: rank ${r} has another history`);
          // The same bits as replicated tables (same sums in the same order).
          assert.equal(o.row.params, o.replicated.params, `${c.name}: rank ${r}: sharded and replicated parameters differ`);
          assert.equal(o.row.bestProbs, o.replicated.bestProbs, `${c.name}: rank ${r}: sharded and replicated validation probabilities differ`);
          assert.deepEqual(o.row.history, o.replicated.history, `${c.name}: rank ${r}: sharded and replicated histories differ`);
        });
        const want = ref[c.name];
        assert.equal(got.history.length, want.history.length);
        assert.equal(got.bestEpoch, want.bestEpoch, `${c.name}: best epoch`);
        let aucDiff = 0;
        got.history.forEach((h, e) => {
          const w = want.history[e];
          aucDiff = Math.max(aucDiff, Math.abs(h.auc - w.auc));
          assert.ok(Math.abs(h.auc - w.auc) <= AUC_TOL, `${c.name}: epoch ${e} AUC ${h.auc} vs one process ${w.auc}`);
          assert.ok(Math.abs(h.loss - w.loss) <= 1e-5, `${c.name}: epoch ${e} training loss ${h.loss} vs ${w.loss}`);
        });
        const w = diffs(f32(got.params), want.params);
        const p = diffs(f32(got.bestProbs), want.bestProbs);
        figures.push(
          `${c.name}: AUC ${aucDiff.toExponential(1)}, weights ${w.abs.toExponential(1)} abs / ${w.rel.toExponential(1)} rel, probs ${p.abs.toExponential(1)}`,
        );
        assert.ok(w.abs <= WEIGHT_ABS_TOL, `${c.name}: weights differ by ${w.abs} (abs) from one process`);
        assert.ok(p.abs <= 1e-5, `${c.name}: validation probabilities differ by ${p.abs}`);
        // Per step one allReduce (dense) and four allGathers (ids, answers, gradient ids and rows).
        assert.equal(got.stats.allReduce.calls, got.steps, `${c.name}: allReduce calls`);
      }
      console.log(`      ${np} ranks, sharded vs one process: ${figures.join('; ')}`);
    });

    it(`${np} ranks: each rank holds only its rows while training (uneven splits, a rank owning 1 row), whole tables after`, () => {
      for (const c of CASES) {
        const ranker = new q.rank.Ranker(c.ranker, data[c.items]);
        const whole = ranker.embeddingTables().map((t) => [...t.weight.shape]);
        jobs[np].forEach((o, r) => {
          const got = o.cases[c.name].row;
          const want = whole.map(([n, d]) => {
            const [s, e] = ownRows(n, np, r);
            return [e - s, d];
          });
          for (const during of got.shapesDuring) assert.deepEqual(during, want, `${c.name}: rank ${r}'s tables while training`);
          assert.deepEqual(got.shapesAfter, whole, `${c.name}: rank ${r}'s tables after training`);
          assert.deepEqual(o.cases[c.name].replicated.shapesDuring[0], whole, `${c.name}: replicated tables are whole`);
        });
        ranker.dispose();
      }
      // The cases cover what they claim: table sizes not divisible by the ranks and a 1-row shard.
      const sizes = jobs[np][0].cases[CASES[2].name].row.shapesAfter.map(([n]) => n);
      assert.ok(sizes.some((n) => n % np !== 0));
      if (np === 3) assert.ok(jobs[np].some((o) => o.cases[CASES[2].name].row.shapesDuring[0].some(([n]) => n === 1)));
    });

    it(`${np} ranks: a ranker built sharded (tableShard) never holds a whole table, and its rows are the replicated run's bit for bit`, () => {
      const figures = [];
      for (const c of CASES) {
        const ranker = new q.rank.Ranker(c.ranker, data[c.items]);
        const tables = ranker.embeddingTables();
        const whole = tables.map((t) => [...t.weight.shape]);
        const isTable = ranker.parameters().map((p) => tables.some((t) => t.weight === p));
        const ranks = jobs[np].map((o) => o.cases[c.name]);
        // The ranks' rows of every table, in rank order, and rank 0's dense layers are the replicated run's parameters.
        const parts = isTable.map((table, i) => {
          const each = ranks.map((o) => Buffer.from(o.built.perParam[i], 'base64'));
          if (!table) each.forEach((b, r) => assert.ok(b.equals(each[0]), `${c.name}: rank ${r}'s dense parameter ${i} differs from rank 0's`));
          return table ? Buffer.concat(each) : each[0];
        });
        assert.ok(
          Buffer.concat(parts).equals(Buffer.from(ranks[0].replicated.params, 'base64')),
          `${c.name}: built-sharded rows differ from the replicated run`,
        );
        const maxWhole = Math.max(...whole.map(([n]) => n));
        ranks.forEach((o, r) => {
          const got = o.built;
          assert.equal(got.bestProbs, o.replicated.bestProbs, `${c.name}: rank ${r}: validation probabilities`);
          assert.deepEqual(got.history, o.replicated.history, `${c.name}: rank ${r}: history`);
          const own = whole.map(([n, d]) => {
            const [s, e] = ownRows(n, np, r);
            return [e - s, d];
          });
          assert.deepEqual(got.shapesBuilt, own, `${c.name}: rank ${r}'s tables as built`);
          for (const during of got.shapesDuring) assert.deepEqual(during, own, `${c.name}: rank ${r}'s tables while training`);
          assert.deepEqual(got.shapesAfter, own, `${c.name}: rank ${r}'s tables after training (left sharded)`);
          // The sharded model evaluates over the ranks to the best epoch's validation probabilities; a lone predict refuses.
          assert.equal(got.evalProbs, o.replicated.bestProbs, `${c.name}: rank ${r}: evaluate({ dist }) of the returned sharded model`);
          assert.deepEqual([got.predictError?.name, got.predictError?.argument], ['ValueError', 'rows'], `${c.name}: rank ${r}: predict without dist`);
          // Initialisation builds no [rows, d] tensor beyond the rank's largest slice (the draw keeps no chunk).
          const maxOwn = Math.max(...own.map(([n]) => n));
          assert.equal(got.peakInit, maxOwn, `${c.name}: rank ${r}: largest table tensor at initialisation`);
          // Whole run: the rank's slices and the working tables of the rows a batch (or a validation chunk) reads; never a whole table
          // (the largest has more rows than any batch reads). The instrument sees whole tables where they are built (positive control).
          assert.ok(got.peakRows < maxWhole, `${c.name}: rank ${r}: a ${got.peakRows}-row table tensor (whole: ${maxWhole})`);
          assert.equal(o.row.peakInit, maxWhole, `${c.name}: rank ${r}: the whole-built ranker's init`);
          assert.ok(o.row.peakRows >= maxWhole);
          // No table is broadcast or gathered: the built run's collectives are the row run's less one allGather per table
          // (the gather at the end) and less the tables' floats in the broadcast at the start.
          assert.equal(got.stats.allGather.calls, o.row.stats.allGather.calls - tables.length, `${c.name}: rank ${r}: allGather calls`);
          const tableBytes = whole.reduce((s, [n, d]) => s + 4 * n * d, 0);
          if (r > 0) assert.equal(got.stats.broadcast.bytesReceived, o.row.stats.broadcast.bytesReceived - tableBytes, `${c.name}: rank ${r}: broadcast bytes`);
          if (r === 0)
            figures.push(
              `${c.name}: peak table-tensor rows init ${got.peakInit} (whole ${o.row.peakInit}), run ${got.peakRows} (whole-built ${o.row.peakRows})`,
            );
        });
        ranker.dispose();
      }
      console.log(`      ${np} ranks, rank 0: ${figures.join('; ')}`);
    });

    it(`${np} ranks: per-rank checkpoints (checkpointSharding 'rank') resume as the uninterrupted run, move no table, and refuse another world size`, () => {
      const c = CASES[0];
      const whole = new q.rank.Ranker(c.ranker, data[c.items]);
      const maxWhole = Math.max(...whole.embeddingTables().map((t) => t.weight.shape[0]));
      whole.dispose();
      const files = Array.from({ length: np }, (_, r) => `perrank.e1.rank${r}of${np}`);
      jobs[np].forEach((o, r) => {
        const { first, second, mismatch } = o.perRank;
        const full = o.cases[c.name].built;
        assert.ok(first.shard0, `rank ${r} did not write its epoch-0 shard`);
        if (r === 0) assert.deepEqual([first.manifest.worldSize, first.manifest.epoch], [np, 0]);
        // Resumed at epoch 1, ending with the uninterrupted run's rows and history, bit for bit.
        assert.deepEqual(second.epochs, [1], `rank ${r}: the resumed run trained epochs ${second.epochs}`);
        assert.deepEqual(second.perParam, full.perParam, `rank ${r}: resumed parameters differ from the uninterrupted run`);
        assert.deepEqual(second.history, full.history, `rank ${r}: resumed history`);
        assert.deepEqual(second.manifest, { format: 'qarm-ranker-checkpoint-shards', version: 1, worldSize: np, epoch: 1, files });
        assert.deepEqual([second.shard0, second.shard1], [false, true], `rank ${r}: epoch 0's shard deleted, epoch 1's kept`);
        // No table moves for a checkpoint: against the same epoch without one, one allGather more (of a byte: every rank
        // wrote) and one broadcast more (rank 0 wrote the manifest; the start's status broadcast asks for the manifest
        // instead of a file), of under 64 bytes a rank (headers included).
        const { baseline } = o.perRank;
        assert.equal(first.stats.allGather.calls, baseline.allGather.calls + 1, `rank ${r}: allGather calls`);
        assert.equal(first.stats.allGather.bytesReceived - baseline.allGather.bytesReceived < 64 * np, true, `rank ${r}: allGather bytes`);
        assert.equal(first.stats.broadcast.calls, baseline.broadcast.calls + 1, `rank ${r}: broadcast calls`);
        const bytes = (st) => st.broadcast.bytesReceived + st.broadcast.bytesSent;
        assert.ok(bytes(first.stats) - bytes(baseline) < 64 * np, `rank ${r}: broadcast bytes ${bytes(first.stats)} vs ${bytes(baseline)}`);
        // Resuming broadcasts the manifest only, not a table: rank 0's parameters are not broadcast either.
        assert.ok(bytes(second.stats) < 4096, `rank ${r}: broadcast bytes of the resumed run ${bytes(second.stats)}`);
        for (const run of [first, second]) assert.ok(run.peakRows < maxWhole, `rank ${r}: a ${run.peakRows}-row table tensor while checkpointing`);
        assert.ok(mismatch, `rank ${r}: a manifest of ${np + 1} ranks was accepted`);
        assert.deepEqual([mismatch.name, mismatch.argument], ['IOError', 'checkpointPath'], `rank ${r}: ${mismatch.message}`);
        assert.match(mismatch.message, new RegExp(`written by ${np + 1} ranks, and this run has ${np}`));
        // Shards written by a ranker built whole resume into one built sharded.
        assert.deepEqual(o.perRank.fromWhole.epochs, [1]);
        assert.deepEqual(o.perRank.fromWhole.perParam, full.perParam, `rank ${r}: built-whole shards resumed built sharded`);
      });
    });

    it(`${np} ranks: a sharded checkpoint only rank 0 holds resumes sharded and replicated`, () => {
      const first = CASES[0].name;
      jobs[np].forEach((o, r) => {
        assert.equal(o.resume.written, r === 0, `rank ${r} ${o.resume.written ? 'wrote' : 'did not write'} a checkpoint`);
        for (const mode of ['row', 'replicated']) {
          assert.deepEqual(o.resume[mode].epochs, [1], `rank ${r}, ${mode}: the resumed run trained epochs ${o.resume[mode].epochs}`);
          assert.equal(o.resume[mode].params, o.cases[first].row.params, `rank ${r}, ${mode}: resumed parameters`);
          assert.deepEqual(
            o.resume[mode].history,
            o.cases[first].row.history.map((h) => h.auc),
          );
        }
      });
    });

    it(`${np} ranks: a mismatched or unknown tableSharding throws a ValueError naming it on every rank`, () => {
      for (const o of jobs[np]) {
        for (const k of ['tableSharding differs', 'unknown tableSharding', 'built sharded, trained replicated']) {
          assert.ok(o.errors[k], `rank ${o.rank}: '${k}' did not throw`);
          assert.deepEqual([o.errors[k].name, o.errors[k].argument], ['ValueError', 'tableSharding'], `rank ${o.rank}: ${k}`);
        }
      }
    });
  }
});

describe('row-wise sharded tables, one process', () => {
  it("tableSharding 'row' without dist (or with one rank) trains bit-identically to replicated", async () => {
    const { items, train, valid } = shardData(q);
    const c = CASES[0];
    const opts = { ...c.opts, epochs: 1 };
    const a = new q.rank.Ranker(c.ranker, items);
    await q.rank.trainRanker(a, train, valid, opts);
    const b = new q.rank.Ranker(c.ranker, items);
    await q.rank.trainRanker(b, train, valid, { ...opts, dist: q.dist, tableSharding: 'row' });
    assert.deepEqual(flatParams(b), flatParams(a));
  });

  it('an unknown tableSharding is a ValueError naming the option', async () => {
    const { items, train, valid } = shardData(q);
    await assert.rejects(
      () => q.rank.trainRanker(new q.rank.Ranker(CASES[0].ranker, items), train, valid, { epochs: 1, tableSharding: 'columns' }),
      (e) => e instanceof q.ValueError && e.argument === 'tableSharding',
    );
  });
});
