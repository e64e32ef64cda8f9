/**
 * The miners' internal form of a {@link ScoreTable}: n×n item–item scores held either densely
 * (row-major float64 when n² ≤ 2^24; symmetric matrices fill only the upper triangle) or as CSR
 * rows in ascending column order.
 * A `Map` per row costs a hash and ~100 bytes per entry; the miners produce millions of entries,
 * and building, scanning and sorting them as Maps was most of pair mining's time. Absent
 * entries, zeros and the diagonal all read as 0. Not part of the public API: the miners in
 * pairs.ts convert to `ScoreTable` only when a caller asks for one.
 */
import type { ScoreTable } from './pairs.js';

/** Largest n² stored densely (128 MiB of float64), as the accumulators always did. */
const DENSE_LIMIT = 1 << 24;

/**
 * Item–item scores; see the file comment. Symmetric when built by the miners ({@link
 * PairAccumulator}); {@link ScoreMatrix.fromTable} keeps a table's rows as they are.
 */
export class ScoreMatrix {
  private constructor(
    readonly n: number,
    /**
     * Dense backend, row-major n×n. Symmetric matrices fill only the upper triangle (cell
     * i < j at `i·n + j`): half the memory traffic, and the lower half's pages are never touched.
     */
    readonly dense: Float64Array | null,
    /** True when `dense` holds only the upper triangle of a symmetric matrix. */
    readonly upper: boolean,
    /** CSR: row i's entries are `cols/vals[rowPtr[i] .. rowPtr[i+1])`, ascending columns. */
    readonly rowPtr: Int32Array | null,
    readonly cols: Int32Array | null,
    readonly vals: Float64Array | null,
  ) {}

  /** A dense matrix over `values` (row-major n×n, taken as is; `upper`: see {@link dense}). */
  static fromDense(n: number, values: Float64Array, upper: boolean): ScoreMatrix {
    return new ScoreMatrix(n, values, upper, null, null, null);
  }

  /** A sparse matrix from CSR arrays (rows in ascending column order, taken as is). */
  static fromCSR(n: number, rowPtr: Int32Array, cols: Int32Array, vals: Float64Array): ScoreMatrix {
    return new ScoreMatrix(n, null, false, rowPtr, cols, vals);
  }

  /**
   * Row i of the matrix is `table[i]` exactly (no symmetry assumed): `get(i, j)` equals
   * `table[i].get(j) ?? 0`. Keys that are not item indices are dropped (nothing can look them up).
   * Dense when n² ≤ 2^24, unless `sparse` forces CSR.
   */
  static fromTable(table: ScoreTable, sparse = false): ScoreMatrix {
    const n = table.length;
    const ok = (j: number): boolean => Number.isInteger(j) && j >= 0 && j < n;
    if (!sparse && n * n <= DENSE_LIMIT) {
      const d = new Float64Array(n * n);
      table.forEach((m, i) => {
        for (const [j, v] of m) if (ok(j)) d[i * n + j] = Number(v ?? 0);
      });
      return ScoreMatrix.fromDense(n, d, false);
    }
    const rowPtr = new Int32Array(n + 1);
    const rows = table.map((m) => [...m].filter(([j, v]) => ok(j) && Number(v ?? 0) !== 0).sort((x, y) => x[0] - y[0]));
    rows.forEach((r, i) => (rowPtr[i + 1] = rowPtr[i] + r.length));
    const cols = new Int32Array(rowPtr[n]);
    const vals = new Float64Array(rowPtr[n]);
    rows.forEach((r, i) =>
      r.forEach(([j, v], k) => {
        cols[rowPtr[i] + k] = j;
        vals[rowPtr[i] + k] = Number(v);
      }),
    );
    return ScoreMatrix.fromCSR(n, rowPtr, cols, vals);
  }

