// Contrastive aligner: InfoNCE value and gradient, neighbourhood term gradient, training that
// actually pulls behaviour pairs together, and the API / command on a small dataset folder.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert, assertClose, gradCheck, randArray } from './helpers.js';
import {
  infoNCE,
  neighbourhoodLoss,
  trainAligner,
  projectAll,
  pairRecall,
  embeddingScorer,
  tableScorer,
  cachedScorer,
  mixedScorer,
  mixSpaces,
} from '../dist/align/index.js';
import { runAlignCommand } from '../dist/pipeline/align_command.js';

function refInfoNCE(za, zb, B, d, tau, mask) {
  // float64 reference: mean of -log softmax_row(diag) and -log softmax_col(diag), halved.
  const L = [];
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += za[i * d + c] * zb[j * d + c];
      L.push(s / tau + (mask ? mask[i * B + j] : 0));
    }
  let tot = 0;
  for (let i = 0; i < B; i++) {
    let mr = -Infinity,
      mc = -Infinity;
    for (let j = 0; j < B; j++) {
      mr = Math.max(mr, L[i * B + j]);
      mc = Math.max(mc, L[j * B + i]);
    }
    let sr = 0,
      sc = 0;
    for (let j = 0; j < B; j++) {
      sr += Math.exp(L[i * B + j] - mr);
      sc += Math.exp(L[j * B + i] - mc);
    }
    tot += -(L[i * B + i] - mr - Math.log(sr)) - (L[i * B + i] - mc - Math.log(sc));
  }
  return tot / (2 * B);
}

describe('align: pair recall', () => {
  it('counts ties against the target, excludes the query, queries both directions', () => {
    const t = Array.from({ length: 6 }, () => new Map());
    const set = (i, j, v) => {
      t[i].set(j, v);
      t[j].set(i, v);
    };
    set(0, 1, 0.9);
    set(0, 2, 0.5);
    set(0, 3, 0.5);
    const pairs = { a: Int32Array.from([0, 0, 4]), b: Int32Array.from([1, 2, 5]), score: new Float32Array(3) };
    // 0->1 rank 0, 1->0 rank 0, 0->2 rank 2 (item 1 above, item 3 ties), 2->0 rank 0, 4->5 and 5->4 rank 4 (all tie at 0).
    const r = pairRecall(tableScorer(t), 6, pairs, { ks: [1, 2, 3, 5], chunk: 2 });
    assert.equal(r.queries, 6);
    assert.deepEqual(r.recall, { 1: 3 / 6, 2: 3 / 6, 3: 4 / 6, 5: 1 });
  });

  it('gives the brute-force ranks with ties whether a query has few targets (counted) or many (sorted)', () => {
    const n = 50,
      d = 3;
    const g = new q.Generator(5);
    const emb = Float32Array.from({ length: n * d }, () => Math.round(g.normal() * 2) / 2); // many ties
    const a = [],
      b = [];
    for (let j = 1; j < 30; j++) {
      a.push(0);
      b.push(j);
    } // item 0 queries 29 targets
    for (let k = 0; k < 40; k++) {
      const i = 1 + g.int(n - 1);
      let j = g.int(n);
      if (j === i) j = (j + 1) % n;
      a.push(i);
      b.push(j);
    }
    const pairs = { a: Int32Array.from(a), b: Int32Array.from(b), score: new Float32Array(a.length) };
    const sc = embeddingScorer(emb, n, d);
    const row = (i) => sc(Int32Array.of(i));
    const ks = [1, 5, 10, 20];
    const hits = ks.map(() => 0);
    for (const [qi, t] of [...a.map((x, k) => [x, b[k]]), ...b.map((x, k) => [x, a[k]])]) {
      const r = row(qi);
      let rank = 0;
      for (let j = 0; j < n; j++) if (j !== qi && j !== t && r[j] >= r[t]) rank++;
      ks.forEach((k, x) => {
        if (rank < k) hits[x]++;
      });
    }
    const got = pairRecall(sc, n, pairs, { ks, chunk: 7 });
    assert.deepEqual(got.recall, Object.fromEntries(ks.map((k, x) => [k, hits[x] / (2 * a.length)])));
  });
});

