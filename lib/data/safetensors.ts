/**
 * safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header mapping tensor names to `{dtype, shape, data_offsets}` (offsets
 * relative to the data section) plus an optional `__metadata__` string map, then the raw
 * little-endian data. We read and write F32 and I32; other dtypes are rejected with an IOError.
 * Readable from Python with `safetensors.numpy.load_file` or the short reader in the README.
 */
import { IOError } from '../errors.js';
import type { DType } from '../tensor/dtype.js';
import { shapeSize, Tensor } from '../tensor/tensor.js';
import { readFileChecked, writeFileAtomic } from './atomic.js';

/** Header size limit (the reference implementation uses 100 MB). */
const MAX_HEADER = 100 * 1024 * 1024;
const CODES: Record<string, DType> = { F32: 'float32', I32: 'int32' };

/** What {@link readSafetensors} returns. */
export interface SafetensorsContent {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

function fail(file: string, why: string): never {
  throw new IOError(`'${file}' is not a valid safetensors file: ${why}`, 'path');
}

/** Decodes a safetensors image held in memory; `file` only names it in errors. */
export function decodeSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsContent {
  if (buf.byteLength < 8) fail(file, 'shorter than the 8-byte header length');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(file, `header length ${n} exceeds ${MAX_HEADER}`);
  const hlen = Number(n);
  if (8 + hlen > buf.byteLength) fail(file, `truncated header (${hlen} bytes announced, ${buf.byteLength - 8} present)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + hlen)));
  } catch (e) {
    fail(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
  const dataStart = 8 + hlen;
  const dataLen = buf.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, '__metadata__ must be an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(file, `__metadata__ value '${k}' must be a string`);
        metadata[k] = s;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(file, `entry '${name}' is not an object`);
    const dtype = typeof e.dtype === 'string' ? CODES[e.dtype] : undefined;
    if (!dtype) fail(file, `tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (need F32 or I32)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= 0x7fffffff)) {
      fail(file, `tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, `tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as number[];
    const shape = e.shape as number[];
    if (end < begin || end - begin !== shapeSize(shape) * 4) {
      fail(file, `tensor '${name}': data_offsets [${begin}, ${end}] do not match shape [${shape.join(', ')}] of ${dtype}`);
    }
    if (end > dataLen) fail(file, `tensor '${name}' ends at ${end} beyond the ${dataLen} data bytes (truncated?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // The format requires the tensors to tile the data section exactly (no holes, no overlap).
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) fail(file, `tensor '${e.name}' starts at ${e.begin}, expected ${pos} (overlap or hole)`);
    pos = e.end;
  }
  if (pos !== dataLen) fail(file, `data section holds ${dataLen} bytes but tensors cover ${pos}`);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    const bytes = new Uint8Array(e.end - e.begin);
    bytes.set(buf.subarray(dataStart + e.begin, dataStart + e.end));
    const arr = e.dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    tensors[e.name] = Tensor.fromArray(arr, e.shape, e.dtype);
  }
  return { tensors, metadata };
}

/** Reads a safetensors file into CPU tensors plus its string metadata. @throws IOError naming the file. */
export function readSafetensors(file: string): SafetensorsContent {
  return decodeSafetensors(readFileChecked(file), file);
}

/** Encodes tensors (sorted by name, as the reference writer does) and metadata. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array[] {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new IOError(`argument 'metadata': value of '${k}' must be a string`, 'metadata');
    }
    header.__metadata__ = metadata;
  }
  let off = 0;
  const blobs: Uint8Array[] = [];
  for (const name of names) {
    const t = tensors[name];
    if (!(t instanceof Tensor)) throw new IOError(`argument 'tensors': '${name}' is not a Tensor`, 'tensors');
    const data = t.toTypedArray();
    header[name] = { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape.slice(), data_offsets: [off, off + data.byteLength] };
    off += data.byteLength;
    blobs.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned (as the reference does).
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  return [len, hb, ...blobs];
}

/** Writes tensors and optional string metadata as a safetensors file, atomically. @throws IOError naming the file. */
export function writeSafetensors(file: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
