// A corpus of corrupt files for every reader (npy, safetensors, RQKMeans codebooks, ranker
// checkpoints): truncated files, headers that lie about shapes or offsets, wrong dtypes,
// oversized headers, garbage. Each must give an IOError naming the file, never a crash or a
// wrong tensor. (Writers failing part-way: test/atomic.test.js.)
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'qarm-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Variants of a valid file's bytes: truncations at many points plus targeted lies. */
function truncations(buf) {
  const cuts = new Set([0, 1, 7, 8, 9, 11, 12, 16, 40, buf.length >> 1, buf.length - 4, buf.length - 1]);
  return [...cuts].filter((c) => c >= 0 && c < buf.length).map((c) => [`truncated at ${c}`, buf.subarray(0, c)]);
}

function expectIOError(read, file, label) {
  assert.throws(
    read,
    (e) => {
      assert.ok(e instanceof q.IOError, `${label}: expected IOError, got ${e && e.constructor.name}: ${e && e.message}`);
      assert.ok(e.message.includes(file), `${label}: message does not name the file: ${e.message}`);
      return true;
    },
    label,
  );
}

function corpus(name, good, lies) {
  const cases = [...truncations(good), ...lies, ['empty', Buffer.alloc(0)], ['garbage', Buffer.from('not a tensor file at all, just text\n')]];
  return cases.map(([label, bytes], i) => {
    const file = join(dir, `${name}-${i}.bin`);
    writeFileSync(file, bytes);
    return { label, file };
  });
}

function replaceOnce(buf, from, to) {
  const s = buf.toString('latin1');
  assert.ok(s.includes(from), `fixture lacks ${from}`);
  return Buffer.from(s.replace(from, to), 'latin1');
}