describe('align: mixed retrieval space', () => {
  const cos = (x, d, i, j) => {
    let s = 0,
      a = 0,
      b = 0;
    for (let c = 0; c < d; c++) {
      s += x[i * d + c] * x[j * d + c];
      a += x[i * d + c] ** 2;
      b += x[j * d + c] ** 2;
    }
    return a > 0 && b > 0 ? s / Math.sqrt(a * b) : 0;
  };
  it('mixSpaces: unit rows whose inner products are w cos_a + (1 - w) cos_b (float64 reference; a zero row; w = 1)', () => {
    for (const [n, da, db, w] of [
      [1, 3, 2, 0.5],
      [17, 5, 7, 0.8],
      [40, 4, 9, 1],
    ]) {
      const a = randArray(n * da, n),
        b = randArray(n * db, n + 1);
      if (n > 3) b.fill(0, 2 * db, 3 * db); // item 2 has no content: its content part is zero
      const m = mixSpaces(a, da, b, db, n, w);
      const d = da + db;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += m[i * d + c] * m[j * d + c];
          assertClose([s], [w * cos(a, da, i, j) + (1 - w) * cos(b, db, i, j)], { atol: 1e-5 });
        }
      }
      if (w === 1) assert.ok(m.every((v, k) => k % d < da || v === 0));
    }
    assert.throws(() => mixSpaces(new Float32Array(6), 3, new Float32Array(4), 2, 2, 1.5), q.ValueError);
    assert.throws(() => mixSpaces(new Float32Array(6), 3, new Float32Array(5), 2, 2, 0.5), q.ValueError);
  });

  it('mixedScorer over two cosine scorers equals the inner product in the mixed space; cachedScorer scores each item once', () => {
    const n = 23,
      da = 4,
      db = 6,
      w = 0.7;
    const a = randArray(n * da, 11),
      b = randArray(n * db, 12);
    const unit = (x, d) => mixSpaces(x, d, new Float32Array(n), 1, n, 1).filter((_, k) => k % (d + 1) < d);
    let calls = 0;
    const counted = (sc) => (qs) => {
      calls += qs.length;
      return sc(qs);
    };
    const cb = cachedScorer(counted(embeddingScorer(unit(b, db), n, db)), n);
    const mixed = mixedScorer(embeddingScorer(unit(a, da), n, da), cb, w);
    const ref = embeddingScorer(mixSpaces(a, da, b, db, n, w), n, da + db);
    const qs = Int32Array.from([0, 5, 5, 22, 3]);
    assertClose([...mixed(qs)], [...ref(qs)], { atol: 1e-5 });
    assertClose([...mixed(Int32Array.from([3, 7]))], [...ref(Int32Array.from([3, 7]))], { atol: 1e-5 });
    assert.equal(calls, 5); // items 0, 5, 22, 3, then only 7
    assert.throws(() => mixedScorer(cb, cb, -0.1), q.ValueError);
  });
});

