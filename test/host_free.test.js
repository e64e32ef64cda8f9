// Drivers under the host-read-forbidding backend (test/support/host_guard.js): the CPU kernels,
// but host memory readable only inside kernels and through Tensor.readHost(). A driver that
// finishes here touches tensor memory only as a device backend allows, so it runs unchanged on
// CUDA tensors; the counted readHost() calls show that it reads the host only at its edges.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { assertClose, randArray } from './helpers.js';
import { withoutHostReads } from './support/host_guard.js';

/** Greedy residual codes in float64 distances over float32 residuals (independent of the kernels). */
function residualCodesRef(x, n, d, codebooks) {
  const r = Float32Array.from(x);
  const codes = [];
  for (const { data, K } of codebooks) {
    for (let i = 0; i < n; i++) {
      let best = 0,
        bestD = Infinity;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (r[i * d + j] - data[k * d + j]) ** 2;
        if (s < bestD) ((bestD = s), (best = k));
      }
      codes.push([i, best]);
      for (let j = 0; j < d; j++) r[i * d + j] = Math.fround(r[i * d + j] - data[best * d + j]);
    }
  }
  const L = codebooks.length;
  const out = new Int32Array(n * L);
  codes.forEach(([i, c], t) => (out[i * L + Math.floor(t / n)] = c));
  return out;
}

