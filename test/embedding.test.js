import { runKernel } from '../dist/tensor/backend.js';
import { q, assert, assertClose, assertThrowsTyped, randArray, randInts, gradCheck, SIZES } from './helpers.js';

/** Serial float32 reference of target[idx[i]] += src[i] (the order the kernel must match bit for bit). */
function refIndexAdd(target, dim, idx, src) {
  const out = Float32Array.from(target);
  for (let i = 0; i < idx.length; i++) for (let j = 0; j < dim; j++) out[idx[i] * dim + j] = Math.fround(out[idx[i] * dim + j] + src[i * dim + j]);
  return out;
}

function zipf(n, rows, seed) {
  const g = new q.Generator(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(rows - 1, Math.floor(Math.pow(rows + 1, g.uniform()) - 1));
  return out;
}

function withThreads(n, fn) {
  const prev = q.numThreads();
  q.setNumThreads(n);
  try {
    return fn();
  } finally {
    q.setNumThreads(prev);
  }
}

describe('embedding kernels', () => {
  it('indexAdd matches the serial reference bit for bit (random, all-equal, Zipf indices)', () => {
    for (const rows of [1, 3, 17, 255, 1000]) {
      for (const dim of [1, 3, 17, 64]) {
        for (const kind of ['random', 'equal', 'zipf']) {
          const n = rows * 3 + 5;
          const idx = kind === 'random' ? randInts(n, rows, rows + dim) : kind === 'equal' ? new Int32Array(n).fill(rows - 1) : zipf(n, rows, dim);
          const target = randArray(rows * dim, 3);
          const src = randArray(n * dim, 4);
          const expected = refIndexAdd(target, dim, idx, src);
          const t = q.tensor(Float32Array.from(target), [rows, dim]);
          q.indexAdd(t, q.tensor(idx), q.tensor(src, [n, dim]));
          assert.deepEqual(t.toTypedArray(), expected, `${kind} rows ${rows} dim ${dim}`);
        }
      }
    }
    // A table large enough to be split into several owned row ranges.
    const rows = 30000,
      dim = 64,
      n = 50000;
    for (const idx of [randInts(n, rows, 1), zipf(n, rows, 2), new Int32Array(n).fill(12345)]) {
      const target = randArray(rows * dim, 3);
      const src = randArray(n * dim, 4);
      const t = q.tensor(Float32Array.from(target), [rows, dim]);
      q.indexAdd(t, q.tensor(idx), q.tensor(src, [n, dim]));
      assert.deepEqual(t.toTypedArray(), refIndexAdd(target, dim, idx, src));
    }
  });

  it('indexAdd and gradient coalescing are bit-identical across thread counts', () => {
    // 40,000 x 33 floats, Zipf indices: thread-owned row ranges, cut by the index histogram.
    const rows = 40000,
      dim = 33,
      n = 60000;
    const idx = zipf(n, rows, 7);
    const src = randArray(n * dim, 8);
    const run = () => {
      const t = q.zeros([rows, dim]);
      q.indexAdd(t, q.tensor(idx), q.tensor(src, [n, dim]));
      const g = new q.RowSparseGrad(q.tensor(idx), q.tensor(src, [n, dim]), [rows, dim]).coalesce();
      return [t.toTypedArray(), g.indices.toTypedArray(), g.values.toTypedArray()];
    };
    const one = withThreads(1, run);
    for (const th of [2, 3, 8]) {
      const other = withThreads(th, run);
      other.forEach((a, i) => assert.deepEqual(a, one[i], `threads ${th} part ${i}`));
    }
    // Row ownership (ranges cut by the index histogram) against the serial loop, with heavy
    // duplicates, at several thread counts and row widths.
    for (const d of [5, 33, 64, 200]) {
      const m = 20000,
        r = 40000;
      const src2 = randArray(m * d, 9);
      const target = randArray(r * d, 10);
      for (const [kind, ids] of [
        ['uniform', randInts(m, r, 11)],
        ['zipf', zipf(m, r, 12)],
        ['equal', new Int32Array(m).fill(777)],
      ]) {
        const expected = refIndexAdd(target, d, ids, src2);
        for (const th of [1, 2, 3, 5]) {
          const got = withThreads(th, () => {
            const t = q.tensor(Float32Array.from(target), [r, d]);
            q.indexAdd(t, q.tensor(ids), q.tensor(src2, [m, d]));
            return t.toTypedArray();
          });
          assert.deepEqual(got, expected, `dim ${d} ${kind} threads ${th}`);
        }
      }
    }
  });

  it('indexAdd rejects bad input with typed errors and writes nothing', () => {
    const t = q.zeros([4, 2]);
    assertThrowsTyped(() => q.indexAdd(t, q.tensor([0, 4], undefined, 'int32'), q.ones([2, 2])), q.IndexError, 'indices');
    assertThrowsTyped(() => q.indexAdd(t, q.tensor([0, -1], undefined, 'int32'), q.ones([2, 2])), q.IndexError, 'indices');
    assert.deepEqual([...t.toTypedArray()], new Array(8).fill(0));
    assertThrowsTyped(() => q.indexAdd(t, q.tensor([0], undefined, 'int32'), q.ones([2, 2])), q.ShapeError, 'source');
    assertThrowsTyped(() => q.indexAdd(t, q.tensor([0]), q.ones([1, 2])), q.DTypeError, 'indices');
  });

  it('embeddingLookup gathers rows and returns a coalesced row-sparse gradient', () => {
    for (const n of SIZES) {
      const rows = 37,
        dim = 5;
      const table = q.tensor(randArray(rows * dim, n), [rows, dim]);
      table.requiresGrad = true;
      const idx = n === 255 ? new Int32Array(n).fill(3) : randInts(n, rows, n + 1);
      const y = q.embeddingLookup(table, q.tensor(idx));
      const w = q.tensor(randArray(n * dim, 99), [n, dim]);
      q.sum(q.mul(y, w)).backward();
      const g = table.grad;
      assert.ok(g instanceof q.RowSparseGrad && g.coalesced);
      const uniq = [...new Set(idx)].sort((a, b) => a - b);
      assert.deepEqual([...g.indices.toTypedArray()], uniq);
      const dense = new Float64Array(rows * dim);
      const wa = w.toTypedArray();
      for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) dense[idx[i] * dim + j] += wa[i * dim + j];
      assertClose(g.toDense().toTypedArray(), dense, { rtol: 1e-5, atol: 1e-5 });
      const ta = table.toTypedArray();
      assertClose(y.toTypedArray().subarray(0, dim), ta.subarray(idx[0] * dim, idx[0] * dim + dim));
    }
  });

  it('gradient coalescing: small tables (dense row sums) give the same bits as large ones (sorted plan) and the serial sums', () => {
    const d = 7,
      n = 3000;
    const ids = zipf(n, 50, 21);
    for (let i = 0; i < n; i += 97) ids[i] = -1; // padding (skipped by the table-batched lookup)
    const src = randArray(n * d, 22);
    const ref = new Float32Array(50 * d);
    for (let i = 0; i < n; i++) if (ids[i] >= 0) for (let j = 0; j < d; j++) ref[ids[i] * d + j] = Math.fround(ref[ids[i] * d + j] + src[i * d + j]);
    const uniq = [...new Set(ids)].filter((v) => v >= 0).sort((a, b) => a - b);
    const refRows = Float32Array.from(uniq.flatMap((r) => [...ref.subarray(r * d, (r + 1) * d)]));
    const kept = ids.map((v) => Math.max(v, 0)); // RowSparseGrad has no padding: those rows go to row 0
    for (const rows of [50, 100000]) {
      // Through the table-batched lookup's backward (strided blocks of the output gradient).
      const t = q.zeros([rows, d]);
      t.requiresGrad = true;
      const other = q.zeros([3, d]);
      const y = q.embeddingLookupMulti([other, t], [new Int32Array(n).fill(1), ids], [0, 1]);
      const w = new Float32Array(n * 2 * d);
      for (let i = 0; i < n; i++) w.set(src.subarray(i * d, (i + 1) * d), i * 2 * d + d);
      q.sum(q.mul(y, q.tensor(w, [n, 2 * d]))).backward();
      assert.deepEqual([...t.grad.indices.toTypedArray()], uniq, `rows ${rows}`);
      assert.deepEqual(t.grad.values.toTypedArray(), refRows, `rows ${rows}`);
      // Through RowSparseGrad.coalesce (no padding).
      const g = new q.RowSparseGrad(q.tensor(kept), q.tensor(src, [n, d]), [rows, d]).coalesce();
      const ref2 = new Float32Array(50 * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) ref2[kept[i] * d + j] = Math.fround(ref2[kept[i] * d + j] + src[i * d + j]);
      const u2 = [...new Set(kept)].sort((a, b) => a - b);
      assert.deepEqual([...g.indices.toTypedArray()], u2);
      assert.deepEqual(g.values.toTypedArray(), Float32Array.from(u2.flatMap((r) => [...ref2.subarray(r * d, (r + 1) * d)])));
    }
  });

  it('embeddingLookupMulti equals separate lookups summed per group, with the same row-sparse gradients', () => {
    const d = 4,
      n = 37;
    const tables = [11, 7, 5].map((r, i) => {
      const t = q.tensor(randArray(r * d, 20 + i), [r, d]);
      t.requiresGrad = true;
      return t;
    });
    const ids = [randInts(n, 11, 1), randInts(n, 7, 2), randInts(n, 5, 3)];
    ids[0][3] = -1;
    ids[2][5] = -1;
    ids[1].fill(6, 10, 30); // padding and heavy duplicates
    const group = [0, 1, 1];
    const y = q.embeddingLookupMulti(tables, ids, group);
    assert.deepEqual(y.shape, [n, 2 * d]);
    const w = q.tensor(randArray(n * 2 * d, 9), [n, 2 * d]);
    q.sum(q.mul(y, w)).backward();
    const got = tables.map((t) => t.grad);
    const ref = tables.map((t) => {
      const c = q.tensor(Float32Array.from(t.toTypedArray()), t.shape);
      c.requiresGrad = true;
      return c;
    });
    const look = (i) => q.embeddingLookup(ref[i], q.tensor(ids[i]), { padNegative: true });
    const yr = q.concatLast([look(0), q.add(look(1), look(2))]);
    assertClose(y.toTypedArray(), yr.toTypedArray(), { rtol: 1e-6, atol: 1e-6 });
    q.sum(q.mul(yr, w)).backward();
    got.forEach((g, i) => {
      assert.ok(g instanceof q.RowSparseGrad && g.coalesced);
      assert.deepEqual(g.indices.toTypedArray(), ref[i].grad.indices.toTypedArray());
      assertClose(g.values.toTypedArray(), ref[i].grad.values.toTypedArray(), { rtol: 1e-6, atol: 1e-6 });
    });
    assertThrowsTyped(() => q.embeddingLookupMulti(tables, [ids[0], ids[1], new Int32Array(n).fill(5)], group), q.IndexError, 'ids[2]');
    assertThrowsTyped(() => q.embeddingLookupMulti(tables, [ids[0], ids[1]], group), q.ShapeError, 'ids');
  });

  it('embeddingBag pools sum/mean/weighted bags; backward matches finite differences', () => {
    const rows = 11,
      dim = 3;
    const values = new Int32Array([0, 4, 4, 10, 2, 7, 7, 7, 1]);
    const offsets = new Int32Array([0, 3, 3, 4, 9]); // includes an empty bag
    const table = randArray(rows * dim, 5);
    for (const mode of ['sum', 'mean']) {
      const y = q.embeddingBag(q.tensor(table, [rows, dim]), q.tensor(values), q.tensor(offsets), { mode }).toTypedArray();
      const ref = new Float64Array(4 * dim);
      for (let b = 0; b < 4; b++) {
        const len = offsets[b + 1] - offsets[b];
        for (let j = offsets[b]; j < offsets[b + 1]; j++)
          for (let d = 0; d < dim; d++) ref[b * dim + d] += table[values[j] * dim + d] / (mode === 'mean' ? len : 1);
      }
      assertClose(y, ref);
      const wts = q.tensor(randArray(4 * dim, 6), [4, dim]);
      const f = (t) => q.sum(q.mul(q.embeddingBag(t, q.tensor(values), q.tensor(offsets), { mode }), wts));
      const leaf = q.tensor(Float32Array.from(table), [rows, dim]);
      leaf.requiresGrad = true;
      f(leaf).backward();
      const analytic = leaf.grad.toDense().toTypedArray();
      for (let k = 0; k < table.length; k++) {
        const at = (v) => {
          const d = Float32Array.from(table);
          d[k] = v;
          return q.noGrad(() => f(q.tensor(d, [rows, dim])).item());
        };
        const num = (at(table[k] + 1e-2) - at(table[k] - 1e-2)) / 2e-2;
        assert.ok(Math.abs(num - analytic[k]) < 2e-3, `${mode} element ${k}: ${analytic[k]} vs ${num}`);
      }
    }
    const pw = q.tensor(randArray(values.length, 8));
    const yw = q.embeddingBag(q.tensor(table, [rows, dim]), q.tensor(values), q.tensor(offsets), { weights: pw }).toTypedArray();
    const pa = pw.toTypedArray();
    let ref0 = 0;
    for (let j = 0; j < 3; j++) ref0 += pa[j] * table[values[j] * dim];
    assertClose([yw[0]], [ref0]);
  });

  it('embeddingBag rejects bad offsets and ids', () => {
    const t = q.zeros([4, 2]);
    assertThrowsTyped(() => q.embeddingBag(t, q.tensor([0, 1], undefined, 'int32'), q.tensor([0, 1], undefined, 'int32')), q.ValueError, 'offsets');
    assertThrowsTyped(() => q.embeddingBag(t, q.tensor([0, 1], undefined, 'int32'), q.tensor([0, 2, 1, 2], undefined, 'int32')), q.ValueError, 'offsets');
    assertThrowsTyped(() => q.embeddingBag(t, q.tensor([0, 9], undefined, 'int32'), q.tensor([0, 2], undefined, 'int32')), q.IndexError, 'values');
  });

  it('concatLast / sliceLast match concat / slice and their gradients', () => {
    for (const rows of [1, 3, 17]) {
      const parts = [
        [rows, 2],
        [rows, 5],
        [rows, 1],
      ].map((sh, i) => q.tensor(randArray(sh[0] * sh[1], i + rows), sh));
      assert.deepEqual(q.concatLast(parts).toTypedArray(), q.concat(parts, -1).toTypedArray());
      const x = q.tensor(randArray(rows * 8, 7), [rows, 2, 4]);
      assert.deepEqual(q.sliceLast(x, 1, 2).toTypedArray(), q.slice(x, 2, 1, 2).toTypedArray());
    }
    const c = q.tensor(randArray(3 * 6, 9), [3, 6]);
    gradCheck(
      (a, b) => q.sum(q.mul(q.concatLast([a, b]), c)),
      [
        { data: randArray(6, 1), shape: [3, 2] },
        { data: randArray(12, 2), shape: [3, 4] },
      ],
    );
    gradCheck((a) => q.sum(q.mul(q.sliceLast(a, 2, 3), q.tensor(randArray(9, 3), [3, 3]))), [{ data: randArray(18, 4), shape: [3, 6] }]);
    assertThrowsTyped(() => q.concatLast([q.zeros([2, 3]), q.zeros([3, 3])]), q.ShapeError, 'xs[1]');
    assertThrowsTyped(() => q.sliceLast(q.zeros([2, 3]), 2, 2), q.ValueError, 'start');
  });

  it('weightedPool forward and backward match a reference and finite differences', () => {
    const B = 3,
      M = 2,
      H = 5,
      D = 4;
    const w = randArray(B * M * H, 1),
      k = randArray(B * H * D, 2);
    const out = q.weightedPool(q.tensor(w, [B, M, H]), q.tensor(k, [B, H, D])).toTypedArray();
    const ref = new Float64Array(B * M * D);
    for (let b = 0; b < B; b++)
      for (let m = 0; m < M; m++)
        for (let h = 0; h < H; h++) for (let d = 0; d < D; d++) ref[(b * M + m) * D + d] += w[(b * M + m) * H + h] * k[(b * H + h) * D + d];
    assertClose(out, ref);
    const c = q.tensor(randArray(B * M * D, 3), [B, M, D]);
    gradCheck(
      (a, b) => q.sum(q.mul(q.weightedPool(a, b), c)),
      [
        { data: w, shape: [B, M, H] },
        { data: k, shape: [B, H, D] },
      ],
    );
  });
});