describe('align: contrastive aligner', () => {
  it('infoNCE equals a float64 reference, with and without a mask', () => {
    for (const [B, d] of [
      [1, 3],
      [3, 2],
      [17, 5],
    ]) {
      const za = randArray(B * d, 1),
        zb = randArray(B * d, 2);
      const mask = new Float32Array(B * B);
      if (B > 2) mask[1] = -1e4;
      const got = infoNCE(q.tensor(za, [B, d]), q.tensor(zb, [B, d]), 0.5).item();
      assertClose([got], [refInfoNCE(za, zb, B, d, 0.5)], { rtol: 1e-4 });
      const gotM = infoNCE(q.tensor(za, [B, d]), q.tensor(zb, [B, d]), 0.5, q.tensor(mask, [B, B])).item();
      assertClose([gotM], [refInfoNCE(za, zb, B, d, 0.5, mask)], { rtol: 1e-4 });
    }
  });

  it('infoNCE gradient (through l2Normalize) matches finite differences', () => {
    const B = 5,
      d = 4;
    gradCheck(
      (a, b) => infoNCE(q.l2Normalize(a), q.l2Normalize(b), 0.2),
      [
        { data: randArray(B * d, 3), shape: [B, d] },
        { data: randArray(B * d, 4), shape: [B, d] },
      ],
      { eps: 1e-3, rtol: 3e-2, atol: 2e-3 },
    );
    // With masked (false-negative) entries: the fused backward must give them no gradient share.
    const mask = new Float32Array(B * B);
    mask[1] = mask[2 * B + 4] = mask[3 * B] = -1e4;
    gradCheck(
      (a, b) => infoNCE(q.l2Normalize(a), q.l2Normalize(b), 0.2, q.tensor(mask, [B, B])),
      [
        { data: randArray(B * d, 5), shape: [B, d] },
        { data: randArray(B * d, 6), shape: [B, d] },
      ],
      { eps: 1e-3, rtol: 3e-2, atol: 2e-3 },
    );
  });

  it('neighbourhood term gradient matches finite differences', () => {
    const B = 4,
      d = 3;
    const content = randArray(B * 6, 9);
    gradCheck((z) => neighbourhoodLoss(q.l2Normalize(z), content, 0.3, 0.1), [{ data: randArray(B * d, 5), shape: [B, d] }], {
      eps: 1e-3,
      rtol: 3e-2,
      atol: 2e-3,
    });
  });

  it("an epoch's loss is the float64 sum, in step order, of its steps' losses over members, as a host replay gives bit for bit", () => {
    // Replays trainAligner's epoch on the host: the same shuffle, batches, masks, MLP and Adam,
    // each step's loss read with item() and summed in float64; the aligner sums on the device.
    const n = 60,
      D = 7,
      P = 150;
    const content = q.tensor(randArray(n * D, 21), [n, D]);
    const g = new q.Generator(8);
    const a = new Int32Array(P).map(() => g.int(n));
    const b = a.map((x, k) => (k % 9 === 0 ? a[(k + 1) % P] : (x + 1 + g.int(4)) % n));
    const pairs = { a, b, score: new Float32Array(P) };
    const opts = { dims: 3, hidden: [5], batchSize: 19, epochs: 2, ensemble: 2, seed: 6, temperature: 0.25, lr: 1e-2 };
    const res = trainAligner(content, pairs, opts);
    const team = [0, 1].map((k) => {
      const s = opts.seed + 1009 * k;
      const model = new q.nn.MLP([D, 5, 3], { activation: 'relu', seed: s });
      return {
        model,
        optim: new q.optim.Adam(model.parameters(), { lr: opts.lr, decoupled: true, weightDecay: 0 }),
        g: new q.Generator(s + 1),
        order: Int32Array.from({ length: P }, (_, i) => i),
      };
    });
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      let total = 0,
        steps = 0;
      for (const { model, optim, g: gen, order } of team) {
        for (let i = P - 1; i > 0; i--) {
          const j = gen.int(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        let sum = 0;
        for (let s = 0; s + opts.batchSize <= P; s += opts.batchSize) {
          const B = opts.batchSize;
          const ia = Int32Array.from({ length: B }, (_, k) => a[order[s + k]]);
          const ib = Int32Array.from({ length: B }, (_, k) => b[order[s + k]]);
          const mask = new Float32Array(B * B);
          for (let r = 0; r < B; r++)
            for (let c = 0; c < B; c++) if (r !== c && (ib[c] === ib[r] || ia[c] === ia[r] || ib[c] === ia[r])) mask[r * B + c] = -1e4;
          sum += q.tidy(() => {
            const za = q.l2Normalize(model.forward(q.gather(content, q.tensor(ia, [B], 'int32'))));
            const zb = q.l2Normalize(model.forward(q.gather(content, q.tensor(ib, [B], 'int32'))));
            const l = infoNCE(za, zb, opts.temperature, q.tensor(mask, [B, B]));
            optim.zeroGrad();
            l.backward();
            optim.step();
            return l.item();
          });
          steps++;
        }
        total += sum;
      }
      assert.equal(res.history[epoch].loss, total / steps, `epoch ${epoch + 1}`);
    }
    res.models.forEach((m, k) => assert.deepEqual([...m.parameters()[0].toTypedArray()], [...team[k].model.parameters()[0].toTypedArray()]));
  });

  it('infoNCE rejects mismatched shapes and a bad temperature', () => {
    assert.throws(() => infoNCE(q.zeros([2, 3]), q.zeros([3, 3]), 0.1), q.ValueError);
    assert.throws(() => infoNCE(q.zeros([2, 3]), q.zeros([2, 3]), 0), q.ValueError);
    assert.throws(() => infoNCE(q.zeros([2, 3]), q.zeros([2, 3]), 0.1, q.zeros([3, 3])), q.ValueError);
  });

  // Synthetic catalogue: 4 behaviour groups whose members share nothing in content but a
  // weak group signal hidden among noise; pairs link members of a group.
  function synthetic(n = 200, dIn = 24, seed = 7) {
    const g = new q.Generator(seed);
    const x = new Float32Array(n * dIn);
    const group = (i) => i % 4;
    for (let i = 0; i < n; i++) for (let c = 0; c < dIn; c++) x[i * dIn + c] = g.normal() + (c < 4 && c === group(i) ? 1.5 : 0);
    const a = [],
      b = [];
    for (let k = 0; k < 600; k++) {
      const i = g.int(n);
      let j = g.int(n);
      while (group(j) !== group(i) || j === i) j = g.int(n);
      a.push(Math.min(i, j));
      b.push(Math.max(i, j));
    }
    const mk = (from, to) => ({ a: Int32Array.from(a.slice(from, to)), b: Int32Array.from(b.slice(from, to)), score: new Float32Array(to - from).fill(1) });
    return { x, n, dIn, train: mk(0, 500), val: mk(500, 600) };
  }

  it('training brings held-out behaviour pairs closer than raw content does; same seed, same result', () => {
    const s = synthetic();
    const content = q.tensor(s.x, [s.n, s.dIn]);
    const opts = {
      dims: 8,
      hidden: [32],
      batchSize: 64,
      epochs: 15,
      patience: 5,
      lr: 3e-3,
      temperature: 0.2,
      validation: s.val,
      validationK: 10,
      seed: 3,
      ensemble: 1,
    };
    const res = trainAligner(content, s.train, opts);
    assert.deepEqual(res.embeddings.shape, [s.n, 8]);
    const e = res.embeddings.toTypedArray();
    for (let i = 0; i < s.n; i++) {
      let nn = 0;
      for (let c = 0; c < 8; c++) nn += e[i * 8 + c] ** 2;
      assert.ok(Math.abs(nn - 1) < 1e-4);
    }
    const raw = pairRecall(embeddingScorer(s.x, s.n, s.dIn), s.n, s.val, { ks: [10] }).recall[10];
    const aligned = pairRecall(embeddingScorer(e, s.n, 8), s.n, s.val, { ks: [10] }).recall[10];
    assert.ok(aligned > raw + 0.05, `aligned R@10 ${aligned} vs raw ${raw}`);
    assert.ok(res.bestEpoch >= 1 && res.history.length >= res.bestEpoch);
    const again = trainAligner(content, s.train, opts);
    assert.deepEqual([...again.embeddings.toTypedArray()], [...e]);
  });

  it('contentMix: the chosen weight comes from the grid and retrieval is the mixed space of the kept embeddings', () => {
    const s = synthetic(60);
    const content = q.tensor(s.x, [s.n, s.dIn]);
    const opts = { dims: 8, hidden: [16], batchSize: 32, epochs: 3, validation: s.val, validationK: 10, seed: 1, ensemble: 1 };
    const mixed = trainAligner(content, s.train, { ...opts, contentMix: [0.5] });
    assert.equal(mixed.mixWeight, 0.5);
    assert.ok(mixed.history.every((h) => h.mixWeight === 0.5));
    assert.deepEqual(mixed.retrieval.shape, [s.n, 8 + s.dIn]);
    assertClose([...mixed.retrieval.toTypedArray()], [...mixSpaces(mixed.embeddings.toTypedArray(), 8, s.x, s.dIn, s.n, 0.5)], { atol: 1e-6 });
    const pure = trainAligner(content, s.train, { ...opts, contentMix: [1] });
    assert.equal(pure.mixWeight, 1);
    assert.equal(pure.retrieval, null);
    for (const bad of [[], [0], [1.2]]) {
      assert.throws(
        () => trainAligner(content, s.train, { ...opts, contentMix: bad }),
        (e) => e instanceof q.ValueError && e.argument === 'contentMix',
      );
    }
  });

  it("ensemble: embeddings are the members' outputs / sqrt(M) (cosine = mean member cosine); member 0 is the one-projector run", () => {
    const s = synthetic(61);
    const content = q.tensor(s.x, [s.n, s.dIn]);
    const opts = { dims: 8, hidden: [16], batchSize: 32, epochs: 3, validation: s.val, validationK: 10, seed: 2, contentMix: [1] };
    for (const m of [2, 3]) {
      const res = trainAligner(content, s.train, { ...opts, ensemble: m });
      assert.equal(res.models.length, m);
      assert.equal(res.model, res.models[0]);
      assert.deepEqual(res.embeddings.shape, [s.n, 8 * m]);
      // Independent reference: each member projected on its own, cosines averaged in float64.
      const parts = res.models.map((mod) => projectAll(mod, content).toTypedArray());
      const e = res.embeddings.toTypedArray();
      const d = 8 * m;
      for (const [i, j] of [
        [0, 0],
        [0, 1],
        [5, 17],
        [60, 3],
        [33, 33],
      ]) {
        let got = 0;
        for (let c = 0; c < d; c++) got += e[i * d + c] * e[j * d + c];
        let want = 0;
        for (const z of parts) for (let c = 0; c < 8; c++) want += (z[i * 8 + c] * z[j * 8 + c]) / m;
        assert.ok(Math.abs(got - want) < 1e-5, `(${i}, ${j}) ${got} vs ${want}`);
      }
      // Deterministic: same options, same bits.
      const again = trainAligner(content, s.train, { ...opts, ensemble: m });
      assert.deepEqual([...again.embeddings.toTypedArray()], [...e]);
      // The members differ (different seeds).
      assert.notDeepEqual([...parts[0]], [...parts[1]]);
    }
    // Without validation every epoch is kept, so member 0 of an ensemble is exactly the single run.
    const noVal = { ...opts, validation: undefined };
    const one = trainAligner(content, s.train, { ...noVal, ensemble: 1 });
    const three = trainAligner(content, s.train, { ...noVal, ensemble: 3 });
    assert.deepEqual([...projectAll(three.models[0], content).toTypedArray()], [...one.embeddings.toTypedArray()]);
    // The mixed retrieval space is built from the whole ensemble.
    const mixed = trainAligner(content, s.train, { ...opts, ensemble: 2, contentMix: [0.5] });
    assert.deepEqual(mixed.retrieval.shape, [s.n, 16 + s.dIn]);
    assertClose([...mixed.retrieval.toTypedArray()], [...mixSpaces(mixed.embeddings.toTypedArray(), 16, s.x, s.dIn, s.n, 0.5)], { atol: 1e-6 });
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(
        () => trainAligner(content, s.train, { ...opts, ensemble: bad }),
        (e) => e instanceof q.ValueError && e.argument === 'ensemble',
      );
    }
  });

  it('rejects out-of-range pairs naming the argument', () => {
    const content = q.zeros([3, 2]);
    assert.throws(
      () => trainAligner(content, { a: Int32Array.from([0]), b: Int32Array.from([3]), score: Float32Array.from([1]) }),
      (e) => e instanceof q.ValueError && e.argument === 'pairs',
    );
  });

  it('runAlignCommand aligns a dataset folder and writes aligned.npy (every item, cold ones too)', async function () {
    this.timeout(60000);
    const dir = mkdtempSync(join(tmpdir(), 'qarm-align-'));
    try {
      const colours = ['red', 'blue', 'green', 'pink', 'white', 'black'];
      const things = ['mug', 'plate', 'bag', 'lamp', 'box'];
      const items = ['item,text'];
      colours.forEach((c, i) => things.forEach((t, j) => items.push(`${c}-${t},${c} ${t}`)));
      items.push('new-item,gold mug'); // never bought: cold
      const g = new q.Generator(1);
      const inter = ['user,item,timestamp,basket'];
      for (let u = 0; u < 40; u++) {
        for (let b = 0; b < 6; b++) {
          const t = 1000000 + u * 1000 + b * 100000;
          const thing = things[g.int(things.length)];
          // A basket holds one kind of thing in two colours.
          for (const c of [colours[g.int(6)], colours[g.int(6)]]) inter.push(`u${u},${c}-${thing},${t},o${u}-${b}`);
        }
      }
      writeFileSync(join(dir, 'items.csv'), items.join('\n') + '\n');
      writeFileSync(join(dir, 'interactions.csv'), inter.join('\n') + '\n');
      const out = join(dir, 'out');
      const report = await runAlignCommand({
        data: dir,
        out,
        epochs: 3,
        batchSize: 32,
        encoders: { cacheDir: false, modalities: ['chargram'], lexicalDims: 8 },
      });
      const aligned = q.readNpy(join(out, 'aligned.npy'));
      assert.deepEqual(aligned.shape, [31, 64 * 3]); // default: an ensemble of 3 projectors
      const st = q.readSafetensors(join(out, 'projector.safetensors'));
      for (const k of [0, 1, 2])
        assert.ok(
          Object.keys(st.tensors).some((nm) => nm.startsWith(`member${k}.`)),
          `member${k}`,
        );
      assert.ok([...aligned.toTypedArray()].every(Number.isFinite));
      assert.ok(report.pairCounts.union > 0);
      for (const f of ['content.npy', 'projector.safetensors', 'pairs.csv', 'align.json', ...report.files]) assert.ok(existsSync(join(out, f)), f);
      if (report.mixWeight < 1) assert.deepEqual(q.readNpy(join(out, 'retrieval.npy')).shape, [31, 64 * 3 + 8]);
      const alignJson = JSON.parse(readFileSync(join(out, 'align.json'), 'utf8'));
      assert.equal(alignJson.dataset.items, 31);
      assert.equal(alignJson.worldSize, 1); // every output JSON records the ranks that shared the work
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
