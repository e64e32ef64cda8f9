// Corrupt and edge-case .npy and safetensors images, one per check of the readers, built byte by
// byte here from the formats' specs (numpy's format.py docs for .npy v1/v2/v3; safetensors: an
// 8-byte little-endian header length, a UTF-8 JSON header of {dtype, shape, data_offsets} plus an
// optional __metadata__ string map, then the data section the tensors tile exactly).
// Each rejection asserts IOError and that the message names the problem.
import { q, assert } from './helpers.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '../dist/data/npy.js';
import { readNpyHeader, readNpyRows } from '../dist/data/npy_rows.js';
import { decodeSafetensors, encodeSafetensors } from '../dist/data/safetensors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function rejects(fn, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof q.IOError, `expected IOError, got ${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    assert.match(e.message, re);
    assert.equal(e.argument, 'path');
    return true;
  });
}

/** A .npy image: magic, version, header length (uint16 LE for v1, uint32 LE for v2/v3), header bytes, data. */
function npy(header, { major = 1, data = new Uint8Array(0), lenOverride, raw } = {}) {
  const hb = raw ?? Uint8Array.from(header, (c) => c.charCodeAt(0));
  const pre = major === 1 ? 10 : 12;
  const buf = new Uint8Array(pre + hb.length + data.length);
  buf.set(MAGIC, 0);
  buf[6] = major;
  buf[7] = 0;
  const dv = new DataView(buf.buffer);
  const len = lenOverride ?? hb.length;
  if (major === 1) dv.setUint16(8, len, true);
  else dv.setUint32(8, len, true);
  buf.set(hb, pre);
  buf.set(data, pre + hb.length);
  return buf;
}

