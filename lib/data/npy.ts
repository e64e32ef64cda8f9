/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0 read; 1.0 written, 2.0 when the header
 * needs it): little-endian float32 (`<f4`) and int32 (`<i4`), C order. Float64 and int64 files
 * are rejected rather than silently narrowed.
 */
import { IOError } from '../errors.js';
import type { DType } from '../tensor/dtype.js';
import { shapeSize, Tensor } from '../tensor/tensor.js';
import { readFileChecked, writeFileAtomic } from './atomic.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/**
 * Headers beyond this are refused as corruption (real ones are < 200 bytes). It is far above
 * 65536 because {@link encodeNpy} writes version 2.0 once a header passes the uint16 length
 * (thousands of dimensions), and those files must read back.
 */
const MAX_HEADER = 1 << 20;

const DESCR: Record<string, DType> = { '<f4': 'float32', '<i4': 'int32', '|f4': 'float32', '|i4': 'int32' };

function fail(file: string, why: string): never {
  throw new IOError(`'${file}' is not a valid float32/int32 .npy file: ${why}`, 'path');
}

/** Parses the Python-literal header dict numpy writes ({'descr': ..., 'fortran_order': ..., 'shape': (...), }). */
function parseHeader(file: string, text: string): { dtype: DType; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) fail(file, `malformed header ${JSON.stringify(text.slice(0, 120))}`);
  if (!text.trim().startsWith('{') || !text.trim().endsWith('}')) fail(file, 'header is not a dict');
  const dtype = DESCR[descr[1]];
  if (!dtype) fail(file, `unsupported dtype '${descr[1]}' (need '<f4' or '<i4')`);
  if (fortran[1] === 'True') fail(file, 'Fortran order is not supported (save with C order)');
  const dims: number[] = [];
  for (const part of shape[1].split(',')) {
    const s = part.trim();
    if (s === '') continue;
    if (!/^\d+$/.test(s)) fail(file, `bad shape entry '${s}'`);
    const d = Number(s);
    if (!Number.isSafeInteger(d) || d > 0x7fffffff) fail(file, `shape entry ${s} is too large`);
    dims.push(d);
  }
  return { dtype, shape: dims };
}

/** A `.npy` header: the array's dtype and shape and the byte offset where its data starts. */
export interface NpyHeader {
  dtype: DType;
  shape: number[];
  dataStart: number;
}

/**
 * Decodes the header of a `.npy` image; `buf` needs to hold the header only (a file's first
 * bytes), so a reader can then fetch just the rows it wants. `file` only names it in errors.
 */
export function decodeNpyHeader(buf: Uint8Array, file: string): NpyHeader {
  if (buf.byteLength < 10 || MAGIC.some((b, i) => buf[i] !== b)) fail(file, 'bad magic (truncated or not .npy)');
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.byteLength < 12) fail(file, 'truncated header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    fail(file, `unsupported format version ${major}`);
  }
  if (headerLen > MAX_HEADER) fail(file, `header of ${headerLen} bytes exceeds ${MAX_HEADER}`);
  if (start + headerLen > buf.byteLength) fail(file, 'truncated header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + headerLen));
  return { ...parseHeader(file, text), dataStart: start + headerLen };
}

/** Bytes a header can take at most (preamble included): a reader of the header alone reads this much. */
export const NPY_MAX_HEADER_BYTES = 12 + MAX_HEADER;

/**
 * Checks that `have` data bytes are exactly what `shape` (of 4-byte elements) needs, and
 * returns that length. @throws IOError naming `file` on truncated or trailing data.
 */
export function checkNpyDataLength(shape: readonly number[], have: number, file: string): number {
  const need = shapeSize(shape) * 4;
  if (!Number.isSafeInteger(need)) fail(file, 'shape too large');
  if (have < need) fail(file, `truncated data: header says shape [${shape.join(', ')}] (${need} bytes), file holds ${have}`);
  if (have > need) fail(file, `${have - need} trailing bytes after the data of shape [${shape.join(', ')}]`);
  return need;
}

/** Decodes a `.npy` image held in memory; `file` only names it in errors. */
export function decodeNpy(buf: Uint8Array, file = '<buffer>'): Tensor {
  const { dtype, shape, dataStart } = decodeNpyHeader(buf, file);
  const need = checkNpyDataLength(shape, buf.byteLength - dataStart, file);
  // Copy into a fresh aligned array (the file buffer's data offset need not be 4-aligned).
  const bytes = new Uint8Array(need);
  bytes.set(buf.subarray(dataStart, dataStart + need));
  const arr = dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
  return Tensor.fromArray(arr, shape, dtype);
}

/** Reads a `.npy` file into a CPU tensor. @throws IOError naming the file. */
export function readNpy(file: string): Tensor {
  return decodeNpy(readFileChecked(file), file);
}

/** Encodes a CPU tensor as a `.npy` image (little-endian, C order). */
export function encodeNpy(t: Tensor): Uint8Array[] {
  const descr = t.dtype === 'int32' ? '<i4' : '<f4';
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so the data starts on a 64-byte boundary, ending with '\n' (numpy's rule).
  let major = 1;
  let pre = 10;
  if (dict.length + 1 + pre > 0xffff) {
    major = 2;
    pre = 12;
  }
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const head = new Uint8Array(pre + dict.length);
  head.set(MAGIC, 0);
  head[6] = major;
  head[7] = 0;
  const dv = new DataView(head.buffer);
  if (major === 1) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) head[pre + i] = dict.charCodeAt(i);
  const data = t.toTypedArray();
  return [head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

/** Writes a float32 or int32 tensor as a `.npy` file, atomically. @throws IOError naming the file. */
export function writeNpy(file: string, t: Tensor): void {
  writeFileAtomic(file, encodeNpy(t));
}
