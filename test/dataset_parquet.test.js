// Dataset folders in Parquet (interactions.parquet / items.parquet, read by row group) and
// embeddings in row shards (<modality>-00000.npy, ...): the same data as CSV / one .npy must
// load to the same Dataset, and every bad file is a typed error naming the file and column.
// Parquet fixtures are written here with the devDependency hyparquet-writer.
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { q, assert, randArray } from './helpers.js';
import { openParquet, readRowGroups } from '../dist/data/parquet.js';

let writer = null;
try {
  writer = await import('hyparquet-writer');
} catch {
  /* reported by the skipping tests */
}
let convert = null;
try {
  convert = await import('../scripts/dataset-to-parquet.mjs');
} catch {
  /* needs hyparquet-writer too */
}

const ITEMS = 'item,text,price\nA,"red mug, large",1.5\nB,blue mug,2\nC,green plate,3\n';
const INTER = 'user,item,timestamp,basket\nu1,A,2011-01-01T10:00:00Z,b1\nu1,B,2011-01-01T10:00:00Z,b1\nu2,C,1293876000,\nu2,A,2011-01-01 09:00,b2\n';
const iso = (s) => new Date(s);

let root;
let n = 0;
function folder(files) {
  const d = join(root, `ds${n++}`);
  mkdirSync(d);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(d, name), Array.isArray(content) ? new Uint8Array(writer.parquetWriteBuffer({ columnData: content, rowGroupSize: 2 })) : content);
  }
  return d;
}
/** Everything but where it was loaded from. */
function content(ds) {
  const { name, dir, embeddings, ...rest } = ds;
  return { ...rest, embeddings: Object.fromEntries(Object.entries(embeddings).map(([k, t]) => [k, [t.shape, Array.from(t.f32())]])) };
}
async function rejects(dir, Cls, text) {
  await assert.rejects(q.loadDataset(dir), (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, text);
    return true;
  });
}
const S = (name, data) => ({ name, data, type: 'STRING' });
const ITEM_COLS = () => [
  S('item', ['A', 'B', 'C']),
  S('text', ['red mug, large', 'blue mug', 'green plate']),
  { name: 'price', data: [1.5, 2, 3], type: 'DOUBLE' },
];
const INTER_COLS = () => [
  S('user', ['u1', 'u1', 'u2', 'u2']),
  S('item', ['A', 'B', 'C', 'A']),
  {
    name: 'timestamp',
    data: [iso('2011-01-01T10:00:00Z'), iso('2011-01-01T10:00:00Z'), new Date(1293876000 * 1000), iso('2011-01-01T09:00:00Z')],
    type: 'TIMESTAMP',
  },
  S('basket', ['b1', 'b1', null, 'b2']),
];