describe('host-free drivers (host reads forbidden outside kernels)', () => {
  it('the guard forbids host access outside kernels, counts readHost, and lifts afterwards', () => {
    const a = q.tensor([1, 2, 3]);
    const b = q.tensor([10, 20, 30]);
    const { value, explicitReads } = withoutHostReads(() => {
      assert.throws(() => a.toTypedArray(), q.DeviceError);
      assert.throws(() => a.f32('a'), q.DeviceError);
      assert.throws(() => q.tensor([1]).toArray(), q.DeviceError);
      const c = q.add(a, b); // kernels still run
      return [...c.readHost()];
    });
    assert.deepEqual(value, [11, 22, 33]);
    assert.equal(explicitReads, 1);
    assert.deepEqual([...a.toTypedArray()], [1, 2, 3]);
    assert.throws(
      () =>
        withoutHostReads(() => {
          throw new RangeError('inner');
        }),
      RangeError,
    );
    assert.deepEqual([...b.toTypedArray()], [10, 20, 30]);
  });

  it('vqCodes (excludeSelf false) runs host-free and matches nearest-by-cosine', () => {
    for (const [n, m, k] of [
      [1, 3, 1],
      [17, 40, 5],
      [300, 1000, 25],
    ]) {
      const x = q.tensor(randArray(n * 8, n), [n, 8]);
      const pool = q.tensor(randArray(m * 8, m + 1), [m, 8]);
      const { value, explicitReads } = withoutHostReads(() => q.vqCodes(x, pool, { k }));
      assert.equal(explicitReads, 0);
      const expected = q.nearest(x, pool, { k, metric: 'cosine' }).indices;
      assert.deepEqual([...value.toTypedArray()], [...expected.toTypedArray()]);
    }
  });

  it('vqCodes with excludeSelf runs host-free and drops each item once (self first, later, twice, absent)', () => {
    // Reference: the row of k+1 neighbours without the first entry equal to the row, cut to k.
    const ref = (idx, n, k) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const row = [...idx.subarray(i * (k + 1), (i + 1) * (k + 1))];
        const p = row.indexOf(i);
        if (p >= 0) row.splice(p, 1);
        out.push(...row.slice(0, k));
      }
      return out;
    };
    for (const [n, k] of [
      [2, 1],
      [17, 3],
      [1000, 25],
    ]) {
      const x = q.tensor(randArray(n * 6, 40 + n), [n, 6]);
      for (let j = 0; j < 6; j++) x.toTypedArray()[1 * 6 + j] = x.toTypedArray()[j]; // rows 0 and 1 coincide
      const { value, explicitReads } = withoutHostReads(() => q.vqCodes(x, x, { k, excludeSelf: true }));
      assert.equal(explicitReads, 0);
      const all = q.nearest(x, x, { k: k + 1, metric: 'cosine' }).indices.toTypedArray();
      assert.deepEqual([...value.toTypedArray()], ref(all, n, k));
      // The kernel itself on rows where the item sits late, twice, or nowhere.
      const idx = Int32Array.from({ length: n * (k + 1) }, (_, t) => (t * 7 + 3) % n);
      for (let i = 0; i < n; i += 2) idx[i * (k + 1) + k] = i;
      if (n > 2) idx[2 * (k + 1)] = 2;
      const indices = q.tensor(idx, [n, k + 1], 'int32');
      const kOut = withoutHostReads(() => q.runKernel('dropSelf', { indices })).value;
      assert.deepEqual([...kOut.toTypedArray()], ref(idx, n, k));
    }
  });

  it('kmeans runs host-free (k-means++ / random / given init, splits, subsample, balanced): two readHost at its end', () => {
    const dup = (n, d) => Float32Array.from({ length: n * d }, (_, i) => [1, -2, 3.5][Math.floor(i / d) % 3] + (i % d));
    const cases = [
      [1, 3, 1, {}],
      [3, 2, 3, {}],
      [17, 5, 4, { init: 'random' }],
      [17, 5, 17, { balanced: true }],
      [1000, 8, 40, { iterations: 6 }],
      [1000, 8, 16, { maxPointsPerCentroid: 5, balanced: true }],
      [300, 4, 12, { data: dup }],
      [300, 4, 12, { data: dup, balanced: true }],
      [200, 6, 10, { init: 'tensor' }],
    ];
    for (const [n, d, k, { data, init, ...opts }] of cases) {
      const x = q.tensor(data ? data(n, d) : randArray(n * d, n + k), [n, d]);
      const o = { k, iterations: 4, seed: 5, ...opts, init: init === 'tensor' ? q.tensor(randArray(k * d, 3), [k, d]) : init };
      const { value: r, explicitReads } = withoutHostReads(() => q.kmeans(x, o));
      assert.equal(explicitReads, 2, `n=${n} k=${k}: the objectives and the split count`);
      const plain = q.kmeans(x, o);
      assert.deepEqual([...r.centroids.toTypedArray()], [...plain.centroids.toTypedArray()]);
      assert.deepEqual([...r.assignments.toTypedArray()], [...plain.assignments.toTypedArray()]);
      assert.deepEqual([r.history, r.inertia, r.splits], [plain.history, plain.inertia, plain.splits]);
      if (data && !opts.balanced) assert.ok(r.splits > 0, 'the duplicate rows leave clusters empty');
    }
  });

  it('RQKMeans.fit runs host-free: per level the two reads of kmeans, then ||x||² and the codes once', () => {
    for (const [n, d, sizes, opts] of [
      [1, 3, [1], {}],
      [17, 5, [4, 3, 2], {}],
      [17, 5, [17, 1], { balanced: true }],
      [1000, 8, [16, 16, 8], {}],
      [1000, 8, [16, 8], { balanced: true, init: 'random' }],
      [300, 4, [12, 12], { zero: true }],
    ]) {
      const x = q.tensor(opts.zero ? new Float32Array(n * d) : randArray(n * d, 30 + n), [n, d]);
      const o = { levels: sizes.length, codebookSize: sizes, iterations: 3, seed: 4, balanced: opts.balanced, init: opts.init };
      const { value: rq, explicitReads } = withoutHostReads(() => new q.RQKMeans(o).fit(x));
      assert.equal(explicitReads, 2 * sizes.length + 2, `levels ${sizes.length}`);
      const plain = new q.RQKMeans(o).fit(x);
      rq.codebooks.forEach((c, l) => assert.deepEqual([...c.toTypedArray()], [...plain.codebooks[l].toTypedArray()]));
      assert.deepEqual([...rq.fitCodes], [...plain.fitCodes]);
      assert.deepEqual(rq.relativeError, plain.relativeError);
      if (opts.zero) assert.deepEqual(rq.relativeError, [0, 0]);
      // The fit codes are what encode gives (balanced: codes within each level's capacity).
      if (!opts.balanced) assert.deepEqual([...rq.fitCodes], [...rq.encode(x).toTypedArray()]);
    }
  });

  it('RQKMeans.encode runs host-free and matches a float64-distance reference', () => {
    for (const [n, d, sizes] of [
      [1, 3, [1]],
      [17, 5, [4, 3, 2]],
      [1000, 8, [16, 16, 8, 8]],
    ]) {
      const x = q.tensor(randArray(n * d, 7 + n), [n, d]);
      const rq = new q.RQKMeans({ levels: sizes.length, codebookSize: sizes, iterations: 3, seed: 1 }).fit(x);
      const { value: codes, explicitReads } = withoutHostReads(() => rq.encode(x));
      assert.equal(explicitReads, 0);
      assert.deepEqual(codes.shape, [n, sizes.length]);
      const books = rq.codebooks.map((c) => ({ data: c.toTypedArray(), K: c.shape[0] }));
      assert.deepEqual([...codes.toTypedArray()], [...residualCodesRef(x.toTypedArray(), n, d, books)]);
    }
  });

  it('RQKMeans.decode runs host-free and equals a float32 sum of the codewords, bit for bit', () => {
    for (const [n, d, sizes] of [
      [1, 3, [1]],
      [17, 5, [4, 3, 2]],
      [1000, 8, [16, 16, 8]],
    ]) {
      const x = q.tensor(randArray(n * d, 3 + n), [n, d]);
      const rq = new q.RQKMeans({ levels: sizes.length, codebookSize: sizes, iterations: 2, seed: 2 }).fit(x);
      const codes = q.tensor(
        Int32Array.from({ length: n * sizes.length }, (_, t) => (t * 7 + (t >> 2)) % sizes[t % sizes.length]),
        [n, sizes.length],
        'int32',
      );
      const { value: rec, explicitReads } = withoutHostReads(() => rq.decode(codes));
      assert.equal(explicitReads, 0);
      const c = codes.toTypedArray();
      const expected = new Float32Array(n * d);
      sizes.forEach((_, l) => {
        const cb = rq.codebooks[l].toTypedArray();
        for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) expected[i * d + j] += cb[c[i * sizes.length + l] * d + j];
      });
      assert.deepEqual(new Uint32Array(rec.toTypedArray().buffer), new Uint32Array(expected.buffer));
    }
  });

  it('residualQuantize forward and backward read the host twice (the loss scales), whatever the levels', () => {
    for (const [n, d, sizes] of [
      [3, 2, [2]],
      [17, 5, [4, 3, 2]],
      [257, 8, [16, 8, 8, 4]],
    ]) {
      const x = q.tensor(randArray(n * d, n), [n, d]);
      x.requiresGrad = true;
      const books = sizes.map((K, l) => {
        const c = q.tensor(randArray(K * d, 100 + l), [K, d]);
        c.requiresGrad = true;
        return c;
      });
      const { value: res, explicitReads } = withoutHostReads(() => {
        const r = q.residualQuantize(x, books, { beta: 0.25 });
        r.loss.backward();
        return r;
      });
      assert.equal(explicitReads, 2, `levels ${sizes.length}`);
      const ref = residualCodesRef(
        x.toTypedArray(),
        n,
        d,
        books.map((c) => ({ data: c.toTypedArray(), K: c.shape[0] })),
      );
      assert.deepEqual([...res.codes.toTypedArray()], [...ref]);
      assert.ok(x.grad && books.every((c) => c.grad));
    }
  });

  it('a ranker training step (forward, BCE, backward, sparse and dense Adam) runs host-free, every feature on', () => {
    const { rank } = q;
    const { items, samples } = rank.synthetic(3000, { seed: 1 });
    const g = new q.Generator(9);
    const N = items.numItems;
    const full = {
      ...items,
      vq: { codes: new Int32Array(N * 5).map(() => g.int(300) - 1), k: 5, poolSize: 300 },
      dense: { values: new Float32Array(N * 6).map(() => g.normal()), dim: 6 },
    };
    const features = { history: true, rq: true, vq: true, dense: true, historyCodes: true, cross: true, vqHistory: true, vqCross: true };
    const step = (guarded) => {
      const r = new rank.Ranker({ numUsers: 2000, embeddingDim: 8, hidden: [32, 16], attentionHidden: [16], features, seed: 3, oov: true }, full);
      r.train();
      const { sparse, dense } = r.parameterGroups();
      const opts = [new q.optim.SparseAdam(sparse, { lr: 1e-2 }), new q.optim.SparseAdam(dense, { lr: 1e-2 })];
      const batch = rank.sliceSamples(samples, 0, 257);
      const run = () => {
        const l = q.nn.bceWithLogits(r.forward(batch), batch.label);
        l.backward();
        for (const o of opts) {
          o.step();
          o.zeroGrad();
        }
        return l.item();
      };
      const out = guarded ? withoutHostReads(run) : { value: run(), explicitReads: 0 };
      return { ...out, params: r.parameters().map((p) => [...p.toTypedArray()]) };
    };
    const guarded = step(true);
    assert.equal(guarded.explicitReads, 1); // the loss value, at the end
    const plain = step(false);
    assert.equal(guarded.value, plain.value);
    assert.deepEqual(guarded.params, plain.params);
    assert.ok(Math.abs(plain.value - Math.log(2)) < 0.05, `initial loss ${plain.value}`);
  });

  it('ResidualVQ training steps (k-means init, forward, backward, Adam) run host-free; usage folds on read', () => {
    // n ≥ K at every level (k-means init), and n < K at level 0 (random rows of the batch).
    for (const [n, sizes] of [
      [300, [16, 8, 4]],
      [10, [16, 8, 4]],
    ]) {
      const d = 8,
        decay = 0.9;
      const rvq = new q.ResidualVQ({ dim: d, levels: sizes.length, codebookSize: sizes, decay, seed: 1 });
      rvq.train();
      const opt = new q.optim.Adam(rvq.parameters(), { lr: 1e-2 });
      const stepOn = (x) => {
        const r = rvq.forward(x);
        r.loss.backward();
        opt.step();
        opt.zeroGrad();
        return r.codes;
      };
      const batches = [0, 1, 2].map((s) => q.tensor(randArray(n * d, 60 + s), [n, d]));
      const initial = rvq.codebooks.map((c) => [...c.toTypedArray()]);
      const { value: codes, explicitReads } = withoutHostReads(() => batches.map(stepOn));
      // Each k-means init level reads its objectives and split count; each backward reads the
      // codebook-loss scale (x needs no gradient); nothing per code.
      const kmeansLevels = sizes.filter((K) => n >= K).length;
      assert.equal(explicitReads, 2 * kmeansLevels + 3, `n=${n}`);
      rvq.codebooks.forEach((c, l) => assert.notDeepEqual([...c.toTypedArray()], initial[l], 'the codebooks were initialised and trained'));
      // Usage: n/K after the init, then u = decay·u + (1 − decay)·count for each step's codes (float64).
      sizes.forEach((K, l) => {
        const u = new Float64Array(K).fill(n / K);
        for (const c of codes) {
          const cnt = new Float64Array(K);
          const a = c.toTypedArray();
          for (let i = 0; i < n; i++) cnt[a[i * sizes.length + l]]++;
          for (let k = 0; k < K; k++) u[k] = decay * u[k] + (1 - decay) * cnt[k];
        }
        assert.deepEqual([...rvq.usage[l]], [...u], `level ${l}`);
      });
      // The codes of the guarded steps are the greedy residual codes of their batch.
      const books = rvq.codebooks.map((c) => ({ data: c.toTypedArray(), K: c.shape[0] }));
      const again = q.residualQuantize(batches[2], rvq.codebooks).codes.toTypedArray();
      assert.deepEqual([...again], [...residualCodesRef(batches[2].toTypedArray(), n, d, books)]);
    }
  });

  it("ResidualVQ k-means init writes each level's k-means of the residual into the codebook tensors; emaSums starts from them", () => {
    const n = 200,
      d = 5,
      sizes = [8, 4];
    const x = q.tensor(randArray(n * d, 77), [n, d]);
    const rvq = new q.ResidualVQ({ dim: d, levels: 2, codebookSize: sizes, seed: 3, kmeansIterations: 4 });
    rvq.train();
    const before = rvq.codebooks.slice();
    const { explicitReads } = withoutHostReads(() => rvq.forward(x).codes.dispose());
    assert.equal(explicitReads, 2 * sizes.length);
    assert.ok(
      rvq.codebooks.every((c, l) => c === before[l]),
      'the same tensors, written in place',
    );
    // Reference: kmeans level by level on the residual (x minus the previous levels' codewords, float32).
    let r = Float32Array.from(x.toTypedArray());
    sizes.forEach((K, l) => {
      const km = q.kmeans(q.tensor(r.slice(), [n, d]), { k: K, iterations: 4, seed: 3 + l, maxPointsPerCentroid: 0 });
      const c = km.centroids.toTypedArray();
      assert.deepEqual([...rvq.codebooks[l].toTypedArray()], [...c], `codebook ${l}`);
      assert.deepEqual([...rvq.emaSums[l]], [...Float64Array.from(c)], `emaSums ${l}`);
      assert.deepEqual([...rvq.usage[l]].length, K);
      const codes = q.nearest(q.tensor(r.slice(), [n, d]), km.centroids).indices.toTypedArray();
      r = Float32Array.from(r, (v, t) => v - c[codes[Math.floor(t / d)] * d + (t % d)]);
    });
  });

  it('ResidualVQ with EMA updates and dead-code restarts trains host-free; usage, EMA state and restarts are read after', () => {
    for (const [n, sizes, ema] of [
      [257, [32, 16], true],
      [257, [32, 16, 8], false],
      [10, [16, 4], true],
    ]) {
      const d = 6;
      const batches = [0, 1, 2, 3].map((s) => q.tensor(randArray(n * d, 90 + s), [n, d]));
      const train = (guarded) => {
        const rvq = new q.ResidualVQ({ dim: d, levels: sizes.length, codebookSize: sizes, ema, deadCodeThreshold: 9, decay: 0.5, seed: 4 });
        rvq.train();
        const steps = () => batches.map((b) => rvq.forward(b).codes);
        const { value, explicitReads } = guarded ? withoutHostReads(steps) : { value: steps(), explicitReads: 0 };
        return { rvq, explicitReads, codes: value.map((c) => [...c.toTypedArray()]) };
      };
      const g = train(true),
        p = train(false);
      // Only the k-means init of the levels with n >= K reads the host (objectives, splits).
      assert.equal(g.explicitReads, 2 * sizes.filter((K) => n >= K).length, `n=${n}`);
      assert.deepEqual(g.codes, p.codes);
      assert.deepEqual(
        g.rvq.codebooks.map((c) => [...c.toTypedArray()]),
        p.rvq.codebooks.map((c) => [...c.toTypedArray()]),
      );
      for (const key of ['usage', 'emaCounts', 'emaSums']) assert.deepEqual(g.rvq[key], p.rvq[key], key);
      assert.deepEqual(g.rvq.restarts, p.rvq.restarts);
      assert.ok(g.rvq.restarts[0] > 0, 'codes were restarted');
    }
  });

  it('aligner epochs (InfoNCE, l2Normalize, MLP, Adam; ensembles; validation) run host-free: the content once, the loss once per epoch', () => {
    const n = 200,
      D = 17;
    const content = q.tensor(randArray(n * D, 12), [n, D]);
    // Pairs with repeated items (masked in-batch false negatives) and a tail that drops.
    const g = new q.Generator(4);
    const P = 170;
    const pairs = { a: new Int32Array(P), b: new Int32Array(P), score: new Float32Array(P).fill(1) };
    for (let k = 0; k < P; k++) {
      pairs.a[k] = k % 11 === 0 ? 7 : g.int(n);
      pairs.b[k] = k % 13 === 0 ? pairs.a[k > 0 ? k - 1 : 0] : (pairs.a[k] + 1 + g.int(9)) % n;
    }
    // Validation on training pairs, so that it improves (and the weights are snapshot) as training goes.
    const V = 60;
    const validation = { a: pairs.a.slice(0, V), b: pairs.b.slice(0, V), score: new Float32Array(V) };
    const cases = [
      { ensemble: 1, epochs: 1, batchSize: 33 },
      { ensemble: 2, epochs: 2, batchSize: 64, contentMix: [1] },
      { ensemble: 2, epochs: 3, batchSize: 17, validation, contentMix: [1, 0.6], patience: 5, lr: 1e-2 },
    ];
    for (const c of cases) {
      const opts = { dims: 5, hidden: [9], seed: 2, temperature: 0.3, ...c };
      const guarded = withoutHostReads(() => q.trainAligner(content, pairs, opts));
      const plain = q.trainAligner(content, pairs, opts);
      const r = guarded.value;
      // Reads: the content once (its normalised rows), each epoch's loss sums, one projection per
      // member at the end. With validation (its items fit one scoring chunk of 256), every
      // scoring (epoch 0 and each epoch) also projects each member and reads its score rows
      // once, the content space's score rows are read once (then cached), and the weights
      // (4 tensors per member) at the start and whenever validation improves.
      const M = opts.ensemble,
        params = 4 * M;
      let expected = 1 + opts.epochs + M;
      if (c.validation) {
        // The untrained projectors' score (what epoch 0 scored), then each improvement's snapshot.
        let best = q.trainAligner(content, pairs, { ...opts, epochs: 0 }).bestValidation;
        let improved = 0;
        for (const e of plain.history) if (e.validation > best) ((best = e.validation), improved++);
        assert.ok(improved > 0, 'validation improved at least once');
        expected += (M + 1) * (1 + opts.epochs) + 1 + params * (1 + improved);
      }
      assert.equal(guarded.explicitReads, expected, JSON.stringify(c.validation ? { ...c, validation: V } : c));
      assert.equal(r.history.length, opts.epochs);
      assert.deepEqual(
        r.history.map((e) => [e.epoch, e.loss, e.validation, e.mixWeight]),
        plain.history.map((e) => [e.epoch, e.loss, e.validation, e.mixWeight]),
      );
      assert.ok(r.history.every((e) => e.loss > 0 && Number.isFinite(e.loss)));
      assert.deepEqual([r.bestEpoch, r.bestValidation, r.mixWeight], [plain.bestEpoch, plain.bestValidation, plain.mixWeight]);
      assert.deepEqual([...r.embeddings.toTypedArray()], [...plain.embeddings.toTypedArray()]);
      assert.deepEqual(r.retrieval && [...r.retrieval.toTypedArray()], plain.retrieval && [...plain.retrieval.toTypedArray()]);
      r.models.forEach((m, k) =>
        m.parameters().forEach((p, i) => assert.deepEqual([...p.toTypedArray()], [...plain.models[k].parameters()[i].toTypedArray()])),
      );
    }
  });

  it('codeStats, disambiguate and Ranker.predict read tensors only through readHost, at their edge', () => {
    const n = 17,
      L = 3,
      d = 4,
      sizes = [4, 3, 2];
    const x = q.tensor(randArray(n * d, 5), [n, d]);
    const rq = new q.RQKMeans({ levels: L, codebookSize: sizes, iterations: 2, seed: 1 }).fit(x);
    const codes = rq.encode(x);
    const stats = withoutHostReads(() => q.codeStats(codes, sizes, { embeddings: x, codebooks: rq.codebooks }));
    assert.equal(stats.explicitReads, 1 + 1 + L); // codes, embeddings, each codebook
    assert.deepEqual(stats.value, q.codeStats(codes, sizes, { embeddings: x, codebooks: rq.codebooks }));
    const dis = withoutHostReads(() => q.disambiguate(codes));
    assert.equal(dis.explicitReads, 1);
    assert.deepEqual(dis.value.shape, [n, L + 1]);
    const { rank } = q;
    const { items, samples } = rank.synthetic(1200, { seed: 2 });
    const r = new rank.Ranker({ numUsers: 2000, embeddingDim: 8, hidden: [16], attentionHidden: [8], features: { history: true }, seed: 3 }, items);
    const some = rank.sliceSamples(samples, 0, 1000);
    const p = withoutHostReads(() => r.predict(some, 300));
    assert.equal(p.explicitReads, 4); // one per chunk of 300
    assert.deepEqual([...p.value], [...r.predict(some, 300)]);
  });

  it('TargetAttention stacks and splits masks by kernels (forward with softmax and none, forwardPackedStacked composed)', () => {
    const B = 3,
      H = 5,
      D = 4;
    const query = q.tensor(randArray(B * D, 71), [B, D]);
    const keys = q.tensor(randArray(B * H * D, 72), [B, H, D]);
    // Row 2 of the second mask is all masked: it pools to zeros under softmax.
    const m1 = new Float32Array([1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1]);
    const m2 = new Float32Array([0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const masks = [q.tensor(m1, [B, H]), q.tensor(m2, [B, H])];
    for (const normalize of ['none', 'softmax']) {
      const att = new q.nn.TargetAttention(D, { hidden: [6], seed: 5, normalize });
      const s = att.scores(query, keys).toTypedArray();
      const { value, explicitReads } = withoutHostReads(() => att.forward(query, keys, masks));
      assert.equal(explicitReads, 0);
      const k = keys.toTypedArray();
      [m1, m2].forEach((m, mi) => {
        const ref = new Float64Array(B * D);
        for (let b = 0; b < B; b++) {
          const w = new Float64Array(H);
          if (normalize === 'softmax') {
            const z = Array.from({ length: H }, (_, h) => s[b * H + h] + (m[b * H + h] > 0 ? 0 : -1e9));
            const mx = Math.max(...z);
            const e = z.map((v) => Math.exp(v - mx));
            const tot = e.reduce((a, c) => a + c, 0);
            for (let h = 0; h < H; h++) w[h] = (e[h] / tot) * m[b * H + h];
          } else {
            for (let h = 0; h < H; h++) w[h] = s[b * H + h] * m[b * H + h];
          }
          for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) ref[b * D + d] += w[h] * k[(b * H + h) * D + d];
        }
        assertClose(value[mi].toTypedArray(), ref, { rtol: 1e-5, atol: 1e-6, msg: `${normalize} mask ${mi}` });
      });
    }
    // The composed packed path splits stacked masks with the slice kernel.
    const att = new q.nn.TargetAttention(D, { hidden: [6], seed: 5, normalize: 'softmax' });
    const rep = q.tensor(randArray((B + B * H) * D, 73), [B + B * H, D]);
    const stacked = new Float32Array(B * 2 * H);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) ((stacked[b * 2 * H + h] = m1[b * H + h]), (stacked[(b * 2 + 1) * H + h] = m2[b * H + h]));
    const st = q.tensor(stacked, [B, 2, H]);
    const viaStacked = withoutHostReads(() => att.forwardPackedStacked(rep, B, H, st));
    assert.equal(viaStacked.explicitReads, 0);
    assert.deepEqual([...viaStacked.value.toTypedArray()], [...att.forwardPacked(rep, B, H, masks).toTypedArray()]);
  });
});
