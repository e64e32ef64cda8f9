/**
 * Row ranges of a `.npy` file without reading the rest: the header is decoded from the file's
 * first bytes and only the bytes of the wanted rows are read, so a job-array task holds its own
 * shard of a catalogue in memory, not the whole catalogue.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { IOError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkNpyDataLength, decodeNpyHeader, NPY_MAX_HEADER_BYTES, type NpyHeader } from './npy.js';

function withFile<T>(file: string, arg: string, body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new IOError(`cannot read '${file}': ${(e as Error).message}`, arg);
  }
  try {
    return body(fd);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, into: Uint8Array, position: number, file: string, arg: string): void {
  let off = 0;
  while (off < into.byteLength) {
    let got: number;
    try {
      got = readSync(fd, into, off, into.byteLength - off, position + off);
    } catch (e) {
      throw new IOError(`cannot read '${file}': ${(e as Error).message}`, arg);
    }
    if (got === 0) throw new IOError(`'${file}' is shorter than its header says (file changed while reading?)`, arg);
    off += got;
  }
}

function header(fd: number, file: string, arg: string): NpyHeader {
  const size = fstatSync(fd).size;
  const head = new Uint8Array(Math.min(size, NPY_MAX_HEADER_BYTES));
  readAt(fd, head, 0, file, arg);
  const h = withArg(() => decodeNpyHeader(head, file), arg);
  withArg(() => checkNpyDataLength(h.shape, size - h.dataStart, file), arg);
  return h;
}

/** Re-labels a reader's IOError (argument 'path') with the caller's argument name. */
function withArg<T>(f: () => T, arg: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof IOError) throw new IOError(e.message, arg);
    throw e;
  }
}

/**
 * dtype and shape of a `.npy` file, read from its header; the file size is checked against the
 * shape. @throws IOError (argument `arg`) naming the file when it is missing or not a valid .npy.
 */
export function readNpyHeader(file: string, arg = 'path'): Pick<NpyHeader, 'dtype' | 'shape'> {
  return withFile(file, arg, (fd) => {
    const { dtype, shape } = header(fd, file, arg);
    return { dtype, shape };
  });
}

/**
 * Rows `[start, end)` (along the first axis) of a `.npy` file as a CPU tensor, reading only
 * those rows' bytes. @throws ValueError for a range outside the array; IOError naming the file.
 */
export function readNpyRows(file: string, start: number, end: number, arg = 'path'): Tensor {
  return withFile(file, arg, (fd) => {
    const { dtype, shape, dataStart } = header(fd, file, arg);
    if (shape.length < 1) throw new ValueError(`'${file}' holds a scalar, not rows`, arg);
    const n = shape[0];
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > n) {
      throw new ValueError(`rows [${start}, ${end}) are outside the ${n} rows of '${file}'`, arg);
    }
    let rowElems = 1;
    for (const d of shape.slice(1)) rowElems *= d;
    const bytes = new Uint8Array((end - start) * rowElems * 4);
    readAt(fd, bytes, dataStart + start * rowElems * 4, file, arg);
    const arr = dtype === 'int32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    return Tensor.fromArray(arr, [end - start, ...shape.slice(1)], dtype);
  });
}
