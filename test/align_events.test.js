// align() with explicit training / validation events (the per-user split of `qarm run`): the same
// result as the time cut when the events are the same, pairs mined from exactly the given
// events otherwise, and typed errors for inconsistent options.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert } from './helpers.js';
import { align, eventsBetween, minePairs } from '../dist/align/index.js';

describe('align: explicit training and validation events', function () {
  this.timeout(120000);
  let dir, ds;
  const T1 = 1000000 + 3 * 100000,
    T2 = 1000000 + 5 * 100000;
  const opts = {
    epochs: 2,
    batchSize: 32,
    ensemble: 1,
    hidden: [16],
    encoders: { cacheDir: false, modalities: ['chargram'], lexicalDims: 8 },
    mining: { miners: ['cooccurrence'] },
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qarm-align-ev-'));
    const colours = ['red', 'blue', 'green', 'pink', 'white'];
    const things = ['mug', 'plate', 'bag'];
    const items = ['item,text'];
    colours.forEach((c) => things.forEach((t) => items.push(`${c}-${t},${c} ${t}`)));
    const g = new q.Generator(4);
    const inter = ['user,item,timestamp,basket'];
    for (let u = 0; u < 17; u++) {
      for (let b = 0; b < 7; b++) {
        const t = 1000000 + b * 100000 + (b === 2 ? 0 : u); // basket 2 of every user at one instant: ties
        const thing = things[g.int(things.length)];
        for (const c of [colours[g.int(5)], colours[g.int(5)], colours[g.int(5)]]) inter.push(`u${u},${c}-${thing},${t},o${u}-${b}`);
      }
    }
    writeFileSync(join(dir, 'items.csv'), items.join('\n') + '\n');
    writeFileSync(join(dir, 'interactions.csv'), inter.join('\n') + '\n');
    ds = await q.loadDataset(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('equals the time cut when given the same events (pairs, validation pairs, embeddings)', async () => {
    const byTime = await align(ds, { ...opts, trainUntil: T1, validUntil: T2 });
    const byEvents = await align(ds, {
      ...opts,
      trainEvents: eventsBetween(ds.interactions, -Infinity, T1),
      validationEvents: eventsBetween(ds.interactions, T1, T2),
    });
    assert.deepEqual(byEvents.pairs, byTime.pairs);
    assert.deepEqual(byEvents.validation, byTime.validation);
    assert.deepEqual(byEvents.pairCounts, byTime.pairCounts);
    assert.deepEqual(Array.from(byEvents.embeddings.f32()), Array.from(byTime.embeddings.f32()));
    assert.deepEqual(byTime.split, { trainUntil: T1, validUntil: T2 });
    assert.equal(byEvents.split, undefined);
  });

  it('mines from exactly the given events (not a time range)', async () => {
    // Per user: the first 4 baskets train, the 5th validates, whatever their times.
    const byUser = new Map();
    for (const e of ds.interactions) (byUser.get(e.user) ?? byUser.set(e.user, []).get(e.user)).push(e);
    const train = [],
      valid = [];
    for (const [u, evs] of byUser) {
      const times = [...new Set(evs.map((e) => e.time))].sort((a, b) => a - b);
      for (const e of evs) {
        const k = times.indexOf(e.time);
        if (k < 4 - (u % 2)) train.push(e);
        else if (k < 5) valid.push(e);
      }
    }
    const out = await align(ds, { ...opts, epochs: 1, trainEvents: train, validationEvents: valid });
    assert.deepEqual(out.pairs, minePairs(train, ds.items.length, opts.mining).pairs);
    assert.equal(out.pairCounts.validation, minePairs(valid, ds.items.length, opts.mining).pairs.a.length);
    const none = await align(ds, { ...opts, epochs: 1, trainEvents: train, validationEvents: [] });
    assert.equal(none.validation, null);
  });

  it('rejects inconsistent options with typed errors naming the argument', async () => {
    const train = eventsBetween(ds.interactions, -Infinity, T1);
    await assert.rejects(align(ds, { ...opts, trainEvents: train }), (e) => e instanceof q.ValueError && e.argument === 'validationEvents');
    await assert.rejects(align(ds, { ...opts, validationEvents: train }), (e) => e instanceof q.ValueError && e.argument === 'trainEvents');
    await assert.rejects(
      align(ds, { ...opts, trainEvents: train, validationEvents: [], trainUntil: T1 }),
      (e) => e instanceof q.ValueError && e.argument === 'trainUntil',
    );
    await assert.rejects(align(ds, { ...opts, trainEvents: [], validationEvents: [] }), (e) => e instanceof q.ValueError && e.argument === 'trainEvents');
    const bad = [{ ...train[0], item: 99 }];
    await assert.rejects(align(ds, { ...opts, trainEvents: bad, validationEvents: [] }), (e) => e instanceof q.IndexError && e.argument === 'trainEvents');
  });
});
