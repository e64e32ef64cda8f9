// How the ranker embeds codes (issue 14): prefix tables (exact / hashed rows, collisions, the
// zero row for prefixes no trained item has), the VQ bag in the history representation, the VQ
// cross feature, code dropout and scaled counts — each against a plain-JS (float64) reference.
import { q, assert, assertClose, assertThrowsTyped } from './helpers.js';
import { idDropMasks } from '../dist/rank/trainer.js';

const { rank } = q;

/** Random codes [n, L] with many duplicate tuples. */
function randomCodes(n, sizes, seed) {
  const g = new q.Generator(seed);
  const L = sizes.length;
  const codes = new Int32Array(n * L);
  for (let i = 0; i < n; i++) for (let l = 0; l < L; l++) codes[i * L + l] = g.int(sizes[l]);
  return codes;
}

const tupleKey = (codes, L, i, p) => Array.from(codes.subarray(i * L, i * L + p + 1)).join(',');

/** The reference rule: item i ≥ vocab reads −1 at length p when no item < vocab has its prefix. */
function seenPrefixes(codes, L, vocab) {
  return Array.from({ length: L }, (_, p) => new Set(Array.from({ length: vocab }, (_, i) => tupleKey(codes, L, i, p))));
}

describe('ranker code features', function () {
  this.timeout(60000);

  it('prefix rows: the exact mixed-radix index where the prefixes fit, a hashed row otherwise, collisions counted', () => {
    const sizes = [3, 17, 5, 2];
    const L = sizes.length;
    const N = 1000;
    const codes = randomCodes(N, sizes, 4);
    const rq = { codes, levels: L, codebookSize: sizes };
    const opts = { mode: 'prefix', tableSize: 60, hashSeed: 0, vocabItems: N };
    const r = rank.codeRows(rq, N, opts);
    assert.deepEqual(r.tableSizes, [3, 51, 60, 60]);
    assert.deepEqual(r.hashed, [false, false, true, true]);
    for (let i = 0; i < N; i++) {
      assert.equal(r.rows[i * L], codes[i * L]);
      assert.equal(r.rows[i * L + 1], codes[i * L] * 17 + codes[i * L + 1]);
    }
    for (let p = 0; p < L; p++) {
      // Same prefix → same row; rows in range; distinct and colliding prefixes as a reference counts them.
      const rowOf = new Map();
      const rows = new Set();
      for (let i = 0; i < N; i++) {
        const row = r.rows[i * L + p];
        assert.ok(row >= 0 && row < r.tableSizes[p], `row ${row}`);
        const k = tupleKey(codes, L, i, p);
        if (rowOf.has(k)) assert.equal(row, rowOf.get(k), `prefix ${k}`);
        rowOf.set(k, row);
        rows.add(row);
      }
      assert.equal(r.distinct[p], rowOf.size, `distinct at length ${p + 1}`);
      assert.equal(r.collisions[p], rowOf.size - rows.size, `collisions at length ${p + 1}`);
    }
    assert.deepEqual(r.collisions.slice(0, 2), [0, 0]);
    assert.ok(r.collisions[2] > 100 && r.collisions[3] > r.collisions[2], `255 possible prefixes in 60 rows collide: ${r.collisions}`);
    assert.deepEqual(r.unseen, [0, 0, 0, 0]);
    // Deterministic, and the seed moves the hashed rows only.
    assert.deepEqual(rank.codeRows(rq, N, opts).rows, r.rows);
    const s1 = rank.codeRows(rq, N, { ...opts, hashSeed: 1 }).rows;
    let moved = 0;
    for (let i = 0; i < N; i++) {
      assert.equal(s1[i * L + 1], r.rows[i * L + 1]);
      if (s1[i * L + 3] !== r.rows[i * L + 3]) moved++;
    }
    assert.ok(moved > N / 2, `seed changes hashed rows (${moved})`);
    // A good hash: ~1000 distinct 4-level prefixes in 2^20 rows collide about n²/2m ≈ 0.5 times.
    const wide = randomCodes(N, [64, 64, 64, 64], 5);
    const w = rank.codeRows({ codes: wide, levels: 4, codebookSize: 64 }, N, { ...opts, tableSize: 1 << 20 });
    assert.deepEqual(w.hashed, [false, false, false, true]);
    assert.ok(w.collisions[3] <= 3, `collisions ${w.collisions[3]}`);
    // Codebooks of size 1: every prefix is row 0.
    const ones = rank.codeRows({ codes: new Int32Array(6), levels: 2, codebookSize: 1 }, 3, { ...opts, tableSize: 1 });
    assert.deepEqual(Array.from(ones.rows), [0, 0, 0, 0, 0, 0]);
    // Levels mode: the codes themselves.
    const lv = rank.codeRows(rq, N, { ...opts, mode: 'levels' });
    assert.deepEqual(lv.rows, codes);
    assert.deepEqual(lv.tableSizes, sizes);
  });

  it('a code or prefix no item below vocabItems has reads the zero row (-1), and is counted', () => {
    const sizes = [4, 6, 3];
    const L = 3;
    const N = 300,
      V = 6;
    const codes = randomCodes(N, sizes, 8);
    for (const mode of ['prefix', 'levels']) {
      const r = rank.codeRows({ codes, levels: L, codebookSize: sizes }, N, { mode, tableSize: 20, hashSeed: 3, vocabItems: V });
      const full = rank.codeRows({ codes, levels: L, codebookSize: sizes }, N, { mode, tableSize: 20, hashSeed: 3, vocabItems: N });
      const seen =
        mode === 'prefix'
          ? seenPrefixes(codes, L, V)
          : Array.from({ length: L }, (_, l) => new Set(Array.from({ length: V }, (_, i) => String(codes[i * L + l]))));
      const unseen = [0, 0, 0];
      for (let i = 0; i < N; i++) {
        for (let p = 0; p < L; p++) {
          const k = mode === 'prefix' ? tupleKey(codes, L, i, p) : String(codes[i * L + p]);
          const zero = i >= V && !seen[p].has(k);
          if (zero) unseen[p]++;
          assert.equal(r.rows[i * L + p], zero ? -1 : full.rows[i * L + p], `${mode} item ${i} length ${p + 1}`);
        }
      }
      assert.deepEqual(r.unseen, unseen, mode);
      assert.ok(
        unseen.some((u) => u > 20),
        `${mode}: the test has unseen entries (${unseen})`,
      );
    }
  });

  // A tiny ranker with every code feature on, against a float64 forward written from its definition.
  const N = 60,
    V = 40,
    U = 9,
    d = 4,
    H = 5,
    B = 9;
  const sizes = [3, 4, 5];
  const L = sizes.length;
  const k = 4,
    pool = 30;
  function fixture(shape = sizes) {
    const g = new q.Generator(21);
    const L = shape.length;
    const codes = randomCodes(N, shape, 22);
    // Pool entry p is item poolItems[p] (a permutation of 30 items, not the identity).
    const poolItems = Int32Array.from([...Array(N).keys()].sort((a, b) => ((a * 37) % 61) - ((b * 37) % 61)).slice(0, pool));
    const vq = new Int32Array(N * k).map(() => (g.uniform() < 0.15 ? -1 : g.int(pool)));
    const items = { numItems: N, rq: { codes, levels: L, codebookSize: shape }, vq: { codes: vq, k, poolSize: pool, poolItems } };
    const s = {
      size: B,
      maxHistory: H,
      user: new Int32Array(B),
      item: new Int32Array(B),
      label: new Float32Array(B),
      history: new Int32Array(B * H).fill(-1),
      historyLength: new Int32Array(B),
    };
    for (let b = 0; b < B; b++) {
      s.user[b] = g.int(U);
      s.item[b] = b < 3 ? V + g.int(N - V) : g.int(N); // cold targets too
      s.label[b] = b % 2;
      s.historyLength[b] = b === 0 ? 0 : b === 1 ? H : 1 + g.int(H);
      for (let h = 0; h < s.historyLength[b]; h++) {
        // Half the slots are one of the target's VQ items, so the VQ cross set is not empty.
        const j = g.int(k);
        const p = vq[s.item[b] * k + j];
        s.history[b * H + h] = g.uniform() < 0.5 && p >= 0 ? poolItems[p] : g.int(N);
      }
    }
    s.history[2 * H] = s.history[2 * H + 1] = s.history[2 * H + 2]; // duplicates
    return { items, s };
  }

  function reference(r, items, s, opts = {}) {
    const { levels: L, codebookSize: sizes } = items.rq;
    const f64 = (t) => Float64Array.from(t.toTypedArray());
    const user = f64(r.user.weight),
      item = f64(r.item.weight),
      tabs = r.rq.map((e) => f64(e.weight)),
      vqT = f64(r.vq.weight);
    const { codes } = items.rq;
    const { codes: vq, poolItems } = items.vq;
    const seen = seenPrefixes(codes, L, V);
    const row = (t, i) => Array.from(t.subarray(i * d, (i + 1) * d));
    const zeros = () => new Array(d).fill(0);
    const add = (a, b) => a.map((x, j) => x + b[j]);
    const prefixRow = (id, p) => {
      let x = 0;
      for (let l = 0; l <= p; l++) x = x * sizes[l] + codes[id * L + l];
      return x;
    };
    const codeVecs = (id, dropN) =>
      Array.from({ length: L }, (_, p) => (p >= L - dropN || (id >= V && !seen[p].has(tupleKey(codes, L, id, p))) ? zeros() : row(tabs[p], prefixRow(id, p))));
    const bag = (id) => {
      const c = Array.from(vq.subarray(id * k, (id + 1) * k)).filter((x) => x >= 0);
      return c.length
        ? c
            .map((x) => row(vqT, x))
            .reduce(add)
            .map((x) => x / c.length)
        : zeros();
    };
    const rep = (id, dropId, dropN) => [...row(item, id >= V || dropId ? V : id), ...codeVecs(id, dropN).reduce(add), ...bag(id)];
    const lin = (layer, x) => {
      const W = f64(layer.weight),
        bias = f64(layer.bias);
      return Array.from(bias, (b0, o) => x.reduce((acc, xi, i) => acc + W[o * x.length + i] * xi, b0));
    };
    const [a1, a2] = r.attention.layers;
    const score = (qv, kv) =>
      lin(
        a2,
        lin(a1, [...qv, ...kv, ...qv.map((x, j) => x - kv[j]), ...qv.map((x, j) => x * kv[j])]).map((x) => 1 / (1 + Math.exp(-x))),
      )[0];
    const out = [];
    const counts = [];
    for (let b = 0; b < B; b++) {
      const t = s.item[b];
      const dropId = opts.dropTargetIds?.[b] ?? 0,
        dropN = opts.dropTargetLevels?.[b] ?? 0;
      const qv = rep(t, dropId, dropN);
      const K = qv.length;
      const pooled = [0, 1, 2, 3].map(() => new Array(K).fill(0));
      const near = new Set(
        Array.from(vq.subarray(t * k, (t + 1) * k))
          .filter((p) => p >= 0)
          .map((p) => poolItems[p]),
      );
      const c = [0, 0, 0];
      for (let h = 0; h < s.historyLength[b]; h++) {
        const id = s.history[b * H + h];
        const kv = rep(id, 0, 0);
        const sc = score(qv, kv);
        const m1 = codes[id * L] === codes[t * L];
        const m12 = m1 && codes[id * L + 1] === codes[t * L + 1];
        const masks = [true, m1, m12, near.has(id)];
        masks.forEach((m, mi) => {
          if (!m) return;
          if (mi > 0) c[mi - 1]++;
          for (let j = 0; j < K; j++) pooled[mi][j] += sc * kv[j];
        });
      }
      counts.push(c);
      const scaled = c.map((x) => Math.log1p(x) / Math.log1p(H));
      const x = [...row(user, s.user[b]), ...row(item, t >= V || dropId ? V : t), ...codeVecs(t, dropN).flat(), ...bag(t), ...pooled.flat(), ...scaled];
      let h = x;
      r.tower.layers.forEach((layer, i) => {
        h = lin(layer, h);
        if (i < r.tower.layers.length - 1) h = h.map((v) => Math.max(0, v));
      });
      out.push(h[0]);
    }
    return { logits: out, counts };
  }

  const config = {
    numUsers: U,
    numItemIds: V,
    embeddingDim: d,
    attentionHidden: [5],
    hidden: [6],
    codeMode: 'prefix',
    prefixTableSize: 1000,
    countNorm: 'scaled',
    seed: 4,
  };
  const features = { rq: true, vq: true, history: true, historyCodes: true, cross: true, vqHistory: true, vqCross: true, dense: false };

  for (const shape of [sizes, [2, 3, 2, 3, 2, 2]])
    it(`forward with prefix tables (${shape.length} levels), VQ bags in the history, the VQ cross feature and scaled counts matches a float64 reference`, () => {
      const L = shape.length;
      const { items, s } = fixture(shape);
      const r = new rank.Ranker({ ...config, features }, items);
      assert.equal(r.keyDim, 3 * d);
      assert.equal(r.inputDim, 2 * d + L * d + d + 4 * 3 * d + 3);
      const ref = reference(r, items, s);
      assert.ok(ref.counts.some((c) => c[2] > 0) && ref.counts.some((c, b) => c[2] < s.historyLength[b]), 'the VQ cross set is neither empty nor everything');
      assert.ok(
        ref.counts.some((c) => c[1] > 0),
        'some level-1+2 matches',
      );
      assertClose(r.forward(s).toTypedArray(), ref.logits, { rtol: 1e-4, atol: 1e-5, msg: 'logits' });
      // Code dropout and id dropout of the targets (levels 0..L; L drops every code).
      const dropTargetIds = Uint8Array.from({ length: B }, (_, b) => (b % 3 === 1 ? 1 : 0));
      const dropTargetLevels = Uint8Array.from({ length: B }, (_, b) => b % (L + 1));
      const dropped = reference(r, items, s, { dropTargetIds, dropTargetLevels });
      assertClose(r.forward(s, { dropTargetIds, dropTargetLevels }).toTypedArray(), dropped.logits, { rtol: 1e-4, atol: 1e-5, msg: 'dropped' });
      assert.notDeepEqual(dropped.logits, ref.logits);
      assertThrowsTyped(() => r.forward(s, { dropTargetLevels: new Uint8Array(B - 1) }), q.ShapeError, 'dropTargetLevels');
      assertThrowsTyped(() => r.forward(s, { dropTargetLevels: new Uint8Array(B).fill(L + 1) }), q.ValueError, 'dropTargetLevels');
      // The mapping is read, not assumed: other pool items change the VQ cross feature.
      const shifted = { ...items, vq: { ...items.vq, poolItems: items.vq.poolItems.map((x) => (x + 1) % N) } };
      const r2 = new rank.Ranker({ ...config, features }, shifted);
      assertClose(r2.forward(s).toTypedArray(), reference(r2, shifted, s).logits, { rtol: 1e-4, atol: 1e-5, msg: 'shifted pool' });
      assertThrowsTyped(
        () => new rank.Ranker({ ...config, features }, { ...items, vq: { ...items.vq, poolItems: new Int32Array(pool).fill(N) } }),
        q.IndexError,
        'poolItems',
      );
      assertThrowsTyped(() => new rank.Ranker({ ...config, codeMode: 'ngram', features }, items), q.ValueError, 'codeMode');
      assertThrowsTyped(() => new rank.Ranker({ ...config, countNorm: 'raw', features }, items), q.ValueError, 'countNorm');
    });

  it('gradients of the VQ table (target bag, history bags, VQ cross) and the prefix tables match finite differences', () => {
    const { items, s } = fixture();
    const r = new rank.Ranker({ ...config, features }, items);
    const w = Float32Array.from({ length: B }, (_, b) => (b % 3) - 0.7);
    const loss = () => {
      const y = r.forward(s).toTypedArray();
      let t = 0;
      for (let b = 0; b < B; b++) t += w[b] * y[b];
      return t;
    };
    const logits = r.forward(s);
    q.sum(q.mul(logits, q.tensor(w, [B]))).backward();
    for (const table of [r.vq.weight, r.rq[0].weight, r.rq[2].weight]) {
      const g = table.grad.toDense ? table.grad.toDense() : table.grad;
      const analytic = Float32Array.from(g.toTypedArray());
      const data = table.f32();
      // The entries with the largest gradients, and a few untouched ones (zero both ways).
      const idx = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]) - Math.abs(analytic[a]) || a - b);
      const check = [...idx.slice(0, 6), ...idx.slice(-2)];
      assert.ok(Math.abs(analytic[idx[0]]) > 1e-4, 'a non-trivial gradient');
      for (const k of check) {
        const v = data[k];
        const eps = 1e-2;
        data[k] = v + eps;
        const up = q.noGrad(loss);
        data[k] = v - eps;
        const down = q.noGrad(loss);
        data[k] = v;
        const num = (up - down) / (2 * eps);
        assert.ok(Math.abs(analytic[k] - num) <= 2e-3 + 3e-2 * Math.abs(num), `entry ${k}: analytic ${analytic[k]} numeric ${num}`);
      }
    }
  });

  it('a cold item whose fine prefix no warm item has scores as a warm sibling with its id and fine level dropped', () => {
    const { items } = fixture();
    const { codes } = items.rq;
    const seen = seenPrefixes(codes, L, V);
    // A cold item with a seen length-2 prefix and an unseen length-3 one, and a warm item sharing the length-2 prefix.
    const cold = [...Array(N - V).keys()].map((i) => i + V).find((i) => seen[1].has(tupleKey(codes, L, i, 1)) && !seen[2].has(tupleKey(codes, L, i, 2)));
    assert.ok(cold !== undefined, 'fixture has such an item');
    const warm = [...Array(V).keys()].find((i) => tupleKey(codes, L, i, 1) === tupleKey(codes, L, cold, 1));
    const noVq = { numItems: N, rq: items.rq };
    const r = new rank.Ranker({ ...config, features: { rq: true, history: true, historyCodes: true, cross: true } }, noVq);
    const one = (target) => ({
      size: 1,
      maxHistory: H,
      user: Int32Array.of(2),
      item: Int32Array.of(target),
      label: Float32Array.of(1),
      history: Int32Array.of(3, 17, 3, -1, -1),
      historyLength: Int32Array.of(3),
    });
    // The history items share level 1 and 2 codes with neither or both alike, so the cross sets agree.
    const same = [3, 17].every((h) => (codes[h * L] === codes[cold * L]) === (codes[h * L] === codes[warm * L]));
    assert.ok(same);
    const a = r.forward(one(cold)).toTypedArray();
    const b = r.forward(one(warm), { dropTargetIds: Uint8Array.of(1), dropTargetLevels: Uint8Array.of(1) }).toTypedArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(r.forward(one(warm)).toTypedArray(), a);
  });

  it('code dropout masks: only dropped targets, uniform 0..L-1 levels, deterministic, id drops unchanged', () => {
    const Bn = 4000;
    const batch = { size: Bn, maxHistory: 2, historyLength: new Int32Array(Bn).fill(2) };
    const plain = idDropMasks(batch, 0.5, 0.2, 7, 1, 3);
    const withCodes = idDropMasks(batch, 0.5, 0.2, 7, 1, 3, 3);
    assert.equal(plain.dropTargetLevels, undefined);
    assert.deepEqual(withCodes.dropTargetIds, plain.dropTargetIds);
    assert.deepEqual(withCodes.dropHistoryIds, plain.dropHistoryIds);
    const counts = [0, 0, 0, 0];
    let dropped = 0;
    for (let b = 0; b < Bn; b++) {
      const lv = withCodes.dropTargetLevels[b];
      if (!plain.dropTargetIds[b]) assert.equal(lv, 0, `sample ${b} kept its id`);
      else {
        dropped++;
        counts[lv]++;
      }
    }
    assert.equal(counts[3], 0, 'never all L levels');
    for (let l = 0; l < 3; l++) assert.ok(Math.abs(counts[l] / dropped - 1 / 3) < 0.04, `level share ${counts}`);
    assert.deepEqual(idDropMasks(batch, 0.5, 0.2, 7, 1, 3, 3), withCodes);
    assert.notDeepEqual(idDropMasks(batch, 0.5, 0.2, 7, 1, 4, 3).dropTargetLevels, withCodes.dropTargetLevels);
    assert.equal(idDropMasks(batch, 0.5, 0, 7, 1, 3, 1).dropTargetLevels, undefined, 'one level: nothing to drop');
  });

  it('trains with code dropout and the VQ history/cross features: the same weights at 1 and 2 threads, different without code dropout, typed errors', async () => {
    const { items: base, samples } = rank.synthetic(1600, { seed: 3, numItems: 400, codebookSizes: [8, 4, 3] });
    const g = new q.Generator(6);
    const items = { ...base, vq: { codes: Int32Array.from({ length: 400 * 5 }, () => g.int(300)), k: 5, poolSize: 300 } };
    const tr = rank.sliceSamples(samples, 0, 1200),
      va = rank.sliceSamples(samples, 1200, 1600);
    const c = {
      numUsers: 2000,
      numItemIds: 300,
      embeddingDim: 4,
      hidden: [8],
      attentionHidden: [4],
      codeMode: 'prefix',
      prefixTableSize: 20,
      seed: 1,
      features: { vqHistory: true, vqCross: true },
    };
    const run = async (codeDropout, threads = 1) => {
      const prev = q.numThreads();
      q.setNumThreads(threads);
      try {
        const r = new rank.Ranker(c, items);
        await rank.trainRanker(r, tr, va, { epochs: 1, batchSize: 200, seed: 5, itemIdDropout: 0.3, codeDropout });
        return r.parameters().map((p) => Float32Array.from(p.toTypedArray()));
      } finally {
        q.setNumThreads(prev);
      }
    };
    const a = await run(true);
    (await run(true, 2)).forEach((p, i) => assert.deepEqual(p, a[i], `param ${i}`));
    const off = await run(false);
    assert.ok(
      off.some((p, i) => p.some((v, j) => v !== a[i][j])),
      'code dropout changes training',
    );
    await assert.rejects(
      rank.trainRanker(new rank.Ranker(c, items), tr, va, { codeDropout: 'yes' }),
      (e) => e instanceof q.ValueError && /codeDropout/.test(e.message),
    );
  });
});