  /** Score of (i, j); 0 when absent. */
  get(i: number, j: number): number {
    const d = this.dense;
    if (d) return this.upper ? (i < j ? d[i * this.n + j] : i > j ? d[j * this.n + i] : 0) : d[i * this.n + j];
    const cols = this.cols!;
    const end = this.rowPtr![i + 1];
    let lo = this.rowPtr![i];
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cols[mid] < j) lo = mid + 1;
      else hi = mid;
    }
    return lo < end && cols[lo] === j ? this.vals![lo] : 0;
  }

  /**
   * Calls `f(i, j, v)` for every non-zero entry, each row's entries in ascending j and rows in
   * ascending i as far as any one row is concerned (an upper-triangle matrix is scanned once in
   * key order: row r first gets its (i, r) entries, i < r, from earlier rows, then its own).
   */
  forEach(f: (i: number, j: number, v: number) => void): void {
    const n = this.n;
    const d = this.dense;
    if (d) {
      for (let i = 0; i < n; i++) {
        for (let j = this.upper ? i + 1 : 0, k = i * n + j; j < n; j++, k++) {
          const v = d[k];
          if (v === 0) continue;
          f(i, j, v);
          if (this.upper) f(j, i, v);
        }
      }
      return;
    }
    const cols = this.cols!;
    const vals = this.vals!;
    for (let i = 0; i < n; i++) for (let k = this.rowPtr![i]; k < this.rowPtr![i + 1]; k++) if (vals[k] !== 0) f(i, cols[k], vals[k]);
  }

  /** Writes row i into `out[offset .. offset + n)` as float32 (absent entries as 0). */
  copyRow(i: number, out: Float32Array, offset: number): void {
    const n = this.n;
    const d = this.dense;
    if (d && !this.upper) {
      out.set(d.subarray(i * n, (i + 1) * n), offset);
    } else if (d) {
      for (let j = 0; j < i; j++) out[offset + j] = d[j * n + i];
      out[offset + i] = 0;
      out.set(d.subarray(i * n + i + 1, (i + 1) * n), offset + i + 1);
    } else {
      out.fill(0, offset, offset + n);
      for (let k = this.rowPtr![i]; k < this.rowPtr![i + 1]; k++) out[offset + this.cols![k]] = this.vals![k];
    }
  }

  /** `f(i, j, v)` for every non-zero stored entry, in the same layout (f's zeros become absent). */
  map(f: (i: number, j: number, v: number) => number): ScoreMatrix {
    const n = this.n;
    const d = this.dense;
    if (d) {
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = this.upper ? i + 1 : 0, k = i * n + j; j < n; j++, k++) if (d[k] !== 0) out[k] = f(i, j, d[k]);
      }
      return ScoreMatrix.fromDense(n, out, this.upper);
    }
    const vals = new Float64Array(this.vals!.length);
    for (let i = 0; i < n; i++) {
      for (let k = this.rowPtr![i]; k < this.rowPtr![i + 1]; k++) if (this.vals![k] !== 0) vals[k] = f(i, this.cols![k], this.vals![k]);
    }
    return ScoreMatrix.fromCSR(n, this.rowPtr!, this.cols!, vals);
  }

  /** The public form: one Map per row, non-zero entries in ascending column order. */
  toTable(): ScoreTable {
    const t: ScoreTable = Array.from({ length: this.n }, () => new Map<number, number>());
    this.forEach((i, j, v) => t[i].set(j, v));
    return t;
  }
}

/**
 * Accumulates symmetric pair scores into a {@link ScoreMatrix}: a dense float64 upper triangle
 * when n² ≤ 2^24 (fast increments), else a Map keyed `min·n + max`, turned into CSR at the end.
 * Every cell receives its additions in call order, so sums do not depend on the backend.
 */
export class PairAccumulator {
  /** Dense backend: cell (i < j) lives at `i·n + j`; hot loops may add there directly. */
  readonly dense: Float64Array | null;
  private readonly sparse = new Map<number, number>();

  constructor(
    readonly n: number,
    /** Forces the sparse backend (tests compare the two). */
    sparse = false,
  ) {
    this.dense = !sparse && n * n <= DENSE_LIMIT ? new Float64Array(n * n) : null;
  }

  add(i: number, j: number, w: number): void {
    const key = i < j ? i * this.n + j : j * this.n + i;
    if (this.dense) this.dense[key] += w;
    else this.sparse.set(key, (this.sparse.get(key) ?? 0) + w);
  }

  /** The symmetric matrix (the accumulator must not be used afterwards). */
  finish(): ScoreMatrix {
    const n = this.n;
    if (this.dense) return ScoreMatrix.fromDense(n, this.dense, true);
    // Keys in ascending order fill each row in ascending column order (row r first gets its
    // (i, r) entries, i < r, then its (r, j) ones).
    const keys = Float64Array.from([...this.sparse.keys()].filter((k) => this.sparse.get(k) !== 0)).sort();
    const rowPtr = new Int32Array(n + 1);
    for (const k of keys) {
      const i = Math.floor(k / n);
      rowPtr[i + 1]++;
      rowPtr[k - i * n + 1]++;
    }
    for (let i = 0; i < n; i++) rowPtr[i + 1] += rowPtr[i];
    const fill = rowPtr.slice(0, n);
    const cols = new Int32Array(rowPtr[n]);
    const vals = new Float64Array(rowPtr[n]);
    for (const k of keys) {
      const i = Math.floor(k / n);
      const j = k - i * n;
      const v = this.sparse.get(k)!;
      cols[fill[i]] = j;
      vals[fill[i]++] = v;
      cols[fill[j]] = i;
      vals[fill[j]++] = v;
    }
    return ScoreMatrix.fromCSR(n, rowPtr, cols, vals);
  }
}
