// Dataset folder loader: the happy path and every validation error, on small fixtures
// written to a temp folder by the test itself.
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { q, assert } from './helpers.js';

const ITEMS = 'item,text,price\nA,"red mug, large",1.5\nB,blue mug,2\nC,green plate,3\n';
const INTER = 'user,item,timestamp,basket\nu1,A,2011-01-01T10:00:00Z,b1\nu1,B,2011-01-01T10:00:00Z,b1\nu2,C,1293876000,\nu2,A,2011-01-01 09:00,b2\n';

let root;
let n = 0;
function folder(files) {
  const d = join(root, `ds${n++}`);
  mkdirSync(d);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}
async function rejects(dir, Cls, text) {
  await assert.rejects(q.loadDataset(dir), (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, text);
    return true;
  });
}
function npy(rows, cols, fill) {
  const t = q.tensor(
    Float32Array.from({ length: rows * cols }, (_, i) => fill(i)),
    [rows, cols],
  );
  const p = join(root, `tmp${n++}.npy`);
  q.writeNpy(p, t);
  return p;
}

describe('data: dataset folders', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'qarm-ds-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads items, interactions (sorted by time, user, item), baskets and extra columns', async () => {
    const ds = await q.loadDataset(folder({ 'items.csv': ITEMS, 'interactions.csv': INTER }));
    assert.deepEqual(
      ds.items.map((i) => i.id),
      ['A', 'B', 'C'],
    );
    assert.equal(ds.items[0].text, 'red mug, large');
    assert.deepEqual(ds.items[1].extra, { price: '2' });
    assert.equal(ds.itemIndex.get('C'), 2);
    assert.deepEqual(ds.users, ['u1', 'u2']);
    const t0 = Date.UTC(2011, 0, 1, 9) / 1000;
    assert.deepEqual(
      ds.interactions.map((x) => [x.user, x.item, x.time - t0, x.basket]),
      [
        [1, 0, 0, ds.baskets.indexOf('b2')],
        [0, 0, 3600, 0],
        [0, 1, 3600, 0],
        [1, 2, 1293876000 - t0, -1],
      ],
    );
  });

  it('reads .csv.gz files and .npy embeddings whose rows follow items.csv', async () => {
    const fs = await import('node:fs');
    const src = npy(3, 4, (i) => i / 10);
    const d = folder({ 'items.csv.gz': gzipSync(ITEMS), 'interactions.csv.gz': gzipSync(INTER) });
    fs.copyFileSync(src, join(d, 'image.npy'));
    const ds = await q.loadDataset(d);
    assert.equal(ds.interactions.length, 4);
    assert.deepEqual(ds.embeddings.image.shape, [3, 4]);
    assert.ok(Math.abs(ds.embeddings.image.toTypedArray()[5] - 0.5) < 1e-7);
  });

  it('parses Unix seconds and ISO-8601 timestamps and rejects bad ones', () => {
    assert.equal(q.parseTimestamp('1291191960'), 1291191960);
    assert.equal(q.parseTimestamp('2010-12-01T08:26:00Z'), Date.UTC(2010, 11, 1, 8, 26) / 1000);
    assert.equal(q.parseTimestamp('2010-12-01T09:26:00+01:00'), Date.UTC(2010, 11, 1, 8, 26) / 1000);
    assert.equal(q.parseTimestamp('2010-12-01'), Date.UTC(2010, 11, 1) / 1000);
    for (const bad of ['', 'yesterday', '2011-02-30', '2011-13-01T00:00Z', '12/01/2010']) {
      assert.ok(Number.isNaN(q.parseTimestamp(bad)), bad);
    }
  });

  it('missing file -> IOError naming it', async () => {
    await rejects(folder({ 'items.csv': ITEMS }), q.IOError, /missing interactions\.csv/);
    await rejects(folder({ 'interactions.csv': INTER }), q.IOError, /missing items\.csv/);
    await rejects(join(root, 'nope'), q.IOError, /no such dataset folder/);
  });

  it('missing column -> IOError with file:1', async () => {
    await rejects(folder({ 'items.csv': 'item,name\nA,x\n', 'interactions.csv': INTER }), q.IOError, /items\.csv:1: missing column 'text'/);
    await rejects(folder({ 'items.csv': ITEMS, 'interactions.csv': 'user,item,time\nu,A,1\n' }), q.IOError, /interactions\.csv:1: missing column 'timestamp'/);
  });

  it('unknown item -> ValueError with file:line', async () => {
    await rejects(
      folder({ 'items.csv': ITEMS, 'interactions.csv': 'user,item,timestamp\nu,A,1\nu,Z,2\n' }),
      q.ValueError,
      /interactions\.csv:3: unknown item 'Z'/,
    );
  });

  it('bad timestamp -> ValueError with file:line', async () => {
    await rejects(
      folder({ 'items.csv': ITEMS, 'interactions.csv': 'user,item,timestamp\nu,A,1\nu,B,1\nu,C,soon\n' }),
      q.ValueError,
      /interactions\.csv:4: bad timestamp 'soon'/,
    );
  });

  it('malformed CSV, duplicate item and empty user are reported with their line', async () => {
    await rejects(folder({ 'items.csv': 'item,text\nA,x\nB,"unclosed\n', 'interactions.csv': INTER }), q.IOError, /items\.csv.*malformed CSV/);
    await rejects(folder({ 'items.csv': 'item,text\nA,x\nB,y,z\n', 'interactions.csv': INTER }), q.IOError, /items\.csv:3: malformed CSV/);
    await rejects(folder({ 'items.csv': 'item,text\nA,x\nA,y\n', 'interactions.csv': INTER }), q.ValueError, /items\.csv:3: duplicate item 'A'/);
    await rejects(folder({ 'items.csv': ITEMS, 'interactions.csv': 'user,item,timestamp\n,A,1\n' }), q.ValueError, /interactions\.csv:2: empty user/);
  });

  it('embedding row count mismatch and NaN -> ValueError naming the file and row', async () => {
    const fs = await import('node:fs');
    const d1 = folder({ 'items.csv': ITEMS, 'interactions.csv': INTER });
    fs.copyFileSync(
      npy(2, 4, () => 1),
      join(d1, 'image.npy'),
    );
    await rejects(d1, q.ValueError, /image\.npy: has 2 rows but items\.csv has 3 items/);
    const d2 = folder({ 'items.csv': ITEMS, 'interactions.csv': INTER });
    fs.copyFileSync(
      npy(3, 4, (i) => (i === 9 ? NaN : 1)),
      join(d2, 'video.npy'),
    );
    await rejects(d2, q.ValueError, /video\.npy: row 2 .*column 1 is NaN/);
    const d3 = folder({ 'items.csv': ITEMS, 'interactions.csv': INTER, 'audio.npy': 'not numpy' });
    await rejects(d3, q.IOError, /audio\.npy/);
  });
});

describe('data: bundled Online Retail dataset', () => {
  it('loads from the package with the documented counts after cleaning', async () => {
    const ds = await q.loadDataset(q.bundledDatasetDir());
    assert.equal(ds.name, 'online-retail');
    assert.equal(ds.interactions.length, 386354);
    assert.equal(ds.users.length, 4335);
    assert.equal(ds.items.length, 3659);
    assert.equal(ds.baskets.length, 18405);
    for (let i = 1; i < ds.interactions.length; i++) assert.ok(ds.interactions[i].time >= ds.interactions[i - 1].time);
    assert.ok(ds.items.every((it) => /^\d{5}[A-Za-z]{0,2}$/.test(it.id)));
  });
});
