// npy / safetensors / atomic-write IO: interop with files numpy wrote (test/fixtures/io,
// produced by make_fixtures.py), round trips, and rejection of corrupt files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { q, assert, assertThrowsTyped, randArray } from './helpers.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'io');
const fx = (n) => path.join(FIX, n);

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'qarm-io-'));
}

describe('io: npy', () => {
  it('reads float32 C-order arrays numpy wrote', () => {
    const t = q.readNpy(fx('f32_2x3x5.npy'));
    assert.deepEqual(t.shape, [2, 3, 5]);
    assert.equal(t.dtype, 'float32');
    const d = t.toTypedArray();
    for (let i = 0; i < 30; i++) assert.equal(d[i], (i - 7.5) / 4);
  });
  it('reads int32, 0-d, empty and version-2 files', () => {
    const i = q.readNpy(fx('i32_7.npy'));
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(Array.from(i.toTypedArray()), [-3, 0, 1, 2 ** 31 - 1, -(2 ** 31), 42, 5]);
    const s = q.readNpy(fx('f32_scalar.npy'));
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 3.25);
    const e = q.readNpy(fx('f32_empty_0x4.npy'));
    assert.deepEqual(e.shape, [0, 4]);
    const v2 = q.readNpy(fx('f32_v2.npy'));
    assert.deepEqual(Array.from(v2.toTypedArray()), [0, 0.5, 1, 1.5]);
  });
  it('rejects float64, Fortran order, truncated, lying and oversized headers with IOError naming the file', () => {
    assertThrowsTyped(() => q.readNpy(fx('f64_3.npy')), q.IOError, 'f64_3.npy');
    assertThrowsTyped(() => q.readNpy(fx('f32_fortran.npy')), q.IOError, 'Fortran');
    const dir = tmpdir();
    const good = fs.readFileSync(fx('f32_2x3x5.npy'));
    const trunc = path.join(dir, 'trunc.npy');
    fs.writeFileSync(trunc, good.subarray(0, good.length - 3));
    assertThrowsTyped(() => q.readNpy(trunc), q.IOError, 'trunc.npy');
    const lie = path.join(dir, 'lie.npy');
    fs.writeFileSync(lie, Buffer.from(good.toString('latin1').replace('(2, 3, 5)', '(2, 3, 6)'), 'latin1'));
    assertThrowsTyped(() => q.readNpy(lie), q.IOError, 'truncated data');
    const big = Buffer.from(good);
    big.writeUInt16LE(0xffff, 8);
    const bigf = path.join(dir, 'big.npy');
    fs.writeFileSync(bigf, big);
    assertThrowsTyped(() => q.readNpy(bigf), q.IOError, 'big.npy');
    const huge = Buffer.alloc(64);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(huge);
    huge.writeUInt32LE(1 << 30, 8);
    const hugef = path.join(dir, 'huge.npy');
    fs.writeFileSync(hugef, huge);
    assertThrowsTyped(() => q.readNpy(hugef), q.IOError, 'exceeds');
    const junk = path.join(dir, 'junk.npy');
    fs.writeFileSync(junk, 'hello');
    assertThrowsTyped(() => q.readNpy(junk), q.IOError, 'junk.npy');
    assertThrowsTyped(() => q.readNpy(path.join(dir, 'missing.npy')), q.IOError, 'missing.npy');
  });
  it('round-trips float32 and int32 and leaves no temp files', () => {
    const dir = tmpdir();
    const a = q.tensor(randArray(3 * 17, 5), [3, 17]);
    const b = q.tensor(Int32Array.from([5, -1, 7]), [3]);
    q.writeNpy(path.join(dir, 'a.npy'), a);
    q.writeNpy(path.join(dir, 'b.npy'), b);
    const a2 = q.readNpy(path.join(dir, 'a.npy'));
    assert.deepEqual(a2.shape, [3, 17]);
    assert.deepEqual(Array.from(a2.toTypedArray()), Array.from(a.toTypedArray()));
    assert.deepEqual(Array.from(q.readNpy(path.join(dir, 'b.npy')).toTypedArray()), [5, -1, 7]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.npy', 'b.npy']);
    assert.equal(fs.statSync(path.join(dir, 'a.npy')).size % 64, (3 * 17 * 4) % 64, 'data starts 64-aligned');
  });
});