describe('data: Parquet dataset folders', function () {
  this.timeout(120000);
  before(function () {
    root = mkdtempSync(join(tmpdir(), 'qarm-pq-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(function () {
    if (!writer) {
      console.log('      (skipped: hyparquet-writer, a devDependency, is not installed; `npm ci` installs it)');
      this.skip();
    }
  });

  it('typed Parquet columns (TIMESTAMP, DOUBLE extra, null basket) load to the same Dataset as the CSV folder', async () => {
    const csv = await q.loadDataset(folder({ 'items.csv': ITEMS, 'interactions.csv': INTER }));
    const pq = await q.loadDataset(folder({ 'items.parquet': ITEM_COLS(), 'interactions.parquet': INTER_COLS() }));
    assert.deepEqual(content(pq), content(csv));
    assert.deepEqual(pq.items[0].extra, { price: '1.5' });
    // Mixed: Parquet items, CSV interactions.
    assert.deepEqual(content(await q.loadDataset(folder({ 'items.parquet': ITEM_COLS(), 'interactions.csv': INTER }))), content(csv));
  });

  it('integer id columns (INT32, INT64) read as their decimal text; seconds as INT64 or DOUBLE; dates as strings', async () => {
    const items = 'item,text\n7,seven\n1000000000001,big\n-3,minus\n';
    const inter = 'user,item,timestamp\n17850,7,1291191960\n17850,-3,1291191960.5\n12,1000000000001,2010-12-01 08:26\n';
    const csv = await q.loadDataset(folder({ 'items.csv': items, 'interactions.csv': inter }));
    const pq = await q.loadDataset(
      folder({
        'items.parquet': [{ name: 'item', data: [7n, 1000000000001n, -3n], type: 'INT64' }, S('text', ['seven', 'big', 'minus'])],
        'interactions.parquet': [
          { name: 'user', data: [17850, 17850, 12], type: 'INT32' },
          { name: 'item', data: [7n, -3n, 1000000000001n], type: 'INT64' },
          S('timestamp', ['1291191960', '1291191960.5', '2010-12-01 08:26']),
        ],
      }),
    );
    assert.deepEqual(content(pq), content(csv));
    const dbl = await q.loadDataset(
      folder({
        'items.parquet': [{ name: 'item', data: [7n, 1000000000001n, -3n], type: 'INT64' }, S('text', ['seven', 'big', 'minus'])],
        'interactions.parquet': [
          S('user', ['17850', '17850', '12']),
          S('item', ['7', '-3', '1000000000001']),
          { name: 'timestamp', data: [1291191960, 1291191960.5, Date.UTC(2010, 11, 1, 8, 26) / 1000], type: 'DOUBLE' },
        ],
      }),
    );
    assert.deepEqual(content(dbl), content(csv));
  });

  it('reads many row groups in order and names the row of a problem in a later group', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `i${i}`);
    const d = folder({
      'items.parquet': [S('item', ids), S('text', ids)],
      'interactions.parquet': [
        S('user', ids),
        S('item', ids.slice().reverse()),
        { name: 'timestamp', data: ids.map((_, i) => BigInt(100 - i)), type: 'INT64' },
      ],
    });
    const ds = await q.loadDataset(d);
    assert.deepEqual(
      ds.items.map((i) => i.id),
      ids,
    );
    assert.deepEqual(ds.users, ids);
    assert.deepEqual(
      ds.interactions.map((x) => [x.user, x.item, x.time]),
      ids.map((_, i) => [6 - i, i, 94 + i]),
    );
    await rejects(
      folder({ 'items.parquet': [S('item', ['a', 'b', 'c', 'd', 'b']), S('text', ['', '', '', '', ''])], 'interactions.csv': INTER }),
      q.ValueError,
      /items\.parquet row 5: duplicate item 'b' \(first on row 2/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [S('user', ['u', 'u', 'u', 'u']), S('item', ['A', 'B', 'C', 'Z']), { name: 'timestamp', data: [1, 2, 3, 4], type: 'DOUBLE' }],
      }),
      q.ValueError,
      /interactions\.parquet row 4: unknown item 'Z' \(not in items\.parquet\)/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [S('user', ['u', 'u', null]), S('item', ['A', 'B', 'C']), { name: 'timestamp', data: [1, 2, 3], type: 'DOUBLE' }],
      }),
      q.ValueError,
      /interactions\.parquet row 3: empty user/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [S('user', ['u', 'u', 'u']), S('item', ['A', 'B', 'C']), { name: 'timestamp', data: [1, null, 3], type: 'DOUBLE' }],
      }),
      q.ValueError,
      /interactions\.parquet row 2: bad timestamp ''/,
    );
    await rejects(
      folder({ 'items.parquet': ITEM_COLS(), 'interactions.parquet': [S('user', ['u']), S('item', ['A']), S('timestamp', ['soon'])] }),
      q.ValueError,
      /interactions\.parquet row 1: bad timestamp 'soon'/,
    );
  });

  it('missing columns -> IOError, wrong column types -> ValueError, naming the file and column', async () => {
    await rejects(
      folder({ 'items.parquet': [S('item', ['A']), S('name', ['x'])], 'interactions.csv': INTER }),
      q.IOError,
      /items\.parquet: missing column 'text' \(columns are: item,name\)/,
    );
    await rejects(
      folder({ 'items.parquet': ITEM_COLS(), 'interactions.parquet': [S('user', ['u']), S('item', ['A']), { name: 'time', data: [1], type: 'DOUBLE' }] }),
      q.IOError,
      /interactions\.parquet: missing column 'timestamp'/,
    );
    await rejects(
      folder({ 'items.parquet': [S('item', ['A']), { name: 'text', data: [5], type: 'INT32' }], 'interactions.csv': INTER }),
      q.ValueError,
      /items\.parquet: column 'text' has type INT32; it must hold strings/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [{ name: 'user', data: [1.5], type: 'DOUBLE' }, S('item', ['A']), { name: 'timestamp', data: [1], type: 'DOUBLE' }],
      }),
      q.ValueError,
      /interactions\.parquet: column 'user' has type DOUBLE; it must hold strings or integers/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [S('user', ['u']), S('item', ['A']), { name: 'timestamp', data: [true], type: 'BOOLEAN' }],
      }),
      q.ValueError,
      /interactions\.parquet: column 'timestamp' has type BOOLEAN; it must hold Unix seconds/,
    );
    await rejects(
      folder({
        'items.parquet': ITEM_COLS(),
        'interactions.parquet': [
          S('user', ['u']),
          { name: 'item', data: [iso('2011-01-01')], type: 'TIMESTAMP' },
          { name: 'timestamp', data: [1], type: 'DOUBLE' },
        ],
      }),
      q.ValueError,
      /interactions\.parquet: column 'item' has type INT64\/TIMESTAMP_MILLIS; it must hold strings or integers/,
    );
  });

  it('corrupt or truncated Parquet -> IOError naming the file; two tables of one kind -> IOError', async () => {
    await rejects(
      folder({ 'items.parquet': 'PAR1 this is not parquet at all PAR1', 'interactions.csv': INTER }),
      q.IOError,
      /items\.parquet: not a valid Parquet file/,
    );
    const good = new Uint8Array(writer.parquetWriteBuffer({ columnData: ITEM_COLS() }));
    await rejects(
      folder({ 'items.parquet': good.subarray(0, good.length - 20), 'interactions.csv': INTER }),
      q.IOError,
      /items\.parquet: not a valid Parquet file/,
    );
    // Damage the data pages but keep the footer: the row group fails to decode.
    const hurt = Uint8Array.from(good);
    for (let i = 4; i < 60; i++) hurt[i] = 0xff;
    await rejects(
      folder({ 'items.parquet': hurt, 'interactions.csv': INTER }),
      q.IOError,
      /items\.parquet: (corrupt Parquet data in row group 0|not a valid Parquet file)/,
    );
    await rejects(
      folder({ 'items.parquet': ITEM_COLS(), 'items.csv': ITEMS, 'interactions.csv': INTER }),
      q.IOError,
      /both items\.csv and items\.parquet exist; keep one/,
    );
    await rejects(folder({ 'items.parquet': ITEM_COLS() }), q.IOError, /missing interactions\.csv \(or interactions\.csv\.gz, interactions\.parquet\)/);
  });

  it('reads GZIP-compressed Parquet through node:zlib and refuses codecs it cannot decode', async () => {
    const d = join(root, `gz${n++}`);
    mkdirSync(d);
    const buf = writer.parquetWriteBuffer({ columnData: ITEM_COLS(), codec: 'GZIP', compressors: { GZIP: (b) => new Uint8Array(gzipSync(b)) } });
    writeFileSync(join(d, 'items.parquet'), new Uint8Array(buf));
    writeFileSync(join(d, 'interactions.csv'), INTER);
    const ds = await q.loadDataset(d);
    assert.deepEqual(
      ds.items.map((i) => [i.id, i.text, i.extra.price]),
      [
        ['A', 'red mug, large', '1.5'],
        ['B', 'blue mug', '2'],
        ['C', 'green plate', '3'],
      ],
    );
    // A codec without a decoder here is refused up front, naming the column and the codec.
    const lz4 = writer.parquetWriteBuffer({ columnData: ITEM_COLS(), codec: 'LZ4', compressors: { LZ4: (b) => b } });
    writeFileSync(join(d, 'items.parquet'), new Uint8Array(lz4));
    await rejects(d, q.IOError, /items\.parquet: column 'item' is compressed with LZ4, which this reader cannot decode here/);
  });

  it('the bundled Online Retail folder and its Parquet conversion (8 row groups) load to identical Datasets', async function () {
    if (!convert) this.skip();
    const out = join(root, 'online-retail-parquet');
    convert.datasetToParquet(q.bundledDatasetDir(), out, { rowGroupSize: 50000 });
    const [csv, pq] = [await q.loadDataset(q.bundledDatasetDir()), await q.loadDataset(out)];
    assert.equal(pq.interactions.length, 386354);
    assert.deepEqual(content(pq), content(csv));
    // Row-group reading: each group's column chunks are fetched on their own and once, never the whole file.
    const t = await openParquet(join(out, 'interactions.parquet'));
    const slice = t.buffer.slice.bind(t.buffer);
    const reads = [];
    t.buffer.slice = (a, b) => {
      reads.push((b ?? t.buffer.byteLength) - a);
      return slice(a, b);
    };
    let rows = 0;
    for await (const g of readRowGroups(t, ['user', 'timestamp'])) rows += g.columns.user.length;
    assert.equal(rows, 386354);
    assert.ok(reads.length >= 8, `${reads.length} reads`);
    assert.ok(Math.max(...reads) < t.buffer.byteLength / 4, `largest read ${Math.max(...reads)} of ${t.buffer.byteLength} bytes`);
    const total = reads.reduce((a, b) => a + b, 0);
    assert.ok(total <= t.buffer.byteLength, `read ${total} bytes of a ${t.buffer.byteLength}-byte file: each group once`);
  });
});

