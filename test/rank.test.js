import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert, assertClose, assertThrowsTyped } from './helpers.js';

const { rank, metrics } = q;

describe('metrics', () => {
  it('auc handles hand-computed cases with ties', () => {
    assert.equal(metrics.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    assert.equal(metrics.auc([0, 1], [0.5, 0.5]), 0.5); // a tie counts one half
    assert.equal(metrics.auc([1, 0, 1, 0], [0.9, 0.9, 0.9, 0.1]), (0.5 + 1 + 0.5 + 1) / 4); // pairs (pos, neg): two ties, two wins
    assert.equal(metrics.auc(new Float32Array([0, 1, 1]), q.tensor([3, 2, 1])), 0);
    assertThrowsTyped(() => metrics.auc([1, 1], [0.1, 0.2]), q.ValueError, 'labels');
    assertThrowsTyped(() => metrics.auc([0, 2], [0.1, 0.2]), q.ValueError, 'labels');
    assertThrowsTyped(() => metrics.auc([0, 1], [0.1]), q.ShapeError, 'scores');
    assertThrowsTyped(() => metrics.auc([0, 1], [0.1, NaN]), q.ValueError, 'scores');
  });

  it('gauc skips single-class groups and weights by group size', () => {
    // group 7: AUC 1 over 3 samples; group 8: AUC 0.5 (tie) over 2; group 9: single class, skipped.
    const y = [0, 1, 1, 0, 1, 1, 1];
    const s = [0.1, 0.9, 0.8, 0.5, 0.5, 0.3, 0.2];
    const g = [7, 7, 7, 8, 8, 9, 9];
    assertClose([metrics.gauc(y, s, g)], [(3 * 1 + 2 * 0.5) / 5], { rtol: 1e-12 });
    assertThrowsTyped(() => metrics.gauc([1, 0], [0.1, 0.2], [1, 2]), q.ValueError, 'groups');
  });

  it('logloss clips probabilities', () => {
    assertClose([metrics.logloss([1, 0], [0.8, 0.3])], [-(Math.log(0.8) + Math.log(0.7)) / 2], { rtol: 1e-12 });
    assertClose([metrics.logloss([1], [0])], [-Math.log(1e-15)], { rtol: 1e-12 });
    assert.ok(Number.isFinite(metrics.logloss([0], [1])));
    assertThrowsTyped(() => metrics.logloss([1], [1.5]), q.ValueError, 'probs');
  });

  it('match scikit-learn on fixed inputs (test/fixtures/sklearn_metrics.json)', () => {
    const fx = JSON.parse(readFileSync(new URL('./fixtures/sklearn_metrics.json', import.meta.url)));
    for (const c of fx.cases) {
      assertClose([metrics.auc(c.labels, c.scores)], [c.auc], { rtol: 1e-12, atol: 0 });
      assertClose([metrics.gauc(c.labels, c.scores, c.groups)], [c.gauc], { rtol: 1e-12, atol: 0 });
      assertClose([metrics.logloss(c.labels, c.probs)], [c.logloss], { rtol: 1e-10, atol: 0 });
    }
  });
});

describe('ranker', function () {
  this.timeout(60000);
  const { items, samples } = rank.synthetic(12000, { seed: 1 });
  const train = rank.sliceSamples(samples, 0, 8400);
  const valid = rank.sliceSamples(samples, 8400, 10200);
  const test = rank.sliceSamples(samples, 10200, 12000);
  const cfg = (features, extra = {}) => ({ numUsers: 2000, embeddingDim: 8, hidden: [32, 16], attentionHidden: [16], features, seed: 3, ...extra });

  it('learns a code-match label with cross features (test AUC > 0.9) and stays near chance without', async () => {
    const withCross = new rank.Ranker(cfg({ cross: true, historyCodes: false }), items);
    await rank.trainRanker(withCross, train, valid, { epochs: 2, batchSize: 256, lr: 3e-3, seed: 1 });
    const a1 = rank.evaluate(withCross, test).auc;
    const without = new rank.Ranker(cfg({ cross: false, historyCodes: false }), items);
    await rank.trainRanker(without, train, valid, { epochs: 2, batchSize: 256, lr: 3e-3, seed: 1 });
    const a0 = rank.evaluate(without, test).auc;
    assert.ok(a1 > 0.9, `with cross features: ${a1}`);
    assert.ok(Math.abs(a0 - 0.5) < 0.06, `without cross features: ${a0}`);
  });

  it('training gives bit-identical weights whatever the thread count', async () => {
    const small = rank.sliceSamples(train, 0, 1500);
    const run = async (threads) => {
      const prev = q.numThreads();
      q.setNumThreads(threads);
      try {
        const r = new rank.Ranker(cfg({ historyCodes: true }), items);
        await rank.trainRanker(r, small, rank.sliceSamples(valid, 0, 300), { epochs: 1, batchSize: 300, lr: 3e-3, seed: 2 });
        return r.parameters().map((p) => Float32Array.from(p.toTypedArray()));
      } finally {
        q.setNumThreads(prev);
      }
    };
    const one = await run(1);
    const three = await run(3);
    one.forEach((a, i) => assert.deepEqual(three[i], a, `param ${i}`));
  });

  it('checks ids: out-of-table items throw, unseen users/items map to OOV rows', () => {
    const r = new rank.Ranker(cfg({}, { numItemIds: 100 }), items);
    const b = rank.gatherSamples(test, [0, 1, 2]);
    b.user[0] = 999999; // outside the user vocabulary: OOV row
    b.item[1] = 5000; // outside the item-id vocabulary (100) but in the item table: OOV row
    const p = r.predict(b);
    assert.ok(p.every(Number.isFinite));
    b.item[2] = items.numItems; // outside the item table: its codes are unknown
    assertThrowsTyped(() => r.predict(b), q.IndexError, 'batch.item');
    const b2 = rank.gatherSamples(test, [0]);
    b2.history[0] = -5;
    assertThrowsTyped(() => r.predict(b2), q.IndexError, 'batch.history');
    const strict = new rank.Ranker(cfg({}, { oov: false }), items);
    const b3 = rank.gatherSamples(test, [0]);
    b3.user[0] = 2000;
    assertThrowsTyped(() => strict.predict(b3), q.IndexError, 'ids');
    assertThrowsTyped(() => new rank.Ranker(cfg({ vq: true }), items), q.ValueError, 'vq');
  });

  it('uses every feature group (VQ bag, dense projection) and trains only touched embedding rows', () => {
    const N = items.numItems;
    const g = new q.Generator(5);
    const vq = new Int32Array(N * 5).map(() => g.int(300) - (g.uniform() < 0.1 ? 301 : 0)).map((v) => Math.max(v, -1));
    const dense = new Float32Array(N * 6).map(() => g.normal());
    const full = { ...items, vq: { codes: vq, k: 5, poolSize: 300 }, dense: { values: dense, dim: 6 } };
    const r = new rank.Ranker(cfg({ vq: true, dense: true, historyCodes: true }), full);
    const before = Float32Array.from(r.user.weight.toTypedArray());
    const batch = rank.gatherSamples(train, [0, 1, 2, 3]);
    const logits = r.forward(batch);
    assert.deepEqual(logits.shape, [4]);
    q.nn.bceWithLogits(logits, batch.label).backward();
    const opt = new q.optim.SparseAdam(r.parameterGroups().sparse, { lr: 0.1 });
    opt.step();
    const after = r.user.weight.toTypedArray();
    const touched = new Set(batch.user);
    for (let u = 0; u < 2001; u++) {
      const same = after.subarray(u * 8, u * 8 + 8).every((v, j) => v === before[u * 8 + j]);
      assert.equal(same, !touched.has(u), `user row ${u}`);
    }
  });

  it('early-stops on validation AUC, reports progress, and resumes from an atomic checkpoint bit-identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qarm-rank-'));
    try {
      const small = rank.sliceSamples(train, 0, 2000);
      const opts = { epochs: 3, batchSize: 200, lr: 3e-3, seed: 4, patience: 5 };
      const full = new rank.Ranker(cfg({}), items);
      let calls = 0;
      const r0 = await rank.trainRanker(full, small, valid, { ...opts, onProgress: (p) => { calls++; assert.ok(p.samplesPerSecond > 0); } });
      assert.equal(calls, 30);
      assert.equal(r0.history.length, 3);
      const ckpt = join(dir, 'ranker.ckpt');
      const a = new rank.Ranker(cfg({}), items);
      await rank.trainRanker(a, small, valid, { ...opts, epochs: 2, checkpointPath: ckpt });
      const b = new rank.Ranker(cfg({}), items);
      const r2 = await rank.trainRanker(b, small, valid, { ...opts, checkpointPath: ckpt });
      assert.equal(r2.history.length, 3);
      assert.deepEqual(r2.history.map((h) => h.auc), r0.history.map((h) => h.auc));
      b.parameters().forEach((p, i) => assert.deepEqual(p.toTypedArray(), full.parameters()[i].toTypedArray(), `param ${i}`));
      writeFileSync(ckpt, 'QARMCKP1garbage');
      await assert.rejects(rank.trainRanker(new rank.Ranker(cfg({}), items), small, valid, { ...opts, checkpointPath: ckpt }), q.IOError);
      // Early stopping: a validation set the model cannot improve on stops after `patience` epochs.
      const flat = rank.gatherSamples(valid, [...Array(400).keys()]);
      flat.label.fill(0);
      flat.label[0] = 1;
      const r3 = await rank.trainRanker(new rank.Ranker(cfg({}), items), small, flat, { ...opts, epochs: 10, patience: 1 });
      assert.ok(r3.history.length < 10 && r3.stoppedEarly, `ran ${r3.history.length} epochs`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