describe('corrupt files', () => {
  it('npy: truncation, lying shape, wrong dtype, oversized header, fortran order', () => {
    const file = join(dir, 'good.npy');
    q.writeNpy(file, q.randn([6, 5], { seed: 1 }));
    const good = readFileSync(file);
    assert.deepEqual(q.readNpy(file).shape, [6, 5]);
    const big = Buffer.from(good);
    big.writeUInt16LE(0xffff, 8);
    const v2huge = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(64)]);
    for (const { label, file: f } of corpus('npy', good, [
      ['shape larger than data', replaceOnce(good, '(6, 5)', '(9, 5)')],
      ['shape smaller than data', replaceOnce(good, '(6, 5)', '(2, 5)')],
      ['float64 dtype', replaceOnce(good, "'<f4'", "'<f8'")],
      ['big-endian dtype', replaceOnce(good, "'<f4'", "'>f4'")],
      ['object dtype', replaceOnce(good, "'<f4'", "'|O8'")],
      ['fortran order', replaceOnce(good, 'False', 'True ')],
      ['negative dim', replaceOnce(good, '(6, 5)', '(-6,5)')],
      ['header length past the end', big],
      ['v2 header of 2 GiB', v2huge],
      ['broken dict', replaceOnce(good, "'descr'", "'dexxr'")],
    ]))
      expectIOError(() => q.readNpy(f), f, `npy ${label}`);
  });

  it('safetensors: truncation, offsets past the end, overlapping or out-of-order offsets, bad dtype, huge header', () => {
    const file = join(dir, 'good.safetensors');
    q.writeSafetensors(file, { a: q.randn([4, 3], { seed: 2 }), b: q.tensor(new Int32Array([1, 2, 3, 4])) }, { note: 'x' });
    const good = readFileSync(file);
    const headerLen = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.toString('utf8', 8, 8 + headerLen));
    const withHeader = (h) => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, good.subarray(8 + headerLen)]);
    };
    const mutate = (fn) => {
      const h = JSON.parse(JSON.stringify(header));
      fn(h);
      return withHeader(h);
    };
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 40n, 0);
    for (const { label, file: f } of corpus('st', good, [
      ['offsets past the end', mutate((h) => (h.a.data_offsets[1] += 1000))],
      ['offsets disagree with shape', mutate((h) => (h.a.shape = [5, 3]))],
      ['overlapping tensors', mutate((h) => (h.b.data_offsets = [0, 16]))],
      ['reversed offsets', mutate((h) => (h.a.data_offsets = [h.a.data_offsets[1], h.a.data_offsets[0]]))],
      ['unsupported dtype', mutate((h) => (h.a.dtype = 'F64'))],
      ['non-numeric shape', mutate((h) => (h.a.shape = ['x', 3]))],
      ['header is not an object', withHeader([1, 2, 3])],
      ['header of 1 TiB', huge],
    ]))
      expectIOError(() => q.readSafetensors(f), f, `safetensors ${label}`);
  });

  it('RQKMeans files: a valid safetensors that is not a codebook file, wrong shapes, broken config', () => {
    const x = q.randn([300, 8], { seed: 3 });
    const rq = new q.RQKMeans({ levels: 2, codebookSize: 8, iterations: 3, seed: 1 });
    rq.fit(x);
    const file = join(dir, 'rq.safetensors');
    rq.save(file);
    const good = readFileSync(file);
    const headerLen = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.toString('utf8', 8, 8 + headerLen));
    const withHeader = (fn) => {
      const h = JSON.parse(JSON.stringify(header));
      fn(h);
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, good.subarray(8 + headerLen)]);
    };
    const other = join(dir, 'other.safetensors');
    q.writeSafetensors(other, { w: q.ones([2, 2]) });
    expectIOError(() => q.RQKMeans.load(other), other, 'not a codebook file');
    for (const { label, file: f } of corpus('rq', good, [
      ['config not JSON', withHeader((h) => (h.__metadata__.config = '{levels:'))],
      ['config with more levels than tensors', withHeader((h) => (h.__metadata__.config = h.__metadata__.config.replace('"levels":2', '"levels":3')))],
      [
        'config with a negative level size',
        withHeader((h) => (h.__metadata__.config = h.__metadata__.config.replace(/"codebookSize":\[8,8\]/, '"codebookSize":[8,-8]'))),
      ],
    ]))
      expectIOError(() => q.RQKMeans.load(f), f, `rq ${label}`);
    assert.deepEqual(q.RQKMeans.load(file).encode(x).toTypedArray(), rq.encode(x).toTypedArray());
  });

  it('ranker checkpoints: truncation, corrupt or lying headers, foreign files', async () => {
    const { items, samples } = q.rank.synthetic(1024, { numItems: 300, numUsers: 40, seed: 4 });
    const cfg = { numUsers: 40, embeddingDim: 4, hidden: [8] };
    const file = join(dir, 'ckpt.bin');
    await q.rank.trainRanker(new q.rank.Ranker(cfg, items), samples, samples, { epochs: 1, batchSize: 512, checkpointPath: file });
    const good = readFileSync(file);
    const len = good.readUInt32LE(8);
    const header = JSON.parse(good.toString('utf8', 12, 12 + len));
    const withHeader = (h) => {
      const json = Buffer.from(JSON.stringify(h));
      const head = Buffer.from(good.subarray(0, 12));
      head.writeUInt32LE(json.length, 8);
      return Buffer.concat([head, json, good.subarray(12 + len)]);
    };
    for (const { label, file: f } of corpus('ckpt', good, [
      ['sizes not an array', withHeader({ ...header, sizes: 'many' })],
      ['sizes that lie', withHeader({ ...header, sizes: header.sizes.map((s) => s + 1) })],
      ['header not JSON', Buffer.concat([good.subarray(0, 12), Buffer.alloc(len, 0x7b), good.subarray(12 + len)])],
      [
        'header length past the end',
        (() => {
          const b = Buffer.from(good);
          b.writeUInt32LE(0xfffffff0, 8);
          return b;
        })(),
      ],
      ['trailing bytes', Buffer.concat([good, Buffer.alloc(4)])],
    ])) {
      const ranker = new q.rank.Ranker(cfg, items);
      let err;
      try {
        await q.rank.trainRanker(ranker, samples, samples, { epochs: 2, batchSize: 512, checkpointPath: f });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof q.IOError, `checkpoint ${label}: expected IOError, got ${err && err.constructor.name}: ${err && err.message}`);
      assert.ok(err.message.includes(f), `checkpoint ${label}: ${err.message}`);
    }
  });

  // Failures part-way through a write and before the rename: test/atomic.test.js.
  it('writeFileAtomic rejects non-bytes before opening a temp file, and a missing folder is an IOError', () => {
    const file = join(dir, 'atomic.bin');
    q.writeFileAtomic(file, Buffer.from('old contents'));
    assert.throws(() => q.writeFileAtomic(file, [Buffer.from('new '), 'not bytes']), q.ValueError);
    assert.equal(readFileSync(file, 'utf8'), 'old contents');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.throws(() => q.writeFileAtomic(join(dir, 'missing-dir', 'x.bin'), Buffer.from('x')), q.IOError);
  });
});
