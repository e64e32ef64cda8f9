import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert, assertClose, assertThrowsTyped, randArray } from './helpers.js';
import { setPoisonUninitialized } from '../dist/tensor/dtype.js';

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

  it('auc equals a pair count, and the one-sort rank sum bit for bit, on awkward sizes with ties', () => {
    // Reference 1: P(pos > neg) + ½ P(tie) by counting every pair (float64).
    const pairs = (y, s) => {
      let w = 0,
        np = 0,
        nn = 0;
      for (let i = 0; i < y.length; i++)
        if (y[i] === 1) np++;
        else nn++;
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== 1) continue;
        for (let j = 0; j < y.length; j++) if (y[j] === 0) w += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
      return w / (np * nn);
    };
    // Reference 2: the rank sum over one comparator sort of all rows (the previous implementation).
    const oneSort = (y, s) => {
      const n = y.length;
      const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => s[a] - s[b] || a - b);
      let pos = 0,
        sum = 0;
      for (let i = 0; i < n;) {
        let j = i + 1;
        while (j < n && s[order[j]] === s[order[i]]) j++;
        for (let k = i; k < j; k++)
          if (y[order[k]] === 1) {
            pos++;
            sum += (i + 1 + j) / 2;
          }
        i = j;
      }
      return (sum - (pos * (pos + 1)) / 2) / (pos * (n - pos));
    };
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    for (const n of [2, 3, 17, 1000, 4099]) {
      for (const levels of [2, 5, 1e9]) {
        const y = Array.from({ length: n }, (_, i) => (i < 2 ? i : rnd() < 0.3 ? 1 : 0)); // both classes
        const s = new Float32Array(n).map(() => Math.floor(rnd() * levels) / levels - (levels === 5 ? 0 : 0.5));
        if (n > 3) ((s[1] = -0), (s[2] = 0)); // -0 and +0 tie
        assert.equal(metrics.auc(y, s), oneSort(y, s), `n=${n} levels=${levels}`);
        assertClose([metrics.auc(y, s)], [pairs(y, s)], { rtol: 1e-12, atol: 0 });
      }
    }
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

  it('kernels that skip zeroing their outputs write every element (NaN-poisoned allocations give the same bits)', () => {
    // Outputs allocated without zeroing (matmul, unary, binary, column copies, TBE lookup, fused
    // attention and its drep) are filled with NaN here: any element a kernel leaves unwritten
    // would show up in the logits or a gradient.
    const N = items.numItems;
    const g = new q.Generator(9);
    const full = {
      ...items,
      vq: { codes: new Int32Array(N * 5).map(() => g.int(300) - 1), k: 5, poolSize: 300 },
      dense: { values: new Float32Array(N * 6).map(() => g.normal()), dim: 6 },
    };
    const batch = rank.gatherSamples(
      train,
      [...Array(1100).keys()].map((i) => (i * 7) % train.size),
    );
    batch.historyLength[3] = 0; // an empty history
    const run = (poison) => {
      setPoisonUninitialized(poison);
      try {
        const r = new rank.Ranker(cfg({ vq: true, dense: true, historyCodes: true, cross: true }), full);
        const logits = r.forward(batch);
        q.nn.bceWithLogits(logits, batch.label).backward();
        const grads = r.parameters().map((p) => (p.grad.toDense ? p.grad.toDense() : p.grad).toTypedArray());
        const a = q.tensor(randArray(17 * 3, 1), [17, 3]);
        const b = q.tensor(randArray(3 * 1031, 2), [3, 1031]);
        const ops = [
          q.matmul(a, b),
          q.matmul(q.zeros([1200, 0]), q.zeros([0, 2])),
          q.relu(q.matmul(a, b)),
          q.mul(q.matmul(a, b), q.tensor(randArray(1031, 3), [1, 1031])),
        ];
        return [logits.toTypedArray(), ...grads, ...ops.map((t) => t.toTypedArray())];
      } finally {
        setPoisonUninitialized(false);
      }
    };
    const clean = run(false);
    const poisoned = run(true);
    clean.forEach((a, i) => {
      assert.ok(a.every(Number.isFinite), `part ${i} finite`);
      assert.deepEqual(poisoned[i], a, `part ${i}`);
    });
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

  it('item-id dropout: dropped ids use the OOV id row while codes, VQ bag and dense input keep the real item', () => {
    // Reference without masks: the same items copied to rows N..2N-1 of the item table, past the
    // id vocabulary (N), so their ids map to the OOV row and their features are the originals'.
    const N = items.numItems;
    const g = new q.Generator(11);
    const L = items.rq.levels;
    const vq = new Int32Array(N * 4).map(() => g.int(50));
    const dense = new Float32Array(N * 3).map(() => g.normal());
    const twice = (a) => {
      const o = new a.constructor(2 * a.length);
      o.set(a);
      o.set(a, a.length);
      return o;
    };
    const one = { ...items, vq: { codes: vq, k: 4, poolSize: 50 }, dense: { values: dense, dim: 3 } };
    const two = {
      numItems: 2 * N,
      rq: { ...items.rq, codes: twice(items.rq.codes) },
      vq: { ...one.vq, codes: twice(vq) },
      dense: { values: twice(dense), dim: 3 },
    };
    const c = cfg({ vq: true, dense: true, historyCodes: true }, { numItemIds: N });
    const r = new rank.Ranker(c, one);
    const ref = new rank.Ranker(c, two);
    r.parameters().forEach((p, i) => assert.deepEqual(ref.parameters()[i].toTypedArray(), p.toTypedArray(), `same init ${i}`));
    assert.equal(L, 2);
    const batch = rank.gatherSamples(
      train,
      [...Array(17).keys()].map((i) => 7 * i),
    );
    const H = batch.maxHistory;
    const dropTargetIds = new Uint8Array(17).map((_, b) => (b % 3 === 0 ? 1 : 0));
    const dropHistoryIds = new Uint8Array(17 * H).map((_, i) => ((i * 5) % 7 === 0 ? 1 : 0)); // also sets padded slots: ignored
    const moved = rank.gatherSamples(batch, [...Array(17).keys()]);
    for (let b = 0; b < 17; b++) {
      if (dropTargetIds[b]) moved.item[b] += N;
      for (let h = 0; h < batch.historyLength[b]; h++) if (dropHistoryIds[b * H + h]) moved.history[b * H + h] += N;
    }
    const grads = (model, b, opts) => {
      const logits = model.forward(b, opts);
      q.nn.bceWithLogits(logits, b.label).backward();
      const gi = model.item.weight.grad;
      const out = { logits: Float32Array.from(logits.toTypedArray()), item: Float32Array.from((gi.toDense ? gi.toDense() : gi).toTypedArray()) };
      model.zeroGrad();
      return out;
    };
    const dropped = grads(r, batch, { dropTargetIds, dropHistoryIds });
    const want = grads(ref, moved);
    assert.deepEqual(dropped.logits, want.logits);
    assert.deepEqual(dropped.item, want.item);
    const oovGrad = dropped.item.subarray(N * 8, N * 8 + 8);
    assert.ok(
      oovGrad.some((v) => v !== 0),
      'the OOV row gets a gradient',
    );
    // No drop at all (zero masks) is the plain forward, bit for bit; dropping changes the logits.
    const plain = grads(r, batch);
    assert.deepEqual(grads(r, batch, { dropTargetIds: new Uint8Array(17), dropHistoryIds: new Uint8Array(17 * H) }).logits, plain.logits);
    assert.ok(plain.item.subarray(N * 8, N * 8 + 8).every((v) => v === 0));
    assert.notDeepEqual(dropped.logits, plain.logits);
    assertThrowsTyped(() => r.forward(batch, { dropTargetIds: new Uint8Array(16) }), q.ShapeError, 'dropTargetIds');
    assertThrowsTyped(() => r.forward(batch, { dropHistoryIds: new Uint8Array(17) }), q.ShapeError, 'dropHistoryIds');
    assertThrowsTyped(() => new rank.Ranker(cfg({}, { oov: false }), items).forward(batch, { dropTargetIds }), q.ValueError, 'dropTargetIds');
  });

  it('item-id dropout in training: rate p on valid slots, deterministic at any thread count, p = 0 bit-identical, bad p typed', async () => {
    const small = rank.sliceSamples(train, 0, 1500);
    const val = rank.sliceSamples(valid, 0, 300);
    const opts = { epochs: 2, batchSize: 300, lr: 3e-3, seed: 2 };
    const run = async (extra, threads = q.numThreads(), spy = null) => {
      const prev = q.numThreads();
      q.setNumThreads(threads);
      try {
        const r = new rank.Ranker(cfg({ historyCodes: true }), items);
        if (spy) {
          const forward = r.forward.bind(r);
          r.forward = (b, o) => {
            if (r.training) spy(b, o);
            return forward(b, o);
          };
        }
        await rank.trainRanker(r, small, val, { ...opts, ...extra });
        return r.parameters().map((p) => Float32Array.from(p.toTypedArray()));
      } finally {
        q.setNumThreads(prev);
      }
    };
    const base = await run({});
    const zero = await run({ itemIdDropout: 0, historyIdDropout: 0 });
    zero.forEach((a, i) => assert.deepEqual(a, base[i], `p = 0, param ${i}`));
    let targets = 0,
      dropped = 0,
      slots = 0,
      slotsDropped = 0;
    const seen = [];
    const spy = (b, o) => {
      assert.equal(o.dropTargetIds.length, b.size);
      for (const v of o.dropTargetIds) {
        targets++;
        dropped += v;
      }
      for (let s = 0; s < b.size; s++) {
        for (let h = 0; h < b.maxHistory; h++) {
          const v = o.dropHistoryIds[s * b.maxHistory + h];
          if (h >= b.historyLength[s]) assert.equal(v, 0, 'padding is never dropped');
          else {
            slots++;
            slotsDropped += v;
          }
        }
      }
      seen.push(o.dropTargetIds);
    };
    const p = { itemIdDropout: 0.3, historyIdDropout: 0.2 };
    const a = await run(p, 1, spy);
    assert.equal(targets, 2 * 1500);
    assert.ok(Math.abs(dropped / targets - 0.3) < 0.04, `target drop rate ${dropped / targets}`);
    assert.ok(Math.abs(slotsDropped / slots - 0.2) < 0.02, `history drop rate ${slotsDropped / slots} over ${slots}`);
    assert.notDeepEqual(seen[0], seen[5], 'epochs draw different masks');
    const b = await run(p, 3);
    a.forEach((x, i) => assert.deepEqual(b[i], x, `param ${i} at 1 vs 3 threads`));
    // The OOV id row (row numItems) keeps its initial value without dropout and trains with it.
    const init = new rank.Ranker(cfg({ historyCodes: true }), items).item.weight.toTypedArray();
    const idTable = new rank.Ranker(cfg({ historyCodes: true }), items).parameters().findIndex((t) => t.shape[0] === items.numItems + 1 && t.shape[1] === 8);
    const oov = (w) => Array.from(w.subarray(items.numItems * 8));
    assert.deepEqual(oov(base[idTable]), oov(init));
    assert.notDeepEqual(oov(a[idTable]), oov(init));
    for (const bad of [-0.1, 1, 1.5, NaN, Infinity, '0.2']) {
      await assert.rejects(run({ itemIdDropout: bad }), (e) => e instanceof q.ValueError && /itemIdDropout/.test(e.message));
      await assert.rejects(run({ historyIdDropout: bad }), (e) => e instanceof q.ValueError && /historyIdDropout/.test(e.message));
    }
    const strict = new rank.Ranker(cfg({}, { oov: false }), items);
    await assert.rejects(rank.trainRanker(strict, small, val, { ...opts, itemIdDropout: 0.1 }), q.ValueError);
  });

  it('early-stops on validation AUC, reports progress, and resumes from an atomic checkpoint bit-identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qarm-rank-'));
    try {
      const small = rank.sliceSamples(train, 0, 2000);
      const opts = { epochs: 3, batchSize: 200, lr: 3e-3, seed: 4, patience: 5 };
      const full = new rank.Ranker(cfg({}), items);
      let calls = 0;
      const r0 = await rank.trainRanker(full, small, valid, {
        ...opts,
        onProgress: (p) => {
          calls++;
          assert.ok(p.samplesPerSecond > 0);
        },
      });
      assert.equal(calls, 30);
      assert.equal(r0.history.length, 3);
      // The kept weights' validation scores come back bit-identical to scoring them afresh.
      assert.deepEqual(r0.bestProbs, full.predict(valid));
      const ckpt = join(dir, 'ranker.ckpt');
      const a = new rank.Ranker(cfg({}), items);
      await rank.trainRanker(a, small, valid, { ...opts, epochs: 2, checkpointPath: ckpt });
      const b = new rank.Ranker(cfg({}), items);
      // Training is deterministic, so matching weights alone would also come from a trainer that
      // ignored the checkpoint and retrained: the resumed call must run only epoch 2's batches.
      const resumedEpochs = [];
      const r2 = await rank.trainRanker(b, small, valid, { ...opts, checkpointPath: ckpt, onProgress: (p) => resumedEpochs.push(p.epoch) });
      assert.deepEqual(resumedEpochs, new Array(10).fill(2), 'the resumed run retrained epochs the checkpoint held');
      assert.equal(r2.history.length, 3);
      if (r2.bestEpoch >= 2) assert.deepEqual(r2.bestProbs, b.predict(valid));
      else assert.equal(r2.bestProbs, undefined); // its epoch ran before the resume
      assert.deepEqual(
        r2.history.map((h) => h.auc),
        r0.history.map((h) => h.auc),
      );
      b.parameters().forEach((p, i) => assert.deepEqual(p.toTypedArray(), full.parameters()[i].toTypedArray(), `param ${i}`));
      writeFileSync(ckpt, 'QARMCKP1garbage');
      await assert.rejects(rank.trainRanker(new rank.Ranker(cfg({}), items), small, valid, { ...opts, checkpointPath: ckpt }), q.IOError);
      // Early stopping: a validation set the model cannot improve on stops after `patience` epochs.
      const flat = rank.gatherSamples(valid, [...Array(400).keys()]);
      flat.label.fill(0);
      flat.label[0] = 1;
      const m3 = new rank.Ranker(cfg({}), items);
      const r3 = await rank.trainRanker(m3, small, flat, { ...opts, epochs: 10, patience: 1 });
      assert.ok(r3.history.length < 10 && r3.stoppedEarly, `ran ${r3.history.length} epochs`);
      assert.ok(r3.bestEpoch < r3.history.length - 1); // restored weights of an earlier epoch
      assert.deepEqual(r3.bestProbs, m3.predict(flat));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