describe('io: safetensors', () => {
  it('reads a file written to the spec by python, with metadata', () => {
    const { tensors, metadata } = q.readSafetensors(fx('basic.safetensors'));
    assert.deepEqual(Object.keys(tensors).sort(), ['codes', 'weight']);
    assert.deepEqual(tensors.weight.shape, [6, 5]);
    const w = tensors.weight.toTypedArray();
    for (let i = 0; i < 30; i++) assert.equal(w[i], (i - 7.5) / 4);
    assert.equal(tensors.codes.dtype, 'int32');
    assert.deepEqual(Array.from(tensors.codes.toTypedArray()), [1, 2, 3, 4, 5, -6]);
    assert.deepEqual(metadata, { format: 'np', note: 'written by make_fixtures.py' });
  });
  it('rejects F64, truncation, lying offsets, holes and oversized headers with IOError naming the file', () => {
    assertThrowsTyped(() => q.readSafetensors(fx('f64.safetensors')), q.IOError, 'F64');
    const dir = tmpdir();
    const good = fs.readFileSync(fx('basic.safetensors'));
    const w = (name, buf) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, buf);
      return f;
    };
    assertThrowsTyped(() => q.readSafetensors(w('t.safetensors', good.subarray(0, good.length - 1))), q.IOError, 't.safetensors');
    assertThrowsTyped(() => q.readSafetensors(w('t2.safetensors', good.subarray(0, 20))), q.IOError, 'truncated header');
    assertThrowsTyped(() => q.readSafetensors(w('t3.safetensors', good.subarray(0, 5))), q.IOError, 't3.safetensors');
    const hl = Number(good.readBigUInt64LE(0));
    const header = good.subarray(8, 8 + hl).toString();
    const rebuild = (h) => {
      const hb = Buffer.from(h);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(hb.length));
      return Buffer.concat([len, hb, good.subarray(8 + hl)]);
    };
    assertThrowsTyped(() => q.readSafetensors(w('shape.safetensors', rebuild(header.replace('[6,5]', '[6,4]')))), q.IOError, 'do not match shape');
    assertThrowsTyped(() => q.readSafetensors(w('bad.safetensors', rebuild(header.replace('{', '[')))), q.IOError, 'bad.safetensors');
    const big = Buffer.from(good);
    big.writeBigUInt64LE(1n << 40n);
    assertThrowsTyped(() => q.readSafetensors(w('big.safetensors', big)), q.IOError, 'exceeds');
    const extra = Buffer.concat([good, Buffer.alloc(4)]);
    assertThrowsTyped(() => q.readSafetensors(w('extra.safetensors', extra)), q.IOError, 'cover');
  });
  // Interop with numpy itself: CI installs Debian's python3-numpy (.ci/run); elsewhere the
  // numpy half skips visibly.
  it('round-trips and is read back by numpy (Debian python3 + python3-numpy)', function () {
    const dir = tmpdir();
    const f = path.join(dir, 'out.safetensors');
    const a = q.tensor(randArray(4 * 3, 9), [4, 3]);
    const c = q.tensor(Int32Array.from([7, 8, 9, 10]), [2, 2]);
    q.writeSafetensors(f, { b_codes: c, a_emb: a }, { levels: '2', json: '{"x":1}' });
    const { tensors, metadata } = q.readSafetensors(f);
    assert.deepEqual(Array.from(tensors.a_emb.toTypedArray()), Array.from(a.toTypedArray()));
    assert.deepEqual(tensors.b_codes.shape, [2, 2]);
    assert.deepEqual(metadata, { levels: '2', json: '{"x":1}' });
    assert.equal(Number(fs.readFileSync(f).readBigUInt64LE(0)) % 8, 0);
    const py = '/usr/bin/python3';
    if (!fs.existsSync(py)) this.skip(); // no /usr/bin/python3: apt-get install python3-numpy
    const probe = spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip(); // /usr/bin/python3 lacks numpy: apt-get install python3-numpy
    const script = `import json,struct,sys,numpy as np
b=open(sys.argv[1],'rb').read();n=struct.unpack('<Q',b[:8])[0];h=json.loads(b[8:8+n]);d=b[8+n:]
e=h['a_emb'];o=e['data_offsets'];x=np.frombuffer(d[o[0]:o[1]],dtype='<f4').reshape(e['shape'])
e=h['b_codes'];o=e['data_offsets'];c=np.frombuffer(d[o[0]:o[1]],dtype='<i4').reshape(e['shape'])
y=np.load(sys.argv[3]);assert y.dtype==np.int32 and y.shape==(2,2) and (y==c).all()
np.save(sys.argv[2],x);print(json.dumps({'codes':c.tolist(),'meta':h['__metadata__']}))`;
    q.writeNpy(path.join(dir, 'c.npy'), c);
    const r = spawnSync(py, ['-c', script, f, path.join(dir, 'x.npy'), path.join(dir, 'c.npy')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.codes, [
      [7, 8],
      [9, 10],
    ]);
    assert.deepEqual(out.meta, { levels: '2', json: '{"x":1}' });
    assert.deepEqual(Array.from(q.readNpy(path.join(dir, 'x.npy')).toTypedArray()), Array.from(a.toTypedArray()));
  });
});

describe('io: writeFileAtomic', () => {
  it('replaces a file whole and reports failures as IOError naming the file', () => {
    const dir = tmpdir();
    const f = path.join(dir, 'x.bin');
    fs.writeFileSync(f, 'old');
    q.writeFileAtomic(f, [Buffer.from('new '), Buffer.from('data')]);
    assert.equal(fs.readFileSync(f, 'utf8'), 'new data');
    assert.deepEqual(fs.readdirSync(dir), ['x.bin']);
    assertThrowsTyped(() => q.writeFileAtomic(path.join(dir, 'no', 'such', 'y.bin'), Buffer.from('z')), q.IOError, 'y.bin');
  });
});
