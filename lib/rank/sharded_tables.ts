/**
 * Row-wise sharded embedding tables for data-parallel ranker training (`trainRanker` with
 * `dist` and `tableSharding: 'row'`; TorchRec's `ShardingType.ROW_WISE`). Each rank owns a
 * contiguous range of every table's rows ({@link rankSlice} of the rows) and holds the
 * parameters and the sparse optimizer's state of those rows only. Per step:
 *
 * 1. each rank learns which rows its part of the batch reads (the ranker's lookups, run alone
 *    against a one-row stand-in table) and the row ids are all-gathered;
 * 2. every owner answers with its rows among each rank's ids, and the answers are all-gathered;
 *    each rank builds a working table per table (the rows it reads, ascending) and the ranker's
 *    lookups read it through the table's row view;
 * 3. after the backward pass the working tables' row-sparse gradients, as global row ids, are
 *    all-gathered, and each owner keeps the rows in its range, in rank order, as its shard's
 *    gradient.
 *
 * Why the numbers equal replicated tables bit for bit: a working table keeps the global rows'
 * order, so each rank's coalesced gradient is the replicated one's; each owner sees every rank's
 * contribution to a row in rank order, as the replicated optimizer does after its all-gather; the
 * clipping norm is taken over the whole gradient (every rank has it, from the same all-gather),
 * in parameter order; and the sparse optimizers update rows independently. Sparse Adam's step
 * count per table moves when any rank touched the table, as with replicated tables, because an
 * owner with none of the touched rows still gets an empty gradient.
 *
 * The exchange is `allGather` because lib/dist has no all-to-all: every rank receives every
 * rank's ids, answers and gradient rows, not only those addressed to it, so it moves N times the
 * bytes an all-to-all would. An all-to-all (each rank receives only its answers and the gradient
 * rows it owns) can replace the two `allGather`s of step 2 and 3 behind these functions without
 * changing a number.
 * @internal
 */
import { noGrad } from '../autograd/engine.js';
import { RowSparseGrad } from '../autograd/sparse.js';
import { IndexError } from '../errors.js';
import type { Table } from '../nn/embedding.js';
import { parameter } from '../nn/module.js';
import { l2Norm, scaleToNorm } from '../nn/optim/clip.js';
import { tidy } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { rankSlice } from '../dist/slice.js';
import { concatRanks, densePayload, onDeviceOf, packRows, partStarts, setDenseGradients, type RankCommunicator } from './data_parallel.js';
import { validateSamples, type ForwardOptions, type Ranker } from './ranker.js';
import { sliceSamples, type RankSamples } from './types.js';

/** The first index of ascending `a` whose value is at least `v`. */
function lowerBound(a: Int32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * The distinct rows of one table a batch reads, and each one's place among them: a bit per row
 * of the whole table (R / 8 bytes, kept between batches) finds a first sighting in O(1), so only
 * the distinct rows are sorted, and, once sorted, a row's working-table index is the index of the
 * first row of its 32-row word plus the set bits before it in the word (O(1), where a binary
 * search costs log2 of the distinct rows on each of the batch's B·H and more lookups).
 */
class RowSet {
  private readonly bits: Uint32Array;
  /** For a word with a set bit, after {@link RowSet.sorted}: the working index of its first row. */
  private readonly first: Int32Array;
  private rows: number[] = [];
  constructor(size: number) {
    this.bits = new Uint32Array(Math.ceil(size / 32));
    this.first = new Int32Array(this.bits.length);
  }
  add(ids: Int32Array): void {
    const bits = this.bits;
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i];
      if (r < 0) continue;
      const m = 1 << (r & 31);
      if (bits[r >>> 5] & m) continue;
      bits[r >>> 5] |= m;
      this.rows.push(r);
    }
  }
  /** The rows added, ascending; {@link RowSet.indexOf} answers for them until {@link RowSet.clear}. */
  sorted(): Int32Array {
    const n = this.rows.length;
    // Reading the bits in order beats sorting once the rows are more than about 1/16 of the words.
    if (this.bits.length > 16 * n) {
      const out = Int32Array.from(this.rows).sort();
      for (let i = n - 1; i >= 0; i--) this.first[out[i] >>> 5] = i;
      return out;
    }
    const out = new Int32Array(n);
    let k = 0;
    for (let w = 0; w < this.bits.length; w++) {
      let x = this.bits[w];
      if (x === 0) continue;
      this.first[w] = k;
      while (x !== 0) {
        out[k++] = (w << 5) | (31 - Math.clz32(x & -x));
        x &= x - 1;
      }
    }
    return out;
  }
  /** The index of row `r` (added) among the sorted rows; -1 when it was not added. */
  indexOf(r: number): number {
    const w = r >>> 5;
    const below = this.bits[w] & ((1 << (r & 31)) - 1);
    return this.bits[w] & (1 << (r & 31)) ? this.first[w] + popcount(below) : -1;
  }
  /** Empty again. */
  clear(): void {
    for (const r of this.rows) this.bits[r >>> 5] = 0;
    this.rows = [];
  }
}