describe('data: embeddings in row shards', () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qarm-emb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  function shardFolder(parts, extra = {}) {
    const d = join(dir, `s${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'items.csv'), ITEMS);
    writeFileSync(join(d, 'interactions.csv'), INTER);
    for (const [f, [rows, cols, fill]] of Object.entries(parts))
      q.writeNpy(
        join(d, f),
        q.tensor(
          Float32Array.from({ length: rows * cols }, (_, i) => fill(i)),
          [rows, cols],
        ),
      );
    for (const [f, c] of Object.entries(extra)) writeFileSync(join(d, f), c);
    return d;
  }

  it('image-00000.npy, image-00001.npy, ... concatenate in number order to the same tensor as image.npy', async () => {
    const all = randArray(3 * 5, 4);
    const whole = await q.loadDataset(shardFolder({ 'image.npy': [3, 5, (i) => all[i]] }));
    const split = await q.loadDataset(
      shardFolder({
        'image-00000.npy': [1, 5, (i) => all[i]],
        'image-00001.npy': [0, 5, () => 0],
        'image-00002.npy': [2, 5, (i) => all[5 + i]],
        'video.npy': [3, 2, (i) => i],
      }),
    );
    assert.deepEqual(Object.keys(split.embeddings), ['image', 'video']);
    assert.deepEqual(split.embeddings.image.shape, [3, 5]);
    assert.deepEqual(Array.from(split.embeddings.image.f32()), Array.from(whole.embeddings.image.f32()));
  });

  it('gaps, a mix with the whole file, column and row mismatches and NaN are errors naming the shard', async () => {
    await rejects(shardFolder({ 'image-00000.npy': [1, 5, () => 1], 'image-00002.npy': [2, 5, () => 1] }), q.IOError, /image-00001\.npy is missing/);
    await rejects(shardFolder({ 'image-00001.npy': [3, 5, () => 1] }), q.IOError, /image-00000\.npy is missing/);
    await rejects(shardFolder({ 'image.npy': [3, 5, () => 1], 'image-00000.npy': [3, 5, () => 1] }), q.IOError, /both image\.npy and its shards/);
    await rejects(
      shardFolder({ 'image-00000.npy': [1, 5, () => 1], 'image-00001.npy': [2, 4, () => 1] }),
      q.ValueError,
      /image-00001\.npy: has 4 columns but image-00000\.npy has 5/,
    );
    await rejects(
      shardFolder({ 'image-00000.npy': [1, 5, () => 1], 'image-00001.npy': [1, 5, () => 1] }),
      q.ValueError,
      /image-00000\.npy … image-00001\.npy: have 2 rows but items\.csv has 3 items/,
    );
    await rejects(
      shardFolder({ 'image-00000.npy': [2, 5, () => 1], 'image-00001.npy': [1, 5, (i) => (i === 3 ? NaN : 1)] }),
      q.ValueError,
      /image-00001\.npy: row 0 \(item 3 of items\.csv\), column 3 is NaN/,
    );
  });
});