describe('embedding layers, attention and loss', () => {
  it('Embedding maps unseen ids to the OOV row, or throws without one', () => {
    const e = new q.nn.Embedding(5, 3, { oov: true, seed: 1 });
    assert.deepEqual(e.weight.shape, [6, 3]);
    const y = e.forward(new Int32Array([0, 7, -3, 4])).toTypedArray();
    const w = e.weight.toTypedArray();
    assert.deepEqual([...y.subarray(3, 6)], [...w.subarray(15, 18)]);
    assert.deepEqual([...y.subarray(6, 9)], [...w.subarray(15, 18)]);
    const strict = new q.nn.Embedding(5, 3);
    assertThrowsTyped(() => strict.forward(new Int32Array([5])), q.IndexError, 'ids');
    assertThrowsTyped(() => strict.forward(new Int32Array([-1])), q.IndexError, 'ids');
    const bag = new q.nn.EmbeddingBag(5, 3, { mode: 'mean' });
    const pooled = bag.forwardPadded(new Int32Array([1, -1, 3, -1, -1, -1]), 3).toTypedArray();
    const bw = bag.weight.toTypedArray();
    assertClose(
      pooled.subarray(0, 3),
      [0, 1, 2].map((d) => (bw[3 + d] + bw[9 + d]) / 2),
    );
    assertClose(pooled.subarray(3, 6), [0, 0, 0]);
  });

  it('TargetAttention equals the literal DIN formula and its backward matches finite differences', () => {
    const B = 2,
      H = 4,
      D = 3;
    const att = new q.nn.TargetAttention(D, { hidden: [5], seed: 3 });
    const qv = randArray(B * D, 1),
      kv = randArray(B * H * D, 2);
    const mask = new Float32Array([1, 1, 0, 0, 1, 1, 1, 0]);
    const [pooled] = att.forward(q.tensor(qv, [B, D]), q.tensor(kv, [B, H, D]), [q.tensor(mask, [B, H])]);
    // Literal: MLP over concat([q, k, q-k, q*k]) per slot, sum of mask*score*k.
    const [l1, l2] = att.layers;
    const W1 = l1.weight.toTypedArray(),
      b1 = l1.bias.toTypedArray(),
      W2 = l2.weight.toTypedArray(),
      b2 = l2.bias.toTypedArray();
    const ref = new Float64Array(B * D);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const qq = qv.subarray(b * D, b * D + D),
          kk = kv.subarray((b * H + h) * D, (b * H + h) * D + D);
        const x = [...qq, ...kk, ...qq.map((v, i) => v - kk[i]), ...qq.map((v, i) => v * kk[i])];
        let s = b2[0];
        for (let a = 0; a < 5; a++) {
          let z = b1[a];
          for (let i = 0; i < 4 * D; i++) z += W1[a * 4 * D + i] * x[i];
          s += W2[a] / (1 + Math.exp(-z));
        }
        for (let d = 0; d < D; d++) ref[b * D + d] += mask[b * H + h] * s * kk[d];
      }
    assertClose(pooled.toTypedArray(), ref, { rtol: 1e-4, atol: 1e-5 });
    const c = q.tensor(randArray(B * D, 9), [B, D]);
    const mask2 = q.tensor(new Float32Array([0, 1, 0, 0, 1, 0, 1, 0]), [B, H]);
    for (const normalize of ['none', 'softmax']) {
      const a2 = new q.nn.TargetAttention(D, { hidden: [5], seed: 3, normalize });
      gradCheck(
        (qq, kk) => {
          const [p1, p2] = a2.forward(qq, kk, [q.tensor(mask, [B, H]), mask2]);
          return q.add(q.sum(q.mul(p1, c)), q.sum(q.mul(p2, p2)));
        },
        [
          { data: qv, shape: [B, D] },
          { data: kv, shape: [B, H, D] },
        ],
      );
    }
  });

  it('fused DIN scoring equals the composed ops (values, gradients of inputs and weights), both activations; deeper MLPs work', () => {
    const B = 5,
      H = 7,
      D = 6;
    const qv = randArray(B * D, 11),
      kv = randArray(B * H * D, 12);
    const mask = q.tensor(Float32Array.from(randInts(B * H, 2, 13)), [B, H]);
    const c = q.tensor(randArray(B * D, 14), [B, D]);
    for (const activation of ['sigmoid', 'relu']) {
      const run = (fused) => {
        const att = new q.nn.TargetAttention(D, { hidden: [9], seed: 4, activation, fused });
        const qq = q.tensor(Float32Array.from(qv), [B, D]),
          kk = q.tensor(Float32Array.from(kv), [B, H, D]);
        qq.requiresGrad = kk.requiresGrad = true;
        const [p] = att.forward(qq, kk, [mask]);
        q.sum(q.mul(p, c)).backward();
        return [p, qq.grad, kk.grad, ...att.parameters().map((t) => t.grad)].map((t) => t.toTypedArray());
      };
      const fused = run(true),
        plain = run(false);
      fused.forEach((a, i) => assertClose(a, plain[i], { rtol: 1e-4, atol: 1e-5, msg: `${activation} part ${i}` }));
    }
    const deep = new q.nn.TargetAttention(D, { hidden: [5, 3], seed: 2 });
    gradCheck(
      (qq, kk) => q.sum(q.mul(deep.forward(qq, kk, [mask])[0], c)),
      [
        { data: qv, shape: [B, D] },
        { data: kv, shape: [B, H, D] },
      ],
    );
  });

  // forwardPacked through the fused kernel and through the composed ops, same weights and inputs:
  // [fused, composed], each [output, input gradient, ...parameter gradients] as typed arrays.
  const packedBothWays = ({ B, H, D, rv, masks, c, hidden, seed, activation }) =>
    [true, false].map((fused) => {
      const att = new q.nn.TargetAttention(D, { hidden, seed, activation, fused });
      const rep = q.tensor(Float32Array.from(rv), [B + B * H, D]);
      rep.requiresGrad = true;
      const y = att.forwardPacked(rep, B, H, masks);
      q.sum(q.mul(y, c)).backward();
      return [y, rep.grad, ...att.parameters().map((t) => t.grad)].map((t) => t.toTypedArray());
    });

  it('fused packed attention (forwardPacked) equals the composed path, values and all gradients', () => {
    const B = 4,
      H = 6,
      D = 5;
    const rv = randArray((B + B * H) * D, 31);
    const masks = [0, 1, 2].map((i) => q.tensor(Float32Array.from(randInts(B * H, 2, 40 + i)), [B, H]));
    const c = q.tensor(randArray(B * 3 * D, 33), [B, 3 * D]);
    for (const activation of ['sigmoid', 'relu']) {
      const [fused, plain] = packedBothWays({ B, H, D, rv, masks, c, hidden: [7], seed: 5, activation });
      fused.forEach((a, i) => assertClose(a, plain[i], { rtol: 1e-4, atol: 1e-5, msg: `${activation} part ${i}` }));
    }
    const att = new q.nn.TargetAttention(D, { hidden: [7], seed: 5 });
    gradCheck((r) => q.sum(q.mul(att.forwardPacked(r, B, H, masks), c)), [{ data: rv, shape: [B + B * H, D] }]);
  });

  it('fused packed attention with padded histories (trailing masked slots, an empty sample) equals the composed path', () => {
    // The fused kernel scores only each sample's slots up to the last one a mask selects; the
    // keys past it are non-zero here, so skipping them must still give exactly zero weight and
    // zero gradient there.
    const B = 5,
      H = 9,
      D = 6;
    const lens = [9, 4, 0, 1, 6];
    const rv = randArray((B + B * H) * D, 51);
    const masks = [0, 1, 2].map((i) => {
      const m = Float32Array.from(randInts(B * H, 2, 60 + i));
      lens.forEach((L, b) => m.fill(0, b * H + L, (b + 1) * H));
      if (i === 0) lens.forEach((L, b) => L && (m[b * H + L - 1] = 1)); // the last active slot is selected
      return q.tensor(m, [B, H]);
    });
    const c = q.tensor(randArray(B * 3 * D, 53), [B, 3 * D]);
    for (const activation of ['sigmoid', 'relu']) {
      const [fused, plain] = packedBothWays({ B, H, D, rv, masks, c, hidden: [19], seed: 6, activation });
      fused.forEach((a, i) => assertClose(a, plain[i], { rtol: 1e-4, atol: 1e-5, msg: `${activation} part ${i}` }));
      // The empty sample pools to zeros, and no padded slot (nor its query) gets a gradient.
      assert.ok(fused[0].subarray(2 * 3 * D, 3 * 3 * D).every((v) => v === 0));
      const drep = fused[1];
      assert.ok(drep.subarray(2 * D, 3 * D).every((v) => v === 0));
      lens.forEach((L, b) =>
        assert.ok(
          drep.subarray((B + b * H + L) * D, (B + (b + 1) * H) * D).every((v) => v === 0),
          `sample ${b}`,
        ),
      );
    }
    const att = new q.nn.TargetAttention(D, { hidden: [19], seed: 6 });
    gradCheck((r) => q.sum(q.mul(att.forwardPacked(r, B, H, masks), c)), [{ data: rv, shape: [B + B * H, D] }]);
  });

  it('forwardPackedStacked (masks stacked [B, M, H]) equals forwardPacked (M masks [B, H]), fused and composed, values and gradients', () => {
    const B = 7,
      H = 5,
      D = 3;
    const rv = randArray((B + B * H) * D, 81);
    const list = [0, 1, 2].map((i) => Float32Array.from(randInts(B * H, 2, 82 + i)));
    const stacked = new Float32Array(B * 3 * H);
    list.forEach((m, mi) => {
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) stacked[(b * 3 + mi) * H + h] = m[b * H + h];
    });
    const c = q.tensor(randArray(B * 3 * D, 83), [B, 3 * D]);
    for (const fused of [true, false]) {
      const run = (stack) => {
        const att = new q.nn.TargetAttention(D, { hidden: [11], seed: 9, fused });
        const rep = q.tensor(Float32Array.from(rv), [B + B * H, D]);
        rep.requiresGrad = true;
        const y = stack
          ? att.forwardPackedStacked(rep, B, H, q.tensor(Float32Array.from(stacked), [B, 3, H]))
          : att.forwardPacked(
              rep,
              B,
              H,
              list.map((m) => q.tensor(Float32Array.from(m), [B, H])),
            );
        q.sum(q.mul(y, c)).backward();
        return [y, rep.grad, ...att.parameters().map((t) => t.grad)].map((t) => t.toTypedArray());
      };
      const a = run(true),
        b = run(false);
      a.forEach((v, i) => assert.deepEqual(v, b[i], `fused=${fused} part ${i}`));
    }
    const att = new q.nn.TargetAttention(D, { hidden: [11], seed: 9 });
    assertThrowsTyped(() => att.forwardPackedStacked(q.tensor(rv, [B + B * H, D]), B, H, q.zeros([B, H])), q.ShapeError, 'masks');
  });

  it("fused packed attention: the backward from the forward's cache equals the recomputing backward bit for bit", () => {
    // Awkward sizes: hidden 19 and 7 (padded to 32 / 16 inside), K 5 and 17, padded histories, an empty sample.
    for (const [B, H, D, A] of [
      [5, 9, 6, 19],
      [3, 1, 17, 7],
      [17, 4, 5, 16],
    ]) {
      const rv = randArray((B + B * H) * D, 71 + B);
      const m = Float32Array.from(randInts(B * 3 * H, 2, 72 + A));
      m.fill(0, 0, 3 * H); // sample 0 has no active slot
      for (let b = 1; b < B; b++) m.fill(0, (b * 3 + 1) * H - Math.min(H - 1, b), (b * 3 + 1) * H); // trailing padding
      const masks = q.tensor(m, [B, 3, H]);
      for (const activation of ['sigmoid', 'relu']) {
        const att = new q.nn.TargetAttention(D, { hidden: [A], seed: 8, activation });
        const [l1, l2] = att.layers;
        const rep = q.tensor(Float32Array.from(rv), [B + B * H, D]);
        const dy = q.tensor(randArray(B * 3 * D, 73), [B, 3 * D]);
        const base = { B, H, activation, needRep: true };
        const ins = { rep, masks, W1: l1.weight, b1: l1.bias, w2: l2.weight, b2: l2.bias };
        const cache = {};
        const y = runKernel('dinAttentionPool', ins, { ...base, cache });
        const y0 = runKernel('dinAttentionPool', ins, base);
        assert.ok(cache.value instanceof Float32Array);
        assert.deepEqual(y.toTypedArray(), y0.toTypedArray());
        const kept = runKernel('dinAttentionPoolBackward', { ...ins, dpooled: dy }, { ...base, cache });
        const again = runKernel('dinAttentionPoolBackward', { ...ins, dpooled: dy }, base);
        kept.forEach((g, i) => assert.deepEqual(g.toTypedArray(), again[i].toTypedArray(), `B=${B} A=${A} ${activation} gradient ${i}`));
      }
    }
  });

  it('bceWithLogits is stable for extreme logits and its gradient matches finite differences', () => {
    const x = new Float32Array([-1000, -30, -1, 0, 0.5, 30, 1000]);
    const y = new Float32Array([0, 1, 1, 0, 1, 0, 1]);
    const l = q.nn.bceWithLogits(q.tensor(x), y, { reduction: 'none' }).toTypedArray();
    const ref = [...x].map((v, i) => (y[i] ? Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))));
    ref[0] = 0;
    ref[6] = 0; // log1p(e^-1000) underflows to 0 in the reference too
    assertClose(l, ref, { rtol: 1e-6, atol: 1e-6 });
    assert.ok(l.every(Number.isFinite));
    const xs = randArray(9, 4, 3),
      ys = Float32Array.from(randInts(9, 2, 5));
    gradCheck((t) => q.nn.bceWithLogits(t, ys), [{ data: xs, shape: [9] }], { eps: 1e-3 });
    gradCheck((t) => q.nn.bceWithLogits(t, ys, { reduction: 'sum' }), [{ data: xs, shape: [9] }], { eps: 1e-3 });
    assertThrowsTyped(() => q.nn.bceWithLogits(q.tensor(xs), new Float32Array(3)), q.ShapeError, 'labels');
  });

  it("bceWithLogits' divisor splits a mean into shares: the parts' gradients are the whole's, bit for bit", () => {
    const xs = randArray(9, 4, 3),
      ys = Float32Array.from(randInts(9, 2, 5));
    const grad = (x, y, opts) => {
      const t = q.tensor(Float32Array.from(x), [x.length]);
      t.requiresGrad = true;
      const l = q.nn.bceWithLogits(t, y, opts);
      l.backward();
      return { loss: l.item(), grad: t.grad.toTypedArray() };
    };
    const whole = grad(xs, ys);
    const a = grad(xs.subarray(0, 4), ys.subarray(0, 4), { divisor: 9 });
    const b = grad(xs.subarray(4), ys.subarray(4), { divisor: 9 });
    assert.deepEqual(Float32Array.from([...a.grad, ...b.grad]), whole.grad);
    assertClose([a.loss + b.loss], [whole.loss], { rtol: 1e-6 });
    assert.equal(grad(new Float32Array(0), new Float32Array(0), { divisor: 3 }).loss, 0); // an empty share
    for (const bad of [0, -1, NaN, Infinity]) assertThrowsTyped(() => q.nn.bceWithLogits(q.tensor(xs), ys, { divisor: bad }), q.ValueError, 'divisor');
  });
});

