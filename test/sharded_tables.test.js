// The row-wise sharded tables' step in one process (lib/rank/sharded_tables.ts), with a one-rank
// stand-in communicator: one rank owns every row, so the working tables, row views, gradient
// mapping, clipping and chunked prediction must give the whole tables' numbers bit for bit. Runs
// without MPI; test/dist_shard_mpi.test.js covers 2 and 3 real ranks.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { backward } from '../dist/autograd/engine.js';
import { clipGradNorm } from '../dist/nn/optim/clip.js';
import { RowSharding } from '../dist/rank/sharded_tables.js';
import { tidy } from '../dist/tensor/memory.js';
import { CASES, flatParams, shardData } from './support/dist_shard_data.js';

const ONE = { rank: 0, worldSize: 1, allGather: (x) => [x], allReduce: (x) => x, broadcast: (x) => x };

/** Coalesced host rows of a gradient (dense: null). */
function rows(g) {
  if (!g) return null;
  const c = g.coalesce();
  return { indices: Array.from(c.indices.toTypedArray()), values: Array.from(c.values.toTypedArray()) };
}

/** The batch every test steps on: 64 samples, with some target and history ids dropped to the OOV row. */
function batchOf(data) {
  const batch = q.rank.sliceSamples(data.train, 0, 64);
  const dropTargetIds = Uint8Array.from({ length: 64 }, (_, i) => (i % 7 === 0 ? 1 : 0));
  const dropHistoryIds = Uint8Array.from({ length: 64 * batch.maxHistory }, (_, i) => (i % 11 === 0 ? 1 : 0));
  return { batch, drops: { dropTargetIds, dropHistoryIds } };
}

const step = (ranker, batch, drops) =>
  tidy(() => {
    backward(q.nn.bceWithLogits(ranker.forward(batch, drops), batch.label));
  });

describe('row-wise sharded tables, one process (stand-in communicator of one rank)', () => {
  const data = shardData(q);
  for (const c of [CASES[0], CASES[2]]) {
    for (const clip of [undefined, 0.01]) {
      it(`${c.name}: a step through working tables gives the whole tables' gradients bit for bit${clip ? ', clipped' : ''}`, () => {
        const { batch, drops } = batchOf(data);
        const a = new q.rank.Ranker(c.ranker, data[c.items]);
        step(a, batch, drops);
        if (clip) clipGradNorm(a.parameters(), clip);
        const b = new q.rank.Ranker(c.ranker, data[c.items]);
        const sh = new RowSharding(ONE, b);
        sh.shard();
        const read = sh.rowsRead(b, batch, drops);
        sh.release();
        sh.lookup(b, batch, drops, true);
        step(b, batch, drops);
        sh.syncGradients(b.parameterGroups().dense, 0, b.parameters(), clip);
        sh.release();
        const [pa, pb] = [a.parameters(), b.parameters()];
        const tables = new Set(b.parameterGroups().sparse);
        pa.forEach((p, i) => {
          if (tables.has(pb[i])) {
            const [ga, gb] = [rows(p.grad), rows(pb[i].grad)];
            assert.deepEqual(gb, ga, `table ${i}: gradient rows`);
            // The rows the lookups were found to read are the rows that got a gradient.
            assert.deepEqual(Array.from(read[b.parameterGroups().sparse.indexOf(pb[i])]), ga.indices, `table ${i}: rows read`);
          } else {
            assert.deepEqual(pb[i].grad && Array.from(pb[i].grad.toTypedArray()), p.grad && Array.from(p.grad.toTypedArray()), `dense ${i}`);
          }
        });
        sh.unshard();
        assert.deepEqual(flatParams(b), flatParams(a));
        assert.deepEqual(
          b.embeddingTables().map((t) => t.weight.shape),
          a.embeddingTables().map((t) => t.weight.shape),
        );
      });
    }

    it(`${c.name}: prediction through fetched rows equals Ranker.predict bit for bit, chunk by chunk`, () => {
      const a = new q.rank.Ranker(c.ranker, data[c.items]);
      const b = new q.rank.Ranker(c.ranker, data[c.items]);
      const sh = new RowSharding(ONE, b);
      sh.shard();
      assert.deepEqual(sh.predict(b, data.valid, 100), a.predict(data.valid, 100));
      assert.deepEqual(sh.predict(b, q.rank.sliceSamples(data.valid, 0, 0)), new Float32Array(0));
      sh.unshard();
    });
  }

  it("an id outside a table throws the lookup's IndexError, and the next batch's rows are not polluted", () => {
    const cfg = { ...CASES[0].ranker, oov: false };
    const b = new q.rank.Ranker(cfg, data.items);
    const sh = new RowSharding(ONE, b);
    sh.shard();
    const { batch } = batchOf(data);
    const good = sh.rowsRead(b, batch, {});
    sh.release();
    // Other samples, whose item and code rows the lookups record before the user table throws.
    const other = q.rank.sliceSamples(data.train, 300, 364);
    const bad = { ...other, user: Int32Array.from(other.user, (u, i) => (i === 5 ? cfg.numUsers + 3 : u)) };
    assert.throws(
      () => sh.rowsRead(b, bad, {}),
      (e) => e instanceof q.IndexError,
    );
    assert.deepEqual(sh.rowsRead(b, batch, {}), good);
    sh.release();
    sh.unshard();
  });
});