const f32bytes = (vals) => new Uint8Array(Float32Array.from(vals).buffer);
const i32bytes = (vals) => new Uint8Array(Int32Array.from(vals).buffer);
const dict = (descr, shape, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

describe('io corrupt: npy reader checks', () => {
  it('reads hand-built v1, v2 and v3 files with the values written', () => {
    for (const major of [1, 2, 3]) {
      const r = decodeNpy(npy(dict('<f4', '(3,)'), { major, data: f32bytes([1.5, -2, 0.25]) }));
      assert.deepEqual(r.shape, [3]);
      assert.deepEqual(Array.from(r.toTypedArray()), [1.5, -2, 0.25]);
    }
    const i = decodeNpy(npy(dict('<i4', '(2, 1)'), { data: i32bytes([7, -9]) }));
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(i.shape, [2, 1]);
    assert.deepEqual(Array.from(i.toTypedArray()), [7, -9]);
    // '|' (not applicable) byte order is accepted for 4-byte types as numpy does for reading.
    assert.equal(decodeNpy(npy(dict('|f4', '(1,)'), { data: f32bytes([3]) })).dtype, 'float32');
    assert.equal(decodeNpy(npy(dict('|i4', '(1,)'), { data: i32bytes([3]) })).dtype, 'int32');
    // 0-d: shape ()
    const s = decodeNpy(npy(dict('<f4', '()'), { data: f32bytes([4]) }));
    assert.deepEqual(s.shape, []);
  });

  it('rejects a wrong magic in any of its 6 bytes, and a file shorter than the 10-byte preamble', () => {
    const good = npy(dict('<f4', '(1,)'), { data: f32bytes([1]) });
    for (let i = 0; i < 6; i++) {
      const b = good.slice();
      b[i] ^= 0x20;
      rejects(() => decodeNpy(b, 'x.npy'), /magic/);
    }
    rejects(() => decodeNpy(good.subarray(0, 9)), /magic/);
    rejects(() => decodeNpy(new Uint8Array(0)), /magic/);
    // Exactly 10 bytes (preamble, empty header) passes the magic check and fails on the header.
    rejects(() => decodeNpy(npy('')), /malformed header/);
  });

  it('rejects unknown format versions and truncated v2/v3 preambles', () => {
    for (const v of [0, 4, 255]) {
      const b = npy(dict('<f4', '(1,)'), { major: 2, data: f32bytes([1]) });
      b[6] = v;
      rejects(() => decodeNpy(b), new RegExp(`unsupported format version ${v}`));
    }
    // v2 needs a 4-byte length: 11 bytes are truncated; exactly 12 (empty header) reach the header check.
    const v2 = npy('', { major: 2 });
    assert.equal(v2.length, 12);
    rejects(() => decodeNpy(v2.subarray(0, 11)), /truncated header/);
    rejects(() => decodeNpy(v2), /malformed header/);
  });

  it('decodes v1/v2 headers as latin-1 and v3 headers as UTF-8', () => {
    // 'é' as one latin-1 byte (v1) and as two UTF-8 bytes (v3): the error quotes the descr as decoded.
    const h1 = Uint8Array.from("{'descr': '\u00e9', 'fortran_order': False, 'shape': (1,), }\n", (c) => c.charCodeAt(0));
    rejects(() => decodeNpy(npy(null, { raw: h1, data: f32bytes([1]) })), /unsupported dtype '\u00e9'/);
    rejects(() => decodeNpy(npy(null, { raw: h1, major: 2, data: f32bytes([1]) })), /unsupported dtype '\u00e9'/);
    const h3 = new TextEncoder().encode("{'descr': '\u00e9', 'fortran_order': False, 'shape': (1,), }\n");
    assert.equal(h3.length, h1.length + 1);
    rejects(() => decodeNpy(npy(null, { raw: h3, major: 3, data: f32bytes([1]) })), /unsupported dtype '\u00e9'/);
  });

  it('header length: 2^20 bytes accepted, 2^20 + 1 rejected; one byte past the end is truncation', () => {
    const body = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
    const at = body + ' '.repeat((1 << 20) - body.length - 1) + '\n';
    const r = decodeNpy(npy(at, { major: 2, data: f32bytes([5]) }));
    assert.deepEqual(Array.from(r.toTypedArray()), [5]);
    rejects(() => decodeNpy(npy(at + ' ', { major: 2, data: f32bytes([5]) })), /header of 1048577 bytes exceeds 1048576/);
    // The row reader fetches only a file's first bytes for the header: as many as the longest
    // header allowed, so a header at the limit reads back there too.
    const dir = mkdtempSync(join(tmpdir(), 'qarm-npy-limit-'));
    try {
      const file = join(dir, 'at-limit.npy');
      writeFileSync(file, npy(at, { major: 2, data: f32bytes([5]) }));
      assert.deepEqual(readNpyHeader(file).shape, [1]);
      assert.deepEqual(Array.from(readNpyRows(file, 0, 1).toTypedArray()), [5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const h = dict('<f4', '(0,)');
    // header ending exactly at EOF with an empty array: fine; announcing one byte more: truncated.
    assert.deepEqual(decodeNpy(npy(h)).shape, [0]);
    rejects(() => decodeNpy(npy(h, { lenOverride: h.length + 1 })), /truncated header/);
    rejects(() => decodeNpy(npy(h, { major: 2, lenOverride: 0xffffffff })), /exceeds/);
  });

  it('parses the header as a Python dict literal: spacing is free, missing keys and non-dicts are rejected', () => {
    const data = f32bytes([1, 2]);
    // Spaces before the colons and none after: valid Python, so valid .npy.
    const odd = "{'descr' :'<f4', 'fortran_order' :False, 'shape' :(2,)}\n";
    assert.deepEqual(Array.from(decodeNpy(npy(odd, { data })).toTypedArray()), [1, 2]);
    const tight = "{'descr':'<f4','fortran_order':False,'shape':(2,)}\n";
    assert.deepEqual(decodeNpy(npy(tight, { data })).shape, [2]);
    // Leading blanks before the dict are allowed by Python's literal_eval.
    assert.deepEqual(decodeNpy(npy(' ' + tight, { data })).shape, [2]);
    rejects(() => decodeNpy(npy("{'fortran_order': False, 'shape': (2,), }\n", { data })), /malformed header/);
    rejects(() => decodeNpy(npy("{'descr': '<f4', 'shape': (2,), }\n", { data })), /malformed header/);
    rejects(() => decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, }\n", { data })), /malformed header/);
    rejects(() => decodeNpy(npy("'descr': '<f4', 'fortran_order': False, 'shape': (2,)\n", { data })), /not a dict/);
    rejects(() => decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), \n", { data })), /not a dict/);
    rejects(() => decodeNpy(npy("'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n", { data })), /not a dict/);
  });

  it('rejects dtypes other than 4-byte little-endian float/int, and Fortran order', () => {
    for (const d of ['<f8', '<i8', '>f4', '>i4', '<u4', '<f2', 'f4', '']) {
      rejects(() => decodeNpy(npy(dict(d, '(1,)'), { data: f32bytes([1]) })), new RegExp(`unsupported dtype '${d}'`));
    }
    rejects(() => decodeNpy(npy(dict('<f4', '(2, 2)', 'True'), { data: f32bytes([1, 2, 3, 4]) })), /Fortran order/);
  });

  it('shape entries: non-integers rejected, 2^31-1 passes the entry check, 2^31 is too large', () => {
    for (const bad of ['2a', 'a2', '-1', '1.5', 'x']) {
      rejects(() => decodeNpy(npy(dict('<f4', `(${bad},)`))), new RegExp(`bad shape entry '${bad.replace('.', '\\.')}'`));
    }
    // '(2, 3)' and '(3,)' and '()' all parse (trailing comma and blanks are Python tuple syntax).
    assert.deepEqual(decodeNpy(npy(dict('<f4', '( 2 , 3 )'), { data: f32bytes([1, 2, 3, 4, 5, 6]) })).shape, [2, 3]);
    // 2^31 - 1 is a legal entry: the file then fails only because the data is missing.
    rejects(() => decodeNpy(npy(dict('<f4', '(2147483647,)'))), /truncated data/);
    rejects(() => decodeNpy(npy(dict('<f4', '(2147483648,)'))), /shape entry 2147483648 is too large/);
    rejects(() => decodeNpy(npy(dict('<f4', '(99999999999999999999,)'))), /too large/);
    // Entries each legal but a product past 2^53 bytes.
    rejects(() => decodeNpy(npy(dict('<f4', '(2147483647, 2147483647, 2147483647)'))), /shape too large/);
  });

  it('data size must match the shape exactly: truncated and trailing bytes name the counts', () => {
    rejects(() => decodeNpy(npy(dict('<f4', '(3,)'), { data: f32bytes([1, 2]) })), /truncated data.*\[3\].*12 bytes.*holds 8/);
    rejects(() => decodeNpy(npy(dict('<f4', '(3,)'), { data: f32bytes([1, 2, 3, 4]) })), /\b4 trailing bytes.*\[3\]/);
    rejects(() => decodeNpy(npy(dict('<f4', '(1,)'), { data: new Uint8Array(5) })), /\b1 trailing bytes/);
  });
});

describe('io corrupt: npy error messages', () => {
  it('name the file (or <buffer>), list multi-dim shapes, and quote at most a short prefix of a bad header', () => {
    rejects(() => decodeNpy(new Uint8Array(3), 'dir/x.npy'), /'dir\/x\.npy'/);
    rejects(() => decodeNpy(new Uint8Array(3)), /'<buffer>'/);
    rejects(() => decodeNpy(npy(dict('<f4', '(2, 3)'), { data: f32bytes([1]) })), /shape \[2, 3\] \(24 bytes\), file holds 4/);
    rejects(() => decodeNpy(npy(dict('<f4', '(2, 1)'), { data: f32bytes([1, 2, 3]) })), /4 trailing bytes after the data of shape \[2, 1\]/);
    const junk = '{' + 'z'.repeat(5000) + '}\n';
    assert.throws(
      () => decodeNpy(npy(junk, { major: 2 })),
      (e) => e instanceof q.IOError && /malformed header/.test(e.message) && e.message.length < 400,
    );
  });
});

describe('io corrupt: npy writer layout', () => {
  it('writes the v1 preamble, a little-endian header length, 64-byte alignment, and a 1-tuple with a comma', () => {
    for (const shape of [[3], [1], [2, 3], [17, 1, 2], []]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const t = q.Tensor.fromArray(
        Float32Array.from({ length: n }, (_, i) => i),
        shape,
      );
      const [head, data] = encodeNpy(t);
      assert.deepEqual(Array.from(head.subarray(0, 6)), MAGIC);
      assert.equal(head[6], 1);
      assert.equal(head[7], 0);
      const hlen = head[8] | (head[9] << 8);
      assert.equal(hlen, head.length - 10);
      assert.equal(head.length % 64, 0);
      assert.equal(head[head.length - 1], 0x0a);
      const text = String.fromCharCode(...head.subarray(10));
      const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
      assert.ok(text.includes(`'shape': ${tuple}`), text);
      assert.ok(text.includes("'descr': '<f4'") && text.includes("'fortran_order': False"), text);
      assert.equal(data.byteLength, n * 4);
    }
  });
});

describe('io corrupt: npy writer version switch', () => {
  // numpy's rule: version 1.0 while the padded header (dict + spaces + newline, data 64-aligned)
  // fits the uint16 length, else 2.0 with a uint32 length. With a 10-byte preamble a dict of
  // L characters pads to ceil((L + 11) / 64) * 64 - 10 bytes: L = 65525 still fits (65526 bytes), L = 65526 does not (65590).
  const prefix = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  function shapeOfDictLength(L) {
    // dims "0, 1, 1, ..." (0 keeps the tensor empty); one "10"/"100" tunes the length by 1 or 2.
    const rest = L - prefix.length - 4 - 1; // "), }" and the leading "0"
    const m = Math.floor(rest / 3);
    const extra = rest - 3 * m;
    const shape = [0, ...Array(m).fill(1)];
    if (extra) shape[1] = 10 ** extra;
    const text = `${prefix}${shape.join(', ')}), }`;
    assert.equal(text.length, L);
    return { shape, text };
  }
  for (const [L, major] of [
    [65524, 1],
    [65526, 2],
    [65530, 2],
    [70000, 2],
  ]) {
    it(`a dict of ${L} characters is written as version ${major}.0`, () => {
      const { shape, text } = shapeOfDictLength(L);
      const [head, data] = encodeNpy(q.Tensor.fromArray(new Float32Array(0), shape));
      assert.equal(data.byteLength, 0);
      assert.deepEqual(Array.from(head.subarray(0, 6)), MAGIC);
      assert.equal(head[6], major);
      const pre = major === 1 ? 10 : 12;
      const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      assert.equal(major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true), head.length - pre);
      assert.equal(head.length % 64, 0);
      assert.equal(head[head.length - 1], 0x0a);
      assert.equal(String.fromCharCode(...head.subarray(pre, pre + L)), text);
      assert.deepEqual(decodeNpy(head).shape, shape);
    });
  }
});

/** A safetensors image: header JSON (object or raw string), data bytes, optional length override. */
function st(header, data = new Uint8Array(0), { lenOverride, raw } = {}) {
  const hb = raw ?? new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const buf = new Uint8Array(8 + hb.length + data.length);
  new DataView(buf.buffer).setBigUint64(0, lenOverride ?? BigInt(hb.length), true);
  buf.set(hb, 8);
  buf.set(data, 8 + hb.length);
  return buf;
}

const one = (extra = {}) => ({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], ...extra } });

describe('io corrupt: safetensors reader checks', () => {
  it('reads hand-built files: F32/I32 values, metadata, zero-size tensors, tensors listed out of order', () => {
    const data = new Uint8Array([...f32bytes([1.5, -3]), ...i32bytes([42])]);
    const r = decodeSafetensors(
      st(
        {
          i: { dtype: 'I32', shape: [1], data_offsets: [8, 8 + 4] },
          z: { dtype: 'F32', shape: [0, 3], data_offsets: [8, 8] },
          __metadata__: { k: 'v' },
          f: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 8] },
        },
        data,
      ),
    );
    assert.deepEqual(r.metadata, { k: 'v' });
    assert.deepEqual(Array.from(r.tensors.f.toTypedArray()), [1.5, -3]);
    assert.deepEqual(r.tensors.f.shape, [2, 1]);
    assert.equal(r.tensors.i.dtype, 'int32');
    assert.deepEqual(Array.from(r.tensors.i.toTypedArray()), [42]);
    assert.deepEqual(r.tensors.z.shape, [0, 3]);
    // An empty header object is a valid empty file.
    assert.deepEqual(Object.keys(decodeSafetensors(st({})).tensors), []);
    // Zero-size tensor at the start, ties on begin broken by end.
    const r2 = decodeSafetensors(
      st(
        {
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          y: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
          x: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
        },
        f32bytes([1, 2]),
      ),
    );
    assert.deepEqual(Array.from(r2.tensors.b.toTypedArray()), [2]);
  });

  it('header length: fewer than 8 bytes, over 100 MiB, and one byte past the end are rejected', () => {
    rejects(() => decodeSafetensors(new Uint8Array(7), 'm.safetensors'), /shorter than the 8-byte header length/);
    // Exactly 8 bytes announcing an empty header: gets to JSON parsing.
    rejects(() => decodeSafetensors(new Uint8Array(8)), /not valid JSON/);
    const max = 100 * 1024 * 1024;
    rejects(() => decodeSafetensors(st({}, undefined, { lenOverride: BigInt(max + 1) })), new RegExp(`header length ${max + 1} exceeds ${max}`));
    rejects(() => decodeSafetensors(st({}, undefined, { lenOverride: 2n ** 64n - 1n })), /exceeds/);
    // At the limit the length is allowed, and this short image is then truncated.
    rejects(() => decodeSafetensors(st({}, undefined, { lenOverride: BigInt(max) })), new RegExp(`truncated header \\(${max} bytes announced, 2 present\\)`));
    rejects(() => decodeSafetensors(st({}, undefined, { lenOverride: 3n })), /truncated header \(3 bytes announced, 2 present\)/);
  });

  it('header must be UTF-8 JSON holding an object', () => {
    rejects(() => decodeSafetensors(st('{"a":')), /not valid JSON/);
    const bad = new Uint8Array([...new TextEncoder().encode('{"__metadata__":{"k":"'), 0xff, ...new TextEncoder().encode('"}}')]);
    rejects(() => decodeSafetensors(st(null, undefined, { raw: bad })), /not valid JSON/);
    for (const h of ['[]', 'null', '1', '"s"', 'true']) rejects(() => decodeSafetensors(st(h)), /header is not a JSON object/);
  });

  it('__metadata__ must be a string-to-string object', () => {
    for (const m of ['x', null, [], 3]) rejects(() => decodeSafetensors(st({ __metadata__: m })), /__metadata__ must be an object/);
    rejects(() => decodeSafetensors(st({ __metadata__: { ok: 's', n: 1 } })), /__metadata__ value 'n' must be a string/);
    rejects(() => decodeSafetensors(st({ __metadata__: { n: null } })), /__metadata__ value 'n' must be a string/);
    assert.deepEqual(decodeSafetensors(st({ __metadata__: {} })).metadata, {});
  });

  it('entries: non-objects, dtypes other than F32/I32, invalid shapes', () => {
    const d = f32bytes([1]);
    for (const v of [1, null, 'F32', true]) rejects(() => decodeSafetensors(st({ a: v }, d)), /entry 'a' is not an object/);
    for (const dt of ['F64', 'f32', 'I64', 'BF16', ['F32'], 1, null, undefined]) {
      rejects(() => decodeSafetensors(st(one({ dtype: dt }), d)), /tensor 'a' has unsupported dtype/);
    }
    for (const sh of ['1', [-1], [1.5], ['1'], [2 ** 31], [1, -1], [-1, 1], null, { 0: 1 }]) {
      rejects(() => decodeSafetensors(st(one({ shape: sh }), d)), /tensor 'a' has an invalid shape/);
    }
    // 2^31 - 1 is a legal dimension: the shape check passes and the offsets check fails.
    rejects(() => decodeSafetensors(st(one({ shape: [2 ** 31 - 1] }), d)), /data_offsets \[0, 4\] do not match shape/);
  });

  it('data_offsets: must be two non-negative integers matching the shape and inside the data', () => {
    const d = f32bytes([1]);
    for (const off of ['04', [0], [0, 4, 8], [-4, 0], [0, 4.5], ['0', '4'], null, [0, -4]]) {
      rejects(() => decodeSafetensors(st(one({ data_offsets: off }), d)), /tensor 'a' has invalid data_offsets/);
    }
    rejects(() => decodeSafetensors(st(one({ data_offsets: [4, 0] }), d)), /data_offsets \[4, 0\] do not match shape \[1\]/);
    rejects(() => decodeSafetensors(st(one({ shape: [2] }), d)), /data_offsets \[0, 4\] do not match shape \[2\]/);
    rejects(() => decodeSafetensors(st(one({ shape: [2], data_offsets: [0, 8] }), d)), /ends at 8 beyond the 4 data bytes/);
  });

  it('tensors must tile the data section: holes, overlaps and uncovered bytes are rejected', () => {
    const e = (o) => ({ dtype: 'F32', shape: [(o[1] - o[0]) / 4], data_offsets: o });
    rejects(() => decodeSafetensors(st({ a: e([0, 4]), b: e([8, 12]) }, f32bytes([1, 2, 3]))), /tensor 'b' starts at 8, expected 4/);
    rejects(() => decodeSafetensors(st({ a: e([0, 8]), b: e([4, 8]) }, f32bytes([1, 2]))), /starts at 4, expected (0|8)/);
    rejects(() => decodeSafetensors(st({ a: e([4, 8]) }, f32bytes([1, 2]))), /tensor 'a' starts at 4, expected 0/);
    rejects(() => decodeSafetensors(st({ a: e([0, 4]) }, f32bytes([1, 2]))), /data section holds 8 bytes but tensors cover 4/);
    rejects(() => decodeSafetensors(st({}, f32bytes([1]))), /holds 4 bytes but tensors cover 0/);
  });
});