describe('row-sparse optimizers', () => {
  function setup(seed) {
    const rows = 50,
      dim = 7;
    const e = new q.nn.Embedding(rows, dim, { seed, initStd: 0.5 });
    const before = Float32Array.from(e.weight.toTypedArray());
    return { rows, dim, e, before };
  }
  function lossStep(e, ids, seed) {
    const y = e.forward(new Int32Array(ids));
    const w = q.tensor(randArray(ids.length * e.embeddingDim, seed), [ids.length, e.embeddingDim]);
    q.sum(q.mul(y, w)).backward();
    // Dense gradient of the same loss, for the reference.
    const g = new Float64Array(e.weight.size);
    const wa = w.toTypedArray();
    ids.forEach((r, i) => {
      for (let j = 0; j < e.embeddingDim; j++) g[r * e.embeddingDim + j] += wa[i * e.embeddingDim + j];
    });
    return g;
  }

  it('SparseAdam moves only the batch rows and matches a dense Adam reference on them', () => {
    for (const [wd, decoupled] of [
      [0, false],
      [0.1, false],
      [0.1, true],
    ]) {
      const { dim, e, before } = setup(1);
      const opt = new q.optim.SparseAdam(e.parameters(), { lr: 0.01, weightDecay: wd, decoupled });
      const ref = Float64Array.from(before),
        m = new Float64Array(before.length),
        v = new Float64Array(before.length);
      const batches = [
        [3, 3, 9, 40],
        [9, 11],
        [3, 49, 49],
      ];
      batches.forEach((ids, t) => {
        const g = lossStep(e, ids, 10 + t);
        opt.step();
        opt.zeroGrad();
        const bc1 = 1 - 0.9 ** (t + 1),
          bc2 = 1 - 0.999 ** (t + 1);
        for (const r of new Set(ids))
          for (let j = 0; j < dim; j++) {
            const k = r * dim + j;
            let gi = g[k];
            if (wd) {
              if (decoupled) ref[k] -= 0.01 * wd * ref[k];
              else gi += wd * ref[k];
            }
            m[k] = 0.9 * m[k] + 0.1 * gi;
            v[k] = 0.999 * v[k] + 0.001 * gi * gi;
            ref[k] -= ((0.01 / bc1) * m[k]) / (Math.sqrt(v[k] / bc2) + 1e-8);
          }
      });
      const w = e.weight.toTypedArray();
      assertClose(w, ref, { rtol: 1e-4, atol: 1e-5, msg: `wd ${wd} ${decoupled}` });
      const touched = new Set(batches.flat());
      for (let r = 0; r < 50; r++) if (!touched.has(r)) assert.deepEqual([...w.subarray(r * dim, r * dim + dim)], [...before.subarray(r * dim, r * dim + dim)]);
    }
  });

  it('RowWiseAdagrad keeps one accumulator per row and touches only the batch rows', () => {
    const { rows, dim, e, before } = setup(2);
    const opt = new q.optim.RowWiseAdagrad(e.parameters(), { lr: 0.1, weightDecay: 0.01 });
    const ref = Float64Array.from(before),
      acc = new Float64Array(rows);
    const batches = [[1, 1, 2], [2, 30], [1]];
    batches.forEach((ids, t) => {
      const g = lossStep(e, ids, 20 + t);
      opt.step();
      opt.zeroGrad();
      for (const r of new Set(ids)) {
        const gr = [];
        for (let j = 0; j < dim; j++) gr.push(g[r * dim + j] + 0.01 * ref[r * dim + j]);
        acc[r] += gr.reduce((s, x) => s + x * x, 0) / dim;
        for (let j = 0; j < dim; j++) ref[r * dim + j] -= (0.1 * gr[j]) / (Math.sqrt(acc[r]) + 1e-8);
      }
    });
    assert.deepEqual(opt.accumulator(e.weight).shape, [rows]);
    assertClose(opt.accumulator(e.weight).toTypedArray(), acc, { rtol: 1e-5 });
    assertClose(e.weight.toTypedArray(), ref, { rtol: 1e-4, atol: 1e-5 });
    const w = e.weight.toTypedArray();
    for (const r of [0, 3, 29, 49]) assert.deepEqual([...w.subarray(r * dim, r * dim + dim)], [...before.subarray(r * dim, r * dim + dim)]);
  });

  it('clipGradNorm sees duplicate rows summed', () => {
    const e = new q.nn.Embedding(4, 2);
    const a = e.forward(new Int32Array([1]));
    const b = e.forward(new Int32Array([1]));
    q.add(q.sum(a), q.sum(b)).backward(); // two uncoalesced parts of row 1: gradient [2, 2]
    const n = q.optim.clipGradNorm(e.parameters(), 1);
    assertClose([n], [Math.sqrt(8)]);
    assertClose(e.weight.grad.toDense().toTypedArray().subarray(2, 4), [1 / Math.sqrt(2), 1 / Math.sqrt(2)], { rtol: 1e-5 });
  });
});
