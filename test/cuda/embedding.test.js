// Embedding-table kernels on CUDA against the CPU: row-sparse gradients (coalesce, padded
// lookups), bags, the sparse optimizers, attention pooling.
import { requireGpu, pair, same, host, q, assert, randArray, randInts } from './gpu.js';

describe('CUDA embedding kernels match the CPU', () => {
  requireGpu();

  it('RowSparseGrad.coalesce: unique ascending rows, sums bit-identical', () => {
    for (const [rows, dim, n] of [
      [1, 1, 3],
      [17, 3, 255],
      [5000, 33, 40000],
      [100000, 8, 1000],
    ]) {
      const idx = randInts(n, rows, n);
      const src = randArray(n * dim, 2);
      const c = new q.RowSparseGrad(q.tensor(idx), q.tensor(src, [n, dim]), [rows, dim]).coalesce();
      const g = new q.RowSparseGrad(q.tensor(idx).to('cuda'), q.tensor(src, [n, dim]).to('cuda'), [rows, dim]).coalesce();
      same(g.indices, c.indices, { rtol: 0, atol: 0 });
      same(g.values, c.values, { rtol: 0, atol: 0, msg: `coalesce ${rows}x${dim} n=${n}` });
    }
  });

  it('embeddingLookup (padded and not): forward and row-sparse backward', () => {
    const rows = 300,
      dim = 16,
      n = 2000;
    const [ct, gt] = pair(randArray(rows * dim, 3), [rows, dim]);
    const idx = randInts(n, rows, 4);
    for (let i = 0; i < n; i += 7) idx[i] = -1;
    const [ci, gi] = pair(idx, [n], 'int32');
    const [cw, gw] = pair(randArray(n * dim, 5), [n, dim]);
    for (const t of [ct, gt]) t.requiresGrad = true;
    const yc = q.embeddingLookup(ct, ci, { padNegative: true });
    const yg = q.embeddingLookup(gt, gi, { padNegative: true });
    same(yg, yc, { rtol: 0, atol: 0 });
    q.sum(q.mul(yc, cw)).backward();
    q.sum(q.mul(yg, gw)).backward();
    same(gt.grad.indices, ct.grad.indices, { rtol: 0, atol: 0 });
    same(gt.grad.values, ct.grad.values, { rtol: 1e-6, atol: 1e-6 });
    assert.throws(
      () => q.embeddingLookup(gt, gi),
      (e) => e instanceof q.IndexError && e.argument === 'indices',
    );
  });

  it('embeddingBag sum/mean/weighted: forward and backward; bad offsets are ValueErrors', () => {
    const rows = 50,
      dim = 12;
    const offsets = new Int32Array([0, 3, 3, 10, 11, 40]);
    const nv = 40;
    const [ct, gt] = pair(randArray(rows * dim, 6), [rows, dim]);
    const [cv, gv] = pair(randInts(nv, rows, 7), [nv], 'int32');
    const [co, go] = pair(offsets, [6], 'int32');
    const [cw, gw] = pair(randArray(nv, 8), [nv]);
    const [cdy, gdy] = pair(randArray(5 * dim, 9), [5, dim]);
    for (const opts of [{ mode: 'sum' }, { mode: 'mean' }, { mode: 'sum', weights: 'w' }]) {
      const o = (w) => (opts.weights ? { mode: 'sum', weights: w } : { mode: opts.mode });
      const tc = q.tensor(host(ct), [rows, dim]);
      tc.requiresGrad = true;
      const tg = tc.to('cuda');
      tg.requiresGrad = true;
      const yc = q.embeddingBag(tc, cv, co, o(cw));
      const yg = q.embeddingBag(tg, gv, go, o(gw));
      same(yg, yc, { rtol: 1e-6, atol: 1e-6, msg: JSON.stringify(opts) });
      q.sum(q.mul(yc, cdy)).backward();
      q.sum(q.mul(yg, gdy)).backward();
      same(tg.grad.indices, tc.grad.indices, { rtol: 0, atol: 0 });
      same(tg.grad.values, tc.grad.values, { rtol: 1e-6, atol: 1e-6 });
    }
    const bad = q.tensor(new Int32Array([0, 5, 3, 10, 11, 40]), [6], 'int32').to('cuda');
    assert.throws(
      () => q.embeddingBag(gt, gv, bad),
      (e) => e instanceof q.ValueError && e.argument === 'offsets',
    );
  });

  it('SparseAdam and RowWiseAdagrad steps match the CPU', () => {
    const rows = 400,
      dim = 24,
      n = 3000;
    const idx = randInts(n, rows, 10);
    const src = randArray(n * dim, 11);
    for (const Opt of [q.optim.SparseAdam, q.optim.RowWiseAdagrad]) {
      const run = (device) => {
        const table = q.tensor(randArray(rows * dim, 12), [rows, dim]).to(device);
        table.requiresGrad = true;
        const opt = new Opt([table], { lr: 0.05, weightDecay: 0.01 });
        const ids = q.tensor(idx).to(device);
        const w = q.tensor(src, [n, dim]).to(device);
        for (let s = 0; s < 3; s++) {
          q.tidy(() => {
            opt.zeroGrad();
            q.sum(q.mul(q.embeddingLookup(table, ids), w)).backward();
            opt.step();
          });
        }
        return host(table);
      };
      const c = run('cpu');
      const g = run('cuda');
      let maxDiff = 0;
      for (let i = 0; i < c.length; i++) maxDiff = Math.max(maxDiff, Math.abs(c[i] - g[i]));
      assert.ok(maxDiff <= 1e-5, `${Opt.name}: max |cpu - cuda| = ${maxDiff}`);
    }
    // Not coalesced -> ValueError; out of range -> IndexError (as on the CPU).
    const p = q.zeros([4, 2]).to('cuda');
    const m = q.zeros([4, 2]).to('cuda'),
      v = q.zeros([4, 2]).to('cuda');
    const g = q.ones([2, 2]).to('cuda');
    const attrs = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, decoupled: false, step: 1 };
    assert.throws(
      () => q.runKernel('sparseAdamUpdate', { param: p, m, v, indices: q.tensor(new Int32Array([2, 1])).to('cuda'), grad: g }, attrs),
      (e) => e instanceof q.ValueError && /strictly ascending/.test(e.message),
    );
    assert.throws(
      () => q.runKernel('sparseAdamUpdate', { param: p, m, v, indices: q.tensor(new Int32Array([1, 4])).to('cuda'), grad: g }, attrs),
      (e) => e instanceof q.IndexError,
    );
    assert.deepEqual([...host(p)], new Array(8).fill(0));
  });

  it('weightedPool forward and backward', () => {
    const [B, M, H, D] = [7, 3, 17, 5];
    const wc = q.tensor(randArray(B * M * H, 13), [B, M, H]);
    const kc = q.tensor(randArray(B * H * D, 14), [B, H, D]);
    wc.requiresGrad = kc.requiresGrad = true;
    const wg = wc.to('cuda'),
      kg = kc.to('cuda');
    wg.requiresGrad = kg.requiresGrad = true;
    const [cdy, gdy] = pair(randArray(B * M * D, 15), [B, M, D]);
    const yc = q.weightedPool(wc, kc),
      yg = q.weightedPool(wg, kg);
    same(yg, yc, { rtol: 1e-5, atol: 1e-6 });
    q.sum(q.mul(yc, cdy)).backward();
    q.sum(q.mul(yg, gdy)).backward();
    same(wg.grad, wc.grad, { rtol: 1e-5, atol: 1e-6 });
    same(kg.grad, kc.grad, { rtol: 1e-5, atol: 1e-6 });
  });

  it('dinScores (composed on CUDA) matches the fused CPU kernel, forward and backward', () => {
    const [B, H, K, A] = [9, 13, 6, 10];
    for (const activation of ['sigmoid', 'relu']) {
      const mk = (n, seed, shape) => {
        const c = q.tensor(randArray(n, seed, 0.5), shape);
        c.requiresGrad = true;
        const g = c.to('cuda');
        g.requiresGrad = true;
        return [c, g];
      };
      const args = [mk(B * K, 1, [B, K]), mk(B * H * K, 2, [B, H, K]), mk(A * 4 * K, 3, [A, 4 * K]), mk(A, 4, [A]), mk(A, 5, [1, A]), mk(1, 6, [1])];
      const [cdy, gdy] = pair(randArray(B * H, 7), [B, H]);
      const sc = q.dinScores(...args.map((a) => a[0]), activation);
      const sg = q.dinScores(...args.map((a) => a[1]), activation);
      same(sg, sc, { rtol: 1e-5, atol: 1e-5, msg: activation });
      q.sum(q.mul(sc, cdy)).backward();
      q.sum(q.mul(sg, gdy)).backward();
      args.forEach(([c, g], i) => same(g.grad, c.grad, { rtol: 1e-4, atol: 1e-5, msg: `${activation} grad ${i}` }));
    }
  });

  it('embeddingLookupMulti (table-batched lookup, grouped, padded) and its row-sparse gradients', () => {
    const n = 300,
      d = 8;
    const shapes = [50, 70, 9];
    const group = [0, 1, 0];
    const ids = shapes.map((r, i) => {
      const a = randInts(n, r, 50 + i);
      for (let j = i; j < n; j += 11) a[j] = -1;
      return a;
    });
    const mk = (device) =>
      shapes.map((r, i) => {
        const t = q.tensor(randArray(r * d, 60 + i), [r, d]).to(device);
        t.requiresGrad = true;
        return t;
      });
    const tc = mk('cpu'),
      tg = mk('cuda');
    const yc = q.embeddingLookupMulti(tc, ids, group),
      yg = q.embeddingLookupMulti(tg, ids, group);
    same(yg, yc, { rtol: 0, atol: 0 });
    const [cw, gw] = pair(randArray(n * 2 * d, 70), [n, 2 * d]);
    q.sum(q.mul(yc, cw)).backward();
    q.sum(q.mul(yg, gw)).backward();
    tc.forEach((c, i) => {
      same(tg[i].grad.indices, c.grad.indices, { rtol: 0, atol: 0 });
      same(tg[i].grad.values, c.grad.values, { rtol: 1e-6, atol: 1e-6 });
    });
    const bad = ids.map((a) => a.slice());
    bad[1][3] = 70;
    assert.throws(
      () => q.embeddingLookupMulti(tg, bad, group),
      (e) => e instanceof q.IndexError && e.argument === 'ids[1]',
    );
  });

  it('dinAttentionPool (packed target attention) forward and backward', () => {
    const [B, H, K, A, M] = [6, 7, 5, 9, 2];
    for (const activation of ['sigmoid', 'relu']) {
      const mk = (n, seed, shape) => {
        const c = q.tensor(randArray(n, seed, 0.5), shape);
        c.requiresGrad = true;
        const g = c.to('cuda');
        g.requiresGrad = true;
        return [c, g];
      };
      const rep = mk((B + B * H) * K, 1, [B + B * H, K]);
      const W = [mk(A * 4 * K, 2, [A, 4 * K]), mk(A, 3, [A]), mk(A, 4, [1, A]), mk(1, 5, [1])];
      const maskData = Float32Array.from(randInts(B * M * H, 2, 6));
      const [cm, gm] = pair(maskData, [B, M, H]);
      const yc = q.dinAttentionPool(rep[0], B, H, cm, ...W.map((w) => w[0]), activation);
      const yg = q.dinAttentionPool(rep[1], B, H, gm, ...W.map((w) => w[1]), activation);
      same(yg, yc, { rtol: 1e-5, atol: 1e-5, msg: activation });
      const [cdy, gdy] = pair(randArray(B * M * K, 7), [B, M * K]);
      q.sum(q.mul(yc, cdy)).backward();
      q.sum(q.mul(yg, gdy)).backward();
      [rep, ...W].forEach(([c, g], i) => same(g.grad, c.grad, { rtol: 1e-4, atol: 1e-5, msg: `${activation} grad ${i}` }));
    }
  });
});