describe('tables built sharded (Embedding rows, Ranker tableShard), one process', () => {
  const data = shardData(q);

  it("an Embedding's rows [s, e) are the whole table's bit for bit, the generator ends where it would, and its lookups refuse", () => {
    for (const oov of [false, true]) {
      const gw = new q.Generator(9);
      const whole = new q.nn.Embedding(13, 5, { oov, generator: gw, initStd: 0.3 });
      const total = 13 + (oov ? 1 : 0);
      for (const [s, e] of [
        [0, total],
        [0, 0],
        [3, 7],
        [total - 1, total],
      ]) {
        const g = new q.Generator(9);
        const part = new q.nn.Embedding(13, 5, { oov, generator: g, initStd: 0.3, rows: [s, e] });
        assert.deepEqual(part.weight.shape, [e - s, 5]);
        assert.deepEqual(part.weight.toTypedArray(), whole.weight.toTypedArray().slice(s * 5, e * 5), `rows [${s}, ${e})`);
        assert.equal(g.normal(), nextAfterWhole(oov), `rows [${s}, ${e}): the generator's next normal`);
        if (s !== 0 || e !== total) {
          assert.throws(
            () => part.forward(Int32Array.of(0)),
            (err) => err instanceof q.ValueError && err.argument === 'rows',
          );
        }
        part.dispose();
      }
      whole.dispose();
    }
    function nextAfterWhole(oov) {
      const g = new q.Generator(9);
      new q.nn.Embedding(13, 5, { oov, generator: g, initStd: 0.3 }).dispose();
      return g.normal();
    }
  });

  it('bad rows, or a bad tableShard, are ValueErrors naming them', () => {
    for (const rows of [
      [-1, 2],
      [3, 2],
      [0, 15],
      [0.5, 2],
    ]) {
      assert.throws(
        () => new q.nn.Embedding(13, 5, { oov: true, rows }),
        (e) => e instanceof q.ValueError && e.argument === 'rows',
      );
    }
    for (const tableShard of [
      { rank: 2, worldSize: 2 },
      { rank: -1, worldSize: 2 },
      { rank: 0, worldSize: 0 },
      { rank: 0.5, worldSize: 2 },
    ]) {
      assert.throws(
        () => new q.rank.Ranker(CASES[0].ranker, data.items, { tableShard }),
        (e) => e instanceof q.ValueError && e.argument === 'tableShard',
      );
    }
  });

  it('a ranker built as rank 0 of 1 is the whole ranker bit for bit and trains as one; of 2 it refuses to train without that dist', async () => {
    const c = CASES[0];
    const opts = { ...c.opts, epochs: 1 };
    const a = new q.rank.Ranker(c.ranker, data.items);
    const b = new q.rank.Ranker(c.ranker, data.items, { tableShard: { rank: 0, worldSize: 1 } });
    assert.deepEqual(flatParams(b), flatParams(a));
    await q.rank.trainRanker(a, data.train, data.valid, opts);
    await q.rank.trainRanker(b, data.train, data.valid, { ...opts, dist: q.dist, tableSharding: 'row' });
    assert.deepEqual(flatParams(b), flatParams(a));
    const half = new q.rank.Ranker(c.ranker, data.items, { tableShard: { rank: 0, worldSize: 2 } });
    await assert.rejects(
      () => q.rank.trainRanker(half, data.train, data.valid, opts),
      (e) => e instanceof q.ValueError && e.argument === 'tableSharding',
    );
    assert.throws(
      () => q.rank.evaluate(half, data.valid),
      (e) => e instanceof q.ValueError && e.argument === 'dist',
    );
  });

  it('an unknown checkpointSharding is a ValueError naming the option', async () => {
    await assert.rejects(
      () => q.rank.trainRanker(new q.rank.Ranker(CASES[0].ranker, data.items), data.train, data.valid, { epochs: 1, checkpointSharding: 'ranks' }),
      (e) => e instanceof q.ValueError && e.argument === 'checkpointSharding',
    );
  });
});
