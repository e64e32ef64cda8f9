/**
 * Crash-safe file writes: the bytes go to a temp file in the target's directory, are fsynced,
 * renamed over the target, and the directory is fsynced, so a reader sees either the old file
 * or the whole new one, never a torn write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IOError, ValueError } from '../errors.js';

let counter = 0;

function fsyncDir(dir: string): void {
  // Directory fsync makes the rename durable; some platforms (Windows) cannot open a
  // directory for it, which is not an error worth failing the write for.
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* best effort */
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes `data` (one buffer or a list written in order) to `file` atomically.
 * @throws IOError naming the file when any step fails; the temp file is removed.
 */
export function writeFileAtomic(file: string, data: Uint8Array | readonly Uint8Array[]): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  const parts = data instanceof Uint8Array ? [data] : data;
  if (!Array.isArray(parts) || !parts.every((p) => p instanceof Uint8Array)) {
    throw new ValueError("argument 'data' must be a Uint8Array or an array of them", 'data');
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (const p of parts) {
      let off = 0;
      while (off < p.byteLength) off += fs.writeSync(fd, p, off, p.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* may not exist */
    }
    throw new IOError(`cannot write '${file}': ${(e as Error).message}`, 'path');
  }
  fsyncDir(dir);
}

/** Reads a whole file, turning a failure into an IOError naming it. @internal */
export function readFileChecked(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new IOError(`cannot read '${file}': ${(e as Error).message}`, 'path');
  }
}
