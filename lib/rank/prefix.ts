/**
 * Which embedding-table row each item's RQ code reads, per level: either the code itself
 * (`'levels'`, one table per level, QARM's 2024 layout) or the code's *prefix* (`'prefix'`,
 * one table per prefix length (c1), (c1,c2), … (c1..cL), the layout of Meta's prefix-ngram
 * semantic IDs and Google's n-gram SIDs): a row of the length-p table belongs to the items
 * sharing the first p codes, so a fine row is never shared by items under different parents.
 *
 * Prefix rows: the exact mixed-radix index c1·n2·…·np + … + cp while the number of possible
 * prefixes n1·…·np fits in `tableSize`, else a seeded hash of the tuple modulo `tableSize`.
 *
 * Untrained rows: items with id below `vocabItems` are the ones training sees (the pipeline's
 * warm items, the ranker's item-id vocabulary). A code (levels) or prefix that none of them
 * has would read a row no gradient ever reached, i.e. random initial weights; such entries of
 * the other items read row −1 instead (the zero padding row), so the ranker falls back to the
 * coarser levels it knows. Because a prefix extends its parent, once a prefix is unseen every
 * longer one is too.
 */
import { fmix32 } from './hash.js';
import type { RQFeature } from './types.js';

/** How RQ codes become embedding rows (see the module comment). */
export type CodeMode = 'levels' | 'prefix';

export interface CodeRowsOptions {
  mode: CodeMode;
  /** Rows of a prefix table when its exact prefixes do not fit (prefix mode). */
  tableSize: number;
  /** Seed of the prefix hash. */
  hashSeed: number;
  /** Items [0, vocabItems) are the trained ones (see the module comment). */
  vocabItems: number;
}

/** Every item's row per level, and what the mapping cost. */
export interface CodeRows {
  /** int32 [numItems * levels]: the row of item i's level/prefix l at `i * levels + l`; −1 = the zero row. */
  rows: Int32Array;
  levels: number;
  /** Rows of each level's/prefix length's table. */
  tableSizes: number[];
  /** Per table: true when its rows are hashed (prefix mode, the exact prefixes did not fit). */
  hashed: boolean[];
  /** Per table: distinct codes/prefixes the trained items have (each owns a row). */
  distinct: number[];
  /** Per table: how many of those share a row with another one (distinct − distinct rows). */
  collisions: number[];
  /** Per table: items outside the trained ones whose code/prefix no trained item has (they read −1). */
  unseen: number[];
}

function sizesOf(rq: RQFeature): number[] {
  const { levels, codebookSize } = rq;
  return typeof codebookSize === 'number' ? new Array<number>(levels).fill(codebookSize) : [...codebookSize];
}

/** The rows of every item's codes (see the module comment); `rq` is assumed validated. */
export function codeRows(rq: RQFeature, numItems: number, opts: CodeRowsOptions): CodeRows {
  const L = rq.levels;
  const sizes = sizesOf(rq);
  const codes = rq.codes;
  const rows = new Int32Array(numItems * L);
  const vocab = Math.min(numItems, Math.max(0, opts.vocabItems));
  const tableSizes: number[] = [];
  const hashed: boolean[] = [];
  // Exact tuple keys of the hashed lengths (rows alone cannot tell a collision from a shared prefix).
  const keys: (string[] | null)[] = [];
  if (opts.mode === 'levels') {
    rows.set(codes.subarray(0, numItems * L));
    for (let l = 0; l < L; l++) {
      tableSizes.push(sizes[l]);
      hashed.push(false);
      keys.push(null);
    }
  } else {
    let exact = 1;
    const h = new Uint32Array(numItems).fill(fmix32(opts.hashSeed >>> 0));
    for (let p = 0; p < L; p++) {
      exact *= sizes[p];
      const fits = exact <= opts.tableSize;
      tableSizes.push(fits ? exact : opts.tableSize);
      hashed.push(!fits);
      const k: string[] | null = fits ? null : new Array<string>(numItems);
      for (let i = 0; i < numItems; i++) {
        const c = codes[i * L + p];
        // A chained hash of (c1..cp): fmix32 is a bijection, so two tuples with the same parent
        // hash and different codes never share the 32-bit hash; rows collide only modulo tableSize.
        h[i] = fmix32(h[i] ^ fmix32((c + Math.imul(p + 1, 0x9e3779b1)) >>> 0));
        if (fits) rows[i * L + p] = p === 0 ? c : rows[i * L + p - 1] * sizes[p] + c;
        else {
          rows[i * L + p] = h[i] % opts.tableSize;
          k![i] = p > 0 && keys[p - 1] ? `${keys[p - 1]![i]},${c}` : prefixKey(codes, i, L, p);
        }
      }
      keys.push(k);
    }
  }
  const distinct: number[] = [];
  const collisions: number[] = [];
  const unseen: number[] = [];
  for (let l = 0; l < L; l++) {
    const key = keys[l];
    const seenKeys = new Set<string | number>();
    const usedRows = new Set<number>();
    for (let i = 0; i < vocab; i++) {
      seenKeys.add(key ? key[i] : rows[i * L + l]);
      usedRows.add(rows[i * L + l]);
    }
    let u = 0;
    for (let i = vocab; i < numItems; i++) {
      if (!seenKeys.has(key ? key[i] : rows[i * L + l])) {
        rows[i * L + l] = -1;
        u++;
      }
    }
    distinct.push(seenKeys.size);
    collisions.push(seenKeys.size - usedRows.size);
    unseen.push(u);
  }
  return { rows, levels: L, tableSizes, hashed, distinct, collisions, unseen };
}

function prefixKey(codes: Int32Array, i: number, L: number, p: number): string {
  let s = String(codes[i * L]);
  for (let l = 1; l <= p; l++) s += `,${codes[i * L + l]}`;
  return s;
}