/** A float32 tensor of zeros [rows, width] on `like`'s device (a stand-in or an empty working table). */
function zeros(rows: number, width: number, like: Tensor): Tensor {
  return onDeviceOf(new Float32Array(rows * width), [rows, width], like);
}

/** The rows of the current batch each table reads (global ids, ascending) and the working tables holding them. */
interface Working {
  rows: Int32Array[];
  tables: Tensor[];
}

/**
 * The row-wise sharded state of one ranker's embedding tables on one rank, and the collectives of
 * a sharded step. Every method that exchanges is collective: all ranks call it in the same order.
 */
export class RowSharding {
  /** The ranker's tables, in parameter order. */
  readonly tables: Table[];
  /** Rows of each whole table (the OOV row included). */
  readonly totalRows: number[];
  /** Floats per row of each table. */
  readonly widths: number[];
  /** This rank's rows [start, end) of each table. */
  readonly own: [number, number][];
  private working: Working | null = null;
  private sharded = false;
  private readonly rowSets: RowSet[];

  constructor(
    private readonly comm: RankCommunicator,
    ranker: Ranker,
  ) {
    this.tables = ranker.embeddingTables();
    this.totalRows = this.tables.map((t) => t.totalRows);
    this.widths = this.tables.map((t) => t.weight.shape[1]);
    this.own = this.totalRows.map((n) => rankSlice(n, comm.worldSize, comm.rank));
    this.rowSets = this.totalRows.map((n) => new RowSet(n));
    // A ranker built sharded (RankerBuildOptions.tableShard) already holds this rank's rows.
    this.prebuilt = ranker.tableShard !== null;
    if (this.prebuilt) {
      this.tables.forEach((tab, t) => {
        const b = tab.builtRows;
        if (!b || b[0] !== this.own[t][0] || b[1] !== this.own[t][1])
          throw new Error(`internal: table ${t} was built with rows other than rank ${comm.rank}'s of ${comm.worldSize}`);
      });
      this.sharded = true;
    }
  }

  /** Whether the ranker was built sharded: the tables are never whole (no {@link RowSharding.shard} or unshard). */
  readonly prebuilt: boolean;

  /** Rows [start, end) of table `t` that rank `r` owns. */
  range(t: number, r: number): [number, number] {
    return rankSlice(this.totalRows[t], this.comm.worldSize, r);
  }

  /** The table whose shard `p` is, or -1. */
  tableOf(p: Tensor): number {
    return this.sharded ? this.tables.findIndex((t) => t.weight === p) : -1;
  }

  /** Keeps only this rank's rows of every table; the whole tables are disposed (nothing to do when built sharded). */
  shard(): void {
    if (this.prebuilt) return;
    this.tables.forEach((tab, t) => {
      const [s, e] = this.own[t];
      const w = this.widths[t];
      const full = tab.weight;
      tab.swapWeight(parameter(onDeviceOf(full.f32().slice(s * w, e * w), [e - s, w], full))).dispose();
    });
    this.sharded = true;
  }