describe('io corrupt: safetensors error messages', () => {
  it('name the file (or <buffer>) and list multi-dim shapes', () => {
    rejects(() => decodeSafetensors(new Uint8Array(3), 'dir/m.safetensors'), /'dir\/m\.safetensors'/);
    rejects(() => decodeSafetensors(new Uint8Array(3)), /'<buffer>'/);
    const h = { w: { dtype: 'I32', shape: [2, 3], data_offsets: [0, 4] } };
    rejects(() => decodeSafetensors(st(h, i32bytes([1]))), /tensor 'w': data_offsets \[0, 4\] do not match shape \[2, 3\] of int32/);
  });
});

describe('io corrupt: safetensors writer layout', () => {
  const header = (parts) => {
    const n = Number(new DataView(parts[0].buffer, parts[0].byteOffset).getBigUint64(0, true));
    assert.equal(parts[1].byteLength, n);
    assert.equal((8 + n) % 8, 0);
    return JSON.parse(new TextDecoder().decode(parts[1]));
  };

  it('sorts tensors by name, writes I32/F32 codes and 8-byte-aligned padded headers', () => {
    const b = q.Tensor.fromArray(Int32Array.from([1, 2, 3]), [3], 'int32');
    const a = q.Tensor.fromArray(Float32Array.from([4, 5]), [1, 2]);
    const h = header(encodeSafetensors({ b, a }, { m: 'x' }));
    assert.deepEqual(h.a, { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] });
    assert.deepEqual(h.b, { dtype: 'I32', shape: [3], data_offsets: [8, 20] });
    assert.deepEqual(h.__metadata__, { m: 'x' });
    assert.equal(header(encodeSafetensors({ a })).__metadata__, undefined);
  });

  it('rejects non-string metadata values and non-Tensor values with IOError naming them', () => {
    const a = q.Tensor.fromArray(Float32Array.from([1]), [1]);
    assert.throws(
      () => encodeSafetensors({ a }, { k: 3 }),
      (e) => e instanceof q.IOError && e.argument === 'metadata' && /'k' must be a string/.test(e.message),
    );
    assert.throws(
      () => encodeSafetensors({ a, w: [1, 2] }),
      (e) => e instanceof q.IOError && e.argument === 'tensors' && /'w' is not a Tensor/.test(e.message),
    );
  });
});
