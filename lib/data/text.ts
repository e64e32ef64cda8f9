/** Text features for item content: tokenisation and sparse TF-IDF matrices (word and char n-gram). */

/** Lower-cased words of `text`: runs of letters or of digits (`"T-LIGHT HOLDER 6"` → t, light, holder, 6). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|[0-9]+/g) ?? [];
}

/**
 * Character n-grams of each word padded with one space on each side (sklearn's `char_wb`):
 * `"mug"` with n = 3 → `" mu", "mug", "ug "`. Words shorter than n give the padded word itself.
 */
export function charNgrams(text: string, minN = 3, maxN = 5): string[] {
  const out: string[] = [];
  for (const w of tokenize(text)) {
    const p = ` ${w} `;
    for (let n = minN; n <= maxN; n++) {
      if (p.length <= n) {
        if (n === minN) out.push(p);
        break;
      }
      for (let i = 0; i + n <= p.length; i++) out.push(p.slice(i, i + n));
    }
  }
  return out;
}

/** A sparse row-major (CSR) float64 matrix. */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** Options of {@link tfidf}. */
export interface TfidfOptions {
  /** 1 + log(tf) instead of tf (default true: repeated n-grams in a short name add little). */
  sublinear?: boolean;
  /** Terms in fewer documents are dropped (default 1). */
  minDf?: number;
  /** L2-normalise each row (default true). */
  normalize?: boolean;
}

/**
 * TF-IDF of tokenised documents with the smooth idf `ln((1 + N) / (1 + df)) + 1`.
 * Returns the matrix, the vocabulary (column order: first appearance) and the idf per column.
 */
export function tfidf(docs: readonly string[][], opts: TfidfOptions = {}): { matrix: Csr; vocab: string[]; idf: Float64Array } {
  const sublinear = opts.sublinear ?? true;
  const minDf = opts.minDf ?? 1;
  const normalize = opts.normalize ?? true;
  const df = new Map<string, number>();
  for (const d of docs) for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  const vocab: string[] = [];
  const col = new Map<string, number>();
  for (const [t, n] of df) {
    if (n >= minDf) {
      col.set(t, vocab.length);
      vocab.push(t);
    }
  }
  const N = docs.length;
  const idf = Float64Array.from(vocab, (t) => Math.log((1 + N) / (1 + df.get(t)!)) + 1);
  const indptr = new Int32Array(N + 1);
  const idx: number[] = [];
  const val: number[] = [];
  docs.forEach((d, r) => {
    const tf = new Map<number, number>();
    for (const t of d) {
      const c = col.get(t);
      if (c !== undefined) tf.set(c, (tf.get(c) ?? 0) + 1);
    }
    const entries = [...tf.entries()].sort((a, b) => a[0] - b[0]);
    let norm = 0;
    const w = entries.map(([c, n]) => {
      const v = (sublinear ? 1 + Math.log(n) : n) * idf[c];
      norm += v * v;
      return v;
    });
    const s = normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
    entries.forEach(([c], i) => {
      idx.push(c);
      val.push(w[i] * s);
    });
    indptr[r + 1] = idx.length;
  });
  return { matrix: { rows: N, cols: vocab.length, indptr, indices: Int32Array.from(idx), values: Float64Array.from(val) }, vocab, idf };
}