  /** Every table whole again on every rank, from the ranks' shards (one allGather per table). */
  unshard(): void {
    this.tables.forEach((tab, t) => {
      const part = tab.weight;
      const full = this.gatherRows(part.f32());
      tab.swapWeight(parameter(onDeviceOf(full, [this.totalRows[t], this.widths[t]], part))).dispose();
    });
    this.sharded = false;
  }

  /** The whole array whose rows the ranks hold in rank order, from this rank's `part` (collective). */
  gatherRows(part: Float32Array): Float32Array {
    const parts = this.comm.allGather(part);
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * The rows of each table that `ranker.forward(batch, drops)` reads, ascending: the lookups run
   * alone, without gradients, against a one-row stand-in per table whose row view records the
   * ids. An id outside a table throws the IndexError the real lookup would.
   */
  rowsRead(ranker: Ranker, batch: RankSamples, drops: ForwardOptions): Int32Array[] {
    validateSamples(batch, ranker.items.numItems, 'batch');
    const standIns = this.tables.map((tab, t) => zeros(1, this.widths[t], tab.weight));
    this.tables.forEach((tab, t) => {
      const rows = this.totalRows[t];
      tab.rowView = {
        weight: standIns[t],
        local: (ids) => {
          const out = new Int32Array(ids.length);
          for (let i = 0; i < ids.length; i++) {
            const r = ids[i];
            if (r >= rows) throw new IndexError(`argument 'ids': row ${r} is outside the table [0, ${rows})`, 'ids');
            out[i] = r < 0 ? r : 0;
          }
          this.rowSets[t].add(ids);
          return out;
        },
      };
    });
    try {
      noGrad(() =>
        tidy(() => {
          ranker.embedInputs(batch, drops);
        }),
      );
    } catch (e) {
      // A bad id stopped the lookups: clear the rows seen so far for the next batch.
      for (const set of this.rowSets) set.clear();
      throw e;
    } finally {
      for (const tab of this.tables) tab.rowView = null;
      for (const s of standIns) s.dispose();
    }
    // The sets keep the rows until release(): the working tables' row views read them.
    return this.rowSets.map((set) => set.sorted());
  }

  /**
   * Brings the rows `batch` (this rank's part, possibly empty) reads from their owners and routes
   * the tables' lookups to them (working tables; with `trainable`, leaves that collect the batch's
   * gradient). Two allGathers: the ids every rank needs, then every owner's answers. Undo with
   * {@link RowSharding.release}.
   */
  lookup(ranker: Ranker, batch: RankSamples, drops: ForwardOptions, trainable: boolean): void {
    const need = batch.size ? this.rowsRead(ranker, batch, drops) : this.tables.map(() => new Int32Array(0));
    const asked = this.comm.allGather(packRows(need.map((indices) => ({ indices, values: new Float32Array(0) }))).ids);
    const N = this.comm.worldSize;
    const T = this.tables.length;
    const idsOf = (r: number, t: number) => {
      const at = partStarts(
        asked,
        this.tables.map(() => 0),
        t,
      )[r][0];
      return asked[r].subarray(at, at + asked[r][t]);
    };
    // seg[o][r][t]: rank r's ids of table t that rank o owns, as [lo, hi) of idsOf(r, t).
    const seg = Array.from({ length: N }, (_, o) =>
      Array.from({ length: N }, (_, r) =>
        Array.from({ length: T }, (_, t) => {
          const ids = idsOf(r, t);
          const [s, e] = this.range(t, o);
          return [lowerBound(ids, s), lowerBound(ids, e)] as const;
        }),
      ),
    );
    // This rank's answer: for every rank r, every table t, its rows among r's ids.
    const me = this.comm.rank;
    let size = 0;
    for (let r = 0; r < N; r++) for (let t = 0; t < T; t++) size += (seg[me][r][t][1] - seg[me][r][t][0]) * this.widths[t];
    const answer = new Float32Array(size);
    let o = 0;
    for (let r = 0; r < N; r++) {
      for (let t = 0; t < T; t++) {
        const [lo, hi] = seg[me][r][t];
        const ids = idsOf(r, t);
        const w = this.widths[t];
        const shard = this.tables[t].weight.f32();
        const s = this.own[t][0];
        for (let i = lo; i < hi; i++) for (let j = 0, src = (ids[i] - s) * w; j < w; j++) answer[o++] = shard[src + j];
      }
    }
    const answers = this.comm.allGather(answer);
    // Owners in rank order hold ascending ranges, so their answers concatenate in id order.
    const tables = need.map((ids, t) => {
      const w = this.widths[t];
      const like = this.tables[t].weight;
      if (ids.length === 0) return zeros(1, w, like);
      const vals = new Float32Array(ids.length * w);
      let filled = 0;
      for (let owner = 0; owner < N; owner++) {
        let at = 0;
        for (let r = 0; r < me; r++) for (let u = 0; u < T; u++) at += (seg[owner][r][u][1] - seg[owner][r][u][0]) * this.widths[u];
        for (let u = 0; u < t; u++) at += (seg[owner][me][u][1] - seg[owner][me][u][0]) * this.widths[u];
        const c = seg[owner][me][t][1] - seg[owner][me][t][0];
        vals.set(answers[owner].subarray(at, at + c * w), filled * w);
        filled += c;
      }
      const x = onDeviceOf(vals, [ids.length, w], like);
      if (trainable) x.requiresGrad = true;
      return x;
    });
    this.tables.forEach((tab, t) => {
      const set = this.rowSets[t];
      tab.rowView = {
        weight: tables[t],
        local: (rows) => {
          const out = new Int32Array(rows.length);
          for (let i = 0; i < rows.length; i++) {
            const r = rows[i];
            if (r < 0) {
              out[i] = r;
              continue;
            }
            const k = set.indexOf(r);
            if (k < 0) throw new Error(`internal: row ${r} of table ${t} was not fetched for this batch`);
            out[i] = k;
          }
          return out;
        },
      };
    });
    this.working = { rows: need, tables };
  }

  /** Ends a {@link RowSharding.lookup}: the tables read their own weights again; the working tables are disposed. */
  release(): void {
    for (const tab of this.tables) tab.rowView = null;
    for (const set of this.rowSets) set.clear();
    if (!this.working) return;
    for (const x of this.working.tables) {
      x.grad?.dispose();
      x.grad = null;
      x.dispose();
    }
    this.working = null;
  }

  /**
   * After the backward pass of a {@link RowSharding.lookup}: makes every rank's gradients those of
   * the global batch. The dense gradients are all-reduced as with replicated tables; the working
   * tables' gradients (coalesced, as global row ids) are all-gathered and each shard gets the rows
   * it owns, in rank order. With `maxGradNorm`, clips by the norm of the whole gradient, taken in
   * the order of `params` (the ranker's parameters). Returns the global batch's loss.
   */
  syncGradients(dense: Tensor[], loss: number, params: Tensor[], maxGradNorm: number | undefined): number {
    const work = this.working;
    if (!work) throw new Error('internal: syncGradients without a lookup');
    const rows = work.tables.map((x, t) => {
      const g = x.grad;
      if (!(g instanceof RowSparseGrad)) return null;
      const c = g.coalesce();
      const local = c.indices.readHost() as Int32Array;
      const values = c.values.readHost() as Float32Array;
      if (c !== g) c.dispose();
      const global = work.rows[t];
      const indices = new Int32Array(local.length);
      for (let i = 0; i < local.length; i++) indices[i] = global[local[i]];
      return { indices, values };
    });
    const payload = densePayload(dense, loss);
    const packed = packRows(rows);
    const sum = this.comm.allReduce(payload);
    const allIds = this.comm.allGather(packed.ids);
    const allValues = this.comm.allGather(packed.values);
    const total = setDenseGradients(dense, sum);
    this.tables.forEach((tab, t) => this.setShardGradient(tab.weight, t, allIds, allValues));
    if (maxGradNorm) this.clip(params, maxGradNorm, allIds, allValues);
    return total;
  }

  /** Table `t`'s gathered gradient rows in this rank's range, in rank order, as its shard's gradient. */
  private setShardGradient(shard: Tensor, t: number, allIds: Int32Array[], allValues: Float32Array[]): void {
    const [s, e] = this.own[t];
    const w = this.widths[t];
    const picked: { ids: Int32Array; vals: Float32Array }[] = [];
    let touched = 0;
    let n = 0;
    partStarts(allIds, this.widths, t).forEach(([io, vo], r) => {
      const ids = allIds[r].subarray(io, io + allIds[r][t]);
      touched += ids.length;
      // A rank's coalesced ids are ascending: the owned ones are one run.
      const lo = lowerBound(ids, s);
      const hi = lowerBound(ids, e);
      picked.push({ ids: ids.subarray(lo, hi), vals: allValues[r].subarray(vo + lo * w, vo + hi * w) });
      n += hi - lo;
    });
    shard.grad?.dispose();
    if (touched === 0) {
      shard.grad = null;
      return;
    }
    const idx = new Int32Array(n);
    const vals = new Float32Array(n * w);
    let o = 0;
    for (const p of picked) {
      for (let i = 0; i < p.ids.length; i++) idx[o + i] = p.ids[i] - s;
      vals.set(p.vals, o * w);
      o += p.ids.length;
    }
    shard.grad = new RowSparseGrad(onDeviceOf(idx, [n], shard), onDeviceOf(vals, [n, w], shard), [e - s, w]);
  }

  /**
   * `clipGradNorm` over the whole gradient while this rank holds its rows: the norm adds, in
   * parameter order, each table's whole coalesced gradient (rebuilt from the all-gathered rows,
   * as replicated tables hold it) and the dense gradients; the shards' and the dense gradients
   * are scaled as clipGradNorm scales them.
   */
  private clip(params: Tensor[], maxNorm: number, allIds: Int32Array[], allValues: Float32Array[]): void {
    const forNorm: Float32Array[] = [];
    const toScale: Float32Array[] = [];
    for (const p of params) {
      const t = this.tableOf(p);
      if (t >= 0) {
        const { idx, vals } = concatRanks(allIds, allValues, this.widths, t);
        if (idx.length) {
          const shape = [this.totalRows[t], this.widths[t]];
          const whole = new RowSparseGrad(Tensor.fromArray(idx, [idx.length], 'int32'), Tensor.fromArray(vals, [idx.length, shape[1]], 'float32'), shape);
          const c = whole.coalesce();
          forNorm.push(Float32Array.from(c.values.f32()));
          if (c !== whole) c.dispose();
          whole.dispose();
        }
      } else if (p.grad) {
        forNorm.push((p.grad as Tensor).f32());
      }
      const g = p.grad;
      if (!g) continue;
      if (g instanceof RowSparseGrad) {
        const c = g.coalesce();
        if (c !== g) {
          g.dispose();
          p.grad = c.keep();
        }
        toScale.push(c.values.f32());
      } else {
        toScale.push((g as Tensor).f32());
      }
    }
    scaleToNorm(toScale, l2Norm(forNorm), maxNorm);
  }

  /**
   * Click probabilities of this rank's contiguous part of `samples` ({@link rankSlice}), in
   * chunks of `batchSize` as `Ranker.predict`, each chunk's rows fetched from their owners. Every
   * rank runs as many chunks as the largest part needs (an empty one still answers the others).
   */
  predict(ranker: Ranker, samples: RankSamples, batchSize = 4096): Float32Array {
    const N = this.comm.worldSize;
    const [s, e] = rankSlice(samples.size, N, this.comm.rank);
    const mine = sliceSamples(samples, s, e);
    const [s0, e0] = rankSlice(samples.size, N, 0);
    const out = new Float32Array(e - s);
    for (let b = 0; b < e0 - s0; b += batchSize) {
      const chunk = sliceSamples(mine, Math.min(b, mine.size), Math.min(b + batchSize, mine.size));
      this.lookup(ranker, chunk, {}, false);
      try {
        if (chunk.size)
          tidy(() =>
            noGrad(() => {
              const logits = ranker.forward(chunk).readHost();
              for (let i = 0; i < logits.length; i++) out[b + i] = 1 / (1 + Math.exp(-logits[i]));
            }),
          );
      } finally {
        this.release();
      }
    }
    return out;
  }
}
