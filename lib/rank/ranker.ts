/**
 * The QARM ranker: a DIN-style CTR model whose item features are QARM's quantitative codes,
 * trained end to end (the codes' embedding tables get the ranker's gradients).
 *
 * Tower input, per sample (each part only when its feature is on):
 *   user emb (d) | target item emb (d) | target RQ code embs (L·d) | mean VQ-code bag (d)
 *   | frozen embedding · projection (d) | attention-pooled history (k) | cross: pooled history
 *   items sharing the target's level-1 code (k) and its level-1+2 prefix (k) | VQ cross: pooled
 *   history items among the target's VQ codes (k) | the counts of those sets (2 or 3, scaled)
 * where a history item / the target as attention query is represented by
 * [item emb (d)] ++ [Σ_l RQ code emb (d)] ++ [mean VQ-code bag (d)] (k = d … 3d). The RQ code
 * embeddings are per level or per prefix (`codeMode`, lib/rank/prefix.ts). The tower MLP maps
 * this to one logit.
 */
import { reshape } from '../autograd/ops/shape.js';
import { embeddingLookupMulti } from '../autograd/ops/embedding.js';
import { concatLast } from '../autograd/ops/columns.js';
import { gather } from '../autograd/ops/indexing.js';
import { noGrad } from '../autograd/engine.js';
import { IndexError, ShapeError, ValueError } from '../errors.js';
import { Generator } from '../tensor/random.js';
import { rankSlice } from '../dist/slice.js';
import { tidy } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import { TargetAttention } from '../nn/attention.js';
import { Embedding, EmbeddingBag, type Table } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { MLP } from '../nn/mlp.js';
import { Module } from '../nn/module.js';
import type { FeatureSwitches, RankerConfig } from './feature_spec.js';
import { codeRows, type CodeRows } from './prefix.js';
import { RANKER_DEFAULTS as D } from './defaults.js';
import type { ItemFeatures, RankSamples } from './types.js';
import { sliceSamples } from './types.js';

type Resolved = Required<FeatureSwitches>;

/** What {@link Ranker.embedInputs} hands to the rest of the forward pass. @internal */
export interface EmbeddedInputs {
  /** The tower's input blocks so far (user, item, RQ, VQ). */
  parts: Tensor[];
  /** [B + B·H, keyDim] query and key representations, when attention runs. */
  rep: Tensor | null;
  /** [targets; padded history slots] item ids (-1 = padding), when attention runs. */
  all: Int32Array | null;
}

/**
 * Per-call options of {@link Ranker.forward}. The trainer sets the masks for item-id dropout
 * ({@link TrainOptions.itemIdDropout}); evaluation never does.
 */
export interface ForwardOptions {
  /**
   * uint8 [B]: where non-zero, the target's item-id embedding (in the tower input and as the
   * attention query) is the OOV row, as for an item never seen in training. Its codes, VQ bag
   * and dense embedding still come from its real id. Needs an item-id table with `oov`.
   */
  dropTargetIds?: Uint8Array;
  /** uint8 [B * H]: the same for history slots (slot h of sample b at `b * H + h`; padding is ignored). */
  dropHistoryIds?: Uint8Array;
  /**
   * uint8 [B]: the number of finest RQ levels (prefix lengths) of each target that read the
   * zero row instead of their code, in the tower and as the attention query (code dropout: a
   * cold item learns to be scored from its coarse codes). Values in [0, levels].
   */
  dropTargetLevels?: Uint8Array;
}

/**
 * `ids` with the entries where `mask` is set replaced by `oovId` (negative ids, i.e. padding,
 * stay); `ids` itself when no entry changes.
 */
function dropIds(ids: Int32Array, mask: Uint8Array, oovId: number, offset = 0): Int32Array {
  let out: Int32Array | null = null;
  for (let i = 0; i < mask.length; i++) {
    const j = offset + i;
    if (mask[i] && ids[j] >= 0 && ids[j] !== oovId) {
      out ??= Int32Array.from(ids);
      out[j] = oovId;
    }
  }
  return out ?? ids;
}

function posInt(name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new ValueError(`argument '${name}' must be a positive integer, got ${String(v)}`, name);
  return v as number;
}

/** Checks an item-feature table against its declared sizes (codes in range, lengths). */
export function validateItemFeatures(items: ItemFeatures): void {
  posInt('items.numItems', items.numItems);
  const N = items.numItems;
  if (items.rq) {
    const { codes, levels, codebookSize } = items.rq;
    posInt('items.rq.levels', levels);
    if (!(codes instanceof Int32Array) || codes.length !== N * levels) {
      throw new ShapeError(`argument 'items.rq.codes' must be an Int32Array of ${N}x${levels}`, 'items.rq.codes');
    }
    const sizes = typeof codebookSize === 'number' ? new Array<number>(levels).fill(codebookSize) : [...codebookSize];
    if (sizes.length !== levels) throw new ShapeError(`argument 'items.rq.codebookSize' needs ${levels} entries`, 'items.rq.codebookSize');
    sizes.forEach((s, l) => posInt(`items.rq.codebookSize[${l}]`, s));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c < 0 || c >= sizes[i % levels]) {
        throw new IndexError(
          `argument 'items.rq.codes': code ${c} of item ${Math.floor(i / levels)} level ${i % levels} is outside [0, ${sizes[i % levels]})`,
          'items.rq.codes',
        );
      }
    }
  }
  if (items.vq) {
    const { codes, k, poolSize } = items.vq;
    posInt('items.vq.k', k);
    posInt('items.vq.poolSize', poolSize);
    if (!(codes instanceof Int32Array) || codes.length !== N * k)
      throw new ShapeError(`argument 'items.vq.codes' must be an Int32Array of ${N}x${k}`, 'items.vq.codes');
    for (let i = 0; i < codes.length; i++) {
      if (codes[i] < -1 || codes[i] >= poolSize)
        throw new IndexError(`argument 'items.vq.codes': code ${codes[i]} at ${i} is outside [-1, ${poolSize})`, 'items.vq.codes');
    }
    const pi = items.vq.poolItems;
    if (pi !== undefined) {
      if (!(pi instanceof Int32Array) || pi.length !== poolSize)
        throw new ShapeError(`argument 'items.vq.poolItems' must be an Int32Array of ${poolSize} entries`, 'items.vq.poolItems');
      for (let i = 0; i < poolSize; i++) {
        if (pi[i] < 0 || pi[i] >= N) throw new IndexError(`argument 'items.vq.poolItems': item ${pi[i]} at ${i} is outside [0, ${N})`, 'items.vq.poolItems');
      }
    } else if (poolSize > N) {
      throw new ValueError(`argument 'items.vq.poolItems' is needed when the pool (${poolSize}) is larger than the item table (${N})`, 'items.vq.poolItems');
    }
  }
  if (items.dense) {
    posInt('items.dense.dim', items.dense.dim);
    if (!(items.dense.values instanceof Float32Array) || items.dense.values.length !== N * items.dense.dim) {
      throw new ShapeError(`argument 'items.dense.values' must be a Float32Array of ${N}x${items.dense.dim}`, 'items.dense.values');
    }
  }
}

/** Checks a sample set's array lengths and id ranges against the item table. */
export function validateSamples(s: RankSamples, numItems: number, name = 'samples'): void {
  const n = s.size;
  const H = s.maxHistory;
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`argument '${name}.size' must be a non-negative integer`, `${name}.size`);
  if (!Number.isInteger(H) || H < 0) throw new ValueError(`argument '${name}.maxHistory' must be a non-negative integer`, `${name}.maxHistory`);
  const lens: [string, ArrayLike<number>, number][] = [
    ['user', s.user, n],
    ['item', s.item, n],
    ['label', s.label, n],
    ['history', s.history, n * H],
    ['historyLength', s.historyLength, n],
  ];
  for (const [k, a, len] of lens) {
    if (!a || a.length !== len) throw new ShapeError(`argument '${name}.${k}' must have ${len} entries, got ${a ? a.length : 'none'}`, `${name}.${k}`);
  }
  for (let i = 0; i < n; i++) {
    if (s.item[i] < 0 || s.item[i] >= numItems)
      throw new IndexError(`argument '${name}.item': id ${s.item[i]} at ${i} is outside the item table [0, ${numItems})`, `${name}.item`);
    const L = s.historyLength[i];
    if (!(L >= 0 && L <= H)) throw new ValueError(`argument '${name}.historyLength': ${L} at ${i} is outside [0, ${H}]`, `${name}.historyLength`);
    for (let h = 0; h < L; h++) {
      const v = s.history[i * H + h];
      if (v < 0 || v >= numItems)
        throw new IndexError(`argument '${name}.history': id ${v} of sample ${i} is outside the item table [0, ${numItems})`, `${name}.history`);
    }
  }
}

/** How a {@link Ranker} is built (not part of its configuration). */
export interface RankerBuildOptions {
  /**
   * Build the embedding tables row-wise sharded: this rank keeps only its rows (`rankSlice`
   * of each table's rows over `worldSize`) of every table, bit for bit the rows the whole
   * table would get (every value is still drawn, none of the other rows is held). For
   * `trainRanker` with `dist` (the same `rank` and `worldSize`) and `tableSharding: 'row'`, which
   * then neither broadcasts nor gathers the tables and leaves them sharded. The dense layers are
   * whole. Default: whole tables.
   */
  tableShard?: { rank: number; worldSize: number };
}

/** The CTR ranker of QARM (see the module comment for its inputs). */
export class Ranker extends Module {
  /** The sharding the tables were built with ({@link RankerBuildOptions.tableShard}); null when whole. */
  readonly tableShard: { rank: number; worldSize: number } | null;
  readonly config: Required<Omit<RankerConfig, 'features'>> & { features: Resolved };
  /** The rows every item's RQ codes read (per level or per prefix; null without code tables). */
  readonly codes: CodeRows | null = null;
  readonly items: ItemFeatures;
  readonly user?: Embedding;
  readonly item?: Embedding;
  readonly rq: Embedding[] = [];
  readonly vq?: EmbeddingBag;
  readonly dense?: Linear;
  readonly attention?: TargetAttention;
  readonly tower: MLP;
  /** Width of a history item's / the query's representation. */
  readonly keyDim: number;
  /** Width of the tower's input. */
  readonly inputDim: number;
  /** Scratch of the VQ cross feature: item → last sample tag that has it among its codes. */
  private vqStamp: Int32Array | null = null;
  private vqTag = 0;

  constructor(config: RankerConfig, items: ItemFeatures, build: RankerBuildOptions = {}) {
    super();
    validateItemFeatures(items);
    const ts = build.tableShard;
    if (ts !== undefined) {
      const ok = Number.isInteger(ts.worldSize) && ts.worldSize >= 1 && Number.isInteger(ts.rank) && ts.rank >= 0 && ts.rank < ts.worldSize;
      if (!ok) throw new ValueError(`argument 'tableShard' must have 0 <= rank < worldSize, got rank ${ts.rank} of ${ts.worldSize}`, 'tableShard');
    }
    this.tableShard = ts ? { rank: ts.rank, worldSize: ts.worldSize } : null;
    /** This rank's rows of a table of `n` rows, or every row. */
    const rows = (n: number) => (ts ? { rows: rankSlice(n, ts.worldSize, ts.rank) } : {});
    posInt('numUsers', config.numUsers);
    const d = posInt('embeddingDim', config.embeddingDim ?? D.embeddingDim);
    const f = config.features ?? {};
    const rqOn = f.rq ?? !!items.rq;
    const features: Resolved = {
      userId: f.userId ?? true,
      itemId: f.itemId ?? true,
      rq: rqOn,
      vq: f.vq ?? !!items.vq,
      history: f.history ?? true,
      historyCodes: f.historyCodes ?? rqOn,
      cross: f.cross ?? !!items.rq,
      vqHistory: f.vqHistory ?? false,
      vqCross: f.vqCross ?? false,
      dense: f.dense ?? !!items.dense,
    };
    for (const [k, need] of [
      ['rq', 'rq'],
      ['historyCodes', 'rq'],
      ['cross', 'rq'],
      ['vq', 'vq'],
      ['vqHistory', 'vq'],
      ['vqCross', 'vq'],
      ['dense', 'dense'],
    ] as const) {
      if (features[k] && !items[need]) throw new ValueError(`feature '${k}' needs 'items.${need}'`, `features.${k}`);
    }
    if (features.cross && items.rq!.levels < 2) throw new ValueError("feature 'cross' needs at least 2 RQ levels", 'features.cross');
    this.config = {
      numUsers: config.numUsers,
      numItemIds: posInt('numItemIds', config.numItemIds ?? items.numItems),
      oov: config.oov ?? D.oov,
      embeddingDim: d,
      attentionHidden: config.attentionHidden ?? [...D.attentionHidden],
      hidden: config.hidden ?? [...D.hidden],
      features,
      codeMode: config.codeMode ?? D.codeMode,
      prefixTableSize: posInt('prefixTableSize', config.prefixTableSize ?? D.prefixTableSize),
      prefixHashSeed: config.prefixHashSeed ?? D.prefixHashSeed,
      countNorm: config.countNorm ?? D.countNorm,
      seed: config.seed ?? D.seed,
    };
    if (this.config.codeMode !== 'levels' && this.config.codeMode !== 'prefix')
      throw new ValueError(`argument 'codeMode' must be 'levels' or 'prefix', got ${String(this.config.codeMode)}`, 'codeMode');
    if (this.config.countNorm !== 'log1p' && this.config.countNorm !== 'scaled')
      throw new ValueError(`argument 'countNorm' must be 'log1p' or 'scaled', got ${String(this.config.countNorm)}`, 'countNorm');
    if (!Number.isInteger(this.config.prefixHashSeed)) throw new ValueError(`argument 'prefixHashSeed' must be an integer`, 'prefixHashSeed');
    this.items = items;
    const g = new Generator(this.config.seed);
    const oov = this.config.oov;
    const extra = oov ? 1 : 0;
    if (features.userId) this.user = new Embedding(config.numUsers, d, { oov, generator: g, ...rows(config.numUsers + extra) });
    const useAttention = features.history || features.cross || features.vqCross;
    if (features.itemId || (useAttention && !features.historyCodes && !features.vqHistory)) {
      this.item = new Embedding(this.config.numItemIds, d, { oov, generator: g, ...rows(this.config.numItemIds + extra) });
    }
    if (items.rq && (features.rq || features.historyCodes)) {
      this.codes = codeRows(items.rq, items.numItems, {
        mode: this.config.codeMode,
        tableSize: this.config.prefixTableSize,
        hashSeed: this.config.prefixHashSeed,
        vocabItems: this.config.numItemIds,
      });
      for (const size of this.codes.tableSizes) this.rq.push(new Embedding(size, d, { generator: g, ...rows(size) }));
    }
    if (features.vq || features.vqHistory) this.vq = new EmbeddingBag(items.vq!.poolSize, d, { mode: 'mean', generator: g, ...rows(items.vq!.poolSize) });
    if (features.dense) this.dense = new Linear(items.dense!.dim, d, { generator: g });
    this.keyDim = (this.item ? d : 0) + (features.historyCodes ? d : 0) + (features.vqHistory ? d : 0);
    if (useAttention) this.attention = new TargetAttention(this.keyDim, { hidden: this.config.attentionHidden, seed: g.nextUint32() });
    let inDim = 0;
    if (features.userId) inDim += d;
    if (features.itemId) inDim += d;
    if (features.rq) inDim += items.rq!.levels * d;
    if (features.vq) inDim += d;
    if (features.dense) inDim += d;
    if (features.history) inDim += this.keyDim;
    if (features.cross) inDim += 2 * this.keyDim + 2;
    if (features.vqCross) inDim += this.keyDim + 1;
    this.inputDim = inDim;
    this.tower = new MLP([inDim, ...this.config.hidden, 1], { seed: g.nextUint32() });
  }

  protected override children(): Record<string, Module> {
    const c: Record<string, Module> = {};
    if (this.user) c.user = this.user;
    if (this.item) c.item = this.item;
    this.rq.forEach((e, l) => (c[`rq${l}`] = e));
    if (this.vq) c.vq = this.vq;
    if (this.dense) c.dense = this.dense;
    if (this.attention) c.attention = this.attention;
    c.tower = this.tower;
    return c;
  }

  /** The embedding tables, in the order of their weights in {@link Ranker.parameters}. @internal */
  embeddingTables(): Table[] {
    const out: Table[] = [];
    for (const e of [this.user, this.item, ...this.rq, this.vq]) if (e) out.push(e);
    return out;
  }

  /** Parameters that are embedding tables (row-sparse gradients), and the rest. */
  parameterGroups(): { sparse: Tensor[]; dense: Tensor[] } {
    const tables = new Set<Tensor>();
    for (const e of [this.user, this.item, this.vq, ...this.rq]) if (e) tables.add(e.weight);
    const all = this.parameters();
    return { sparse: all.filter((p) => tables.has(p)), dense: all.filter((p) => !tables.has(p)) };
  }

  /**
   * The code-table rows of `ids`, one array per level (negative ids → -1, i.e. padding). One
   * pass over the ids: an item's rows share a cache line, so each id costs one random read.
   */
  private levelCodes(ids: Int32Array): Int32Array[] {
    const { rows: codes, levels } = this.codes!;
    const n = ids.length;
    const out: Int32Array[] = [];
    for (let l = 0; l < levels; l++) out.push(new Int32Array(n));
    if (levels === 3) {
      // The common case, unrolled (no inner loop over levels per id).
      const [c0, c1, c2] = out;
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        if (id < 0) {
          c0[i] = c1[i] = c2[i] = -1;
        } else {
          const o = id * 3;
          c0[i] = codes[o];
          c1[i] = codes[o + 1];
          c2[i] = codes[o + 2];
        }
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      for (let l = 0; l < levels; l++) out[l][i] = id < 0 ? -1 : codes[id * levels + l];
    }
    return out;
  }

  /** VQ code ids of `ids` as a padded [n, k] matrix (negative ids → an empty bag). */
  private vqIds(ids: Int32Array): Int32Array {
    const { codes, k } = this.items.vq!;
    const out = new Int32Array(ids.length * k).fill(-1);
    for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) out.set(codes.subarray(ids[i] * k, (ids[i] + 1) * k), i * k);
    return out;
  }

  /**
   * VQ bags of `ids` (negative → zeros) → [n, d]. A batch names the same items many times
   * (B targets and B·H history slots, a few thousand distinct items), so each distinct item's bag
   * is pooled once and the rows are gathered: about (B + B·H) / distinct times fewer lookups.
   */
  private historyBags(ids: Int32Array): Tensor {
    const slot = new Int32Array(this.items.numItems).fill(-1);
    const uniq: number[] = [-1]; // entry 0: the empty bag (zeros) every padding slot reads
    const index = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < 0) continue;
      if (slot[id] < 0) {
        slot[id] = uniq.length;
        uniq.push(id);
      }
      index[i] = slot[id];
    }
    const bags = this.vq!.forwardPadded(this.vqIds(Int32Array.from(uniq)), this.items.vq!.k);
    return gather(bags, Tensor.fromArray(index, [ids.length], 'int32'));
  }

  /** A match count c of a history of H slots as a tower input (see {@link RankerConfig.countNorm}). */
  private countScale(H: number): (c: number) => number {
    if (this.config.countNorm === 'log1p') return Math.log1p;
    const inv = 1 / Math.log1p(Math.max(H, 1));
    return (c) => Math.log1p(c) * inv;
  }

  /**
   * [item emb] ++ [Σ_l RQ emb] ++ [VQ bag] of `ids` (negative = padding → zeros) → [n, keyDim],
   * the first two in one table-batched lookup (each table's gradient comes back row-sparse and
   * coalesced). `idRows` are the item-id table's ids (after id dropout), `codes` the code-table
   * rows per level (when history codes are on), `realIds` the items whose VQ bags are read.
   */
  private represent(ids: Int32Array, codes: Int32Array[] | null, realIds: Int32Array): Tensor {
    const tables: Tensor[] = [];
    const rows: Int32Array[] = [];
    const group: number[] = [];
    if (this.item) {
      tables.push(this.item.lookupWeight());
      rows.push(this.item.lookupRows(this.item.rowsOf(ids, true)));
      group.push(0);
    }
    if (this.config.features.historyCodes && codes) {
      for (let l = 0; l < this.rq.length; l++) {
        tables.push(this.rq[l].lookupWeight());
        rows.push(this.rq[l].lookupRows(codes[l]));
        group.push(this.item ? 1 : 0);
      }
    }
    const bag = this.config.features.vqHistory ? this.historyBags(realIds) : null;
    if (!tables.length) return bag!;
    const base = embeddingLookupMulti(tables, rows, group, 'history');
    return bag ? concatLast([base, bag]) : base;
  }

  /** Checks the id-dropout masks of `opts` against a batch of B samples with H history slots. */
  private checkDropMasks(opts: ForwardOptions, B: number, H: number): void {
    for (const [k, len] of [
      ['dropTargetIds', B],
      ['dropHistoryIds', B * H],
    ] as const) {
      const m = opts[k];
      if (m === undefined) continue;
      if (!(m instanceof Uint8Array) || m.length !== len) throw new ShapeError(`argument '${k}' must be a Uint8Array of ${len} entries`, k);
      if (!this.config.oov) throw new ValueError(`argument '${k}' needs a ranker with 'oov' (dropped ids use the OOV row)`, k);
    }
    const m = opts.dropTargetLevels;
    if (m !== undefined) {
      if (!(m instanceof Uint8Array) || m.length !== B)
        throw new ShapeError(`argument 'dropTargetLevels' must be a Uint8Array of ${B} entries`, 'dropTargetLevels');
      const L = this.codes?.levels ?? 0;
      for (let b = 0; b < B; b++)
        if (m[b] > L) throw new ValueError(`argument 'dropTargetLevels': ${m[b]} at ${b} is above the ${L} code levels`, 'dropTargetLevels');
    }
  }

  /** Number of code levels (prefix lengths) the ranker embeds; 0 without code tables. */
  get codeLevels(): number {
    return this.codes?.levels ?? 0;
  }

  /** Sets the `drop[b]` finest levels of target b (entry b of each level's array) to the zero row. */
  private dropLevels(codes: Int32Array[], drop: Uint8Array): void {
    const L = codes.length;
    for (let b = 0; b < drop.length; b++) for (let l = L - drop[b]; l < L; l++) codes[l][b] = -1;
  }

  /**
   * Logits [B] of a batch (recorded for autograd when parameters require gradients).
   * Ids are checked: out-of-table item ids throw an IndexError; ids outside the id
   * vocabularies map to the OOV rows when `config.oov` (else throw). `opts` may drop item ids
   * to the OOV row (see {@link ForwardOptions}; the trainer's item-id dropout).
   */
  forward(batch: RankSamples, opts: ForwardOptions = {}): Tensor {
    validateSamples(batch, this.items.numItems, 'batch');
    this.checkDropMasks(opts, batch.size, batch.maxHistory);
    return this.head(batch, this.embedInputs(batch, opts));
  }

  /**
   * The embedding-table lookups of {@link Ranker.forward} (every read of a table happens here,
   * none in {@link Ranker.head}), on a checked batch: the tower's first input blocks, the
   * history representations and the [targets; history] ids. Row-wise sharded training runs it
   * alone to learn which rows a batch reads.
   * @internal
   */
  embedInputs(batch: RankSamples, opts: ForwardOptions): EmbeddedInputs {
    const B = batch.size;
    const H = batch.maxHistory;
    const f = this.config.features;
    const parts: Tensor[] = [];
    // The OOV row's id in the item-id table: numItemIds (every id at or above it maps there).
    const oovId = this.config.numItemIds;
    const targetIds = opts.dropTargetIds ? dropIds(batch.item, opts.dropTargetIds, oovId) : batch.item;
    const dropLevels = opts.dropTargetLevels && this.codes ? opts.dropTargetLevels : null;
    // Query (target) and key (history) representations come from one table-batched lookup over
    // [targets; padded history slots], consumed packed by the attention.
    let rep: Tensor | null = null;
    // all = [targets; padded history slots] (-1 = padding); allCodes = their code rows per level.
    let all: Int32Array | null = null;
    let allCodes: Int32Array[] | null = null;
    if (this.attention && H > 0) {
      all = new Int32Array(B + B * H).fill(-1, B);
      all.set(batch.item);
      const hist = batch.history;
      for (let b = 0; b < B; b++) {
        for (let h = 0, len = batch.historyLength[b], o = B + b * H; h < len; h++) all[o + h] = hist[b * H + h];
      }
      if (this.codes) {
        allCodes = this.levelCodes(all);
        if (dropLevels) this.dropLevels(allCodes, dropLevels);
      }
      // Codes come from the real ids (above); only the item-id rows see the dropped ones.
      let idRows = all;
      if (opts.dropTargetIds) idRows = dropIds(idRows, opts.dropTargetIds, oovId);
      if (opts.dropHistoryIds) idRows = dropIds(idRows, opts.dropHistoryIds, oovId, B);
      rep = this.represent(idRows, allCodes, all);
    }
    if (this.user && f.userId) parts.push(this.user.forward(batch.user));
    if (this.item && f.itemId) parts.push(this.item.forward(targetIds));
    if (f.rq) {
      // One block per level: [B, L·d] from one table-batched lookup.
      let targetCodes: Int32Array[];
      if (allCodes) targetCodes = allCodes.map((c) => c.subarray(0, B));
      else {
        targetCodes = this.levelCodes(batch.item);
        if (dropLevels) this.dropLevels(targetCodes, dropLevels);
      }
      parts.push(
        embeddingLookupMulti(
          this.rq.map((e) => e.lookupWeight()),
          targetCodes.map((c, l) => this.rq[l].lookupRows(c)),
          this.rq.map((_, l) => l),
          'rq',
        ),
      );
    }
    if (this.vq && f.vq) parts.push(this.vq.forwardPadded(this.vqIds(batch.item), this.items.vq!.k));
    return { parts, rep, all };
  }

  /** The rest of {@link Ranker.forward} after {@link Ranker.embedInputs}: logits [B]. */
  private head(batch: RankSamples, { parts, rep, all }: EmbeddedInputs): Tensor {
    const B = batch.size;
    const H = batch.maxHistory;
    const f = this.config.features;
    const K = this.keyDim;
    if (this.dense) {
      const { values, dim } = this.items.dense!;
      const x = new Float32Array(B * dim);
      for (let b = 0; b < B; b++) x.set(values.subarray(batch.item[b] * dim, (batch.item[b] + 1) * dim), b * dim);
      parts.push(this.dense.forward(Tensor.fromArray(x, [B, dim], 'float32')));
    }
    const nCounts = (f.cross ? 2 : 0) + (f.vqCross ? 1 : 0);
    if (this.attention && rep && all) {
      // The masks stacked sample-major, [B, M, H] (history, the two code-match sets, the VQ
      // match set): the layout the fused attention reads.
      const M = (f.history ? 1 : 0) + (f.cross ? 2 : 0) + (f.vqCross ? 1 : 0);
      const masks = new Float32Array(B * M * H);
      if (f.history) for (let b = 0; b < B; b++) masks.fill(1, b * M * H, b * M * H + batch.historyLength[b]);
      const counts = nCounts ? new Float32Array(B * nCounts) : null;
      const scale = this.countScale(H);
      if (f.cross) this.codeMatch(batch, all, masks, M, f.history ? 1 : 0, counts!, nCounts, scale);
      if (f.vqCross) this.vqMatch(batch, masks, M, M - 1, counts!, nCounts, nCounts - 1, scale);
      parts.push(this.attention.forwardPackedStacked(rep, B, H, Tensor.fromArray(masks, [B, M, H], 'float32')));
      if (counts) parts.push(Tensor.fromArray(counts, [B, nCounts], 'float32'));
    } else if (this.attention) {
      // No history slots at all: the pooled parts are zeros.
      const width = (f.history ? K : 0) + (f.cross ? 2 * K : 0) + (f.vqCross ? K : 0) + nCounts;
      parts.push(Tensor.fromArray(new Float32Array(B * width), [B, width], 'float32'));
    }
    const x = concatLast(parts);
    return reshape(this.tower.forward(x), [B]);
  }

  /**
   * The RQ cross features' masks (mask slots `m0` and `m0 + 1` of each sample) and counts
   * (columns 0 and 1): history items sharing the target's level-1 code, and its level-1+2
   * prefix. Matched on the items' codes themselves, whatever rows they read.
   */
  private codeMatch(
    batch: RankSamples,
    all: Int32Array,
    masks: Float32Array,
    M: number,
    m0: number,
    counts: Float32Array,
    nc: number,
    scale: (c: number) => number,
  ): void {
    const { codes, levels: L } = this.items.rq!;
    const B = batch.size;
    const H = batch.maxHistory;
    for (let b = 0; b < B; b++) {
      const t1 = codes[all[b] * L],
        t2 = codes[all[b] * L + 1];
      const m1 = (b * M + m0) * H,
        m12 = m1 + H;
      let c1 = 0,
        c12 = 0;
      for (let h = 0, o = B + b * H; h < batch.historyLength[b]; h++) {
        const ci = all[o + h] * L;
        if (codes[ci] === t1) {
          masks[m1 + h] = 1;
          c1++;
          if (codes[ci + 1] === t2) {
            masks[m12 + h] = 1;
            c12++;
          }
        }
      }
      counts[nc * b] = scale(c1);
      counts[nc * b + 1] = scale(c12);
    }
  }

  /**
   * The VQ cross feature's mask (slot `m` of each sample) and count (column `col`): history
   * items that are among the target's VQ codes, pool entries mapped to item ids by
   * `items.vq.poolItems`. A stamp per item keeps it O(k + H) per sample.
   */
  private vqMatch(
    batch: RankSamples,
    masks: Float32Array,
    M: number,
    m: number,
    counts: Float32Array,
    nc: number,
    col: number,
    scale: (c: number) => number,
  ): void {
    const { codes, k, poolItems } = this.items.vq!;
    const B = batch.size;
    const H = batch.maxHistory;
    const stamp = (this.vqStamp ??= new Int32Array(this.items.numItems).fill(-1));
    for (let b = 0; b < B; b++) {
      // A unique stamp per call and sample (the counter grows across calls: no clearing needed).
      const tag = this.vqTag++;
      for (let j = 0, o = batch.item[b] * k; j < k; j++) {
        const p = codes[o + j];
        if (p >= 0) stamp[poolItems ? poolItems[p] : p] = tag;
      }
      let c = 0;
      for (let h = 0, mo = (b * M + m) * H; h < batch.historyLength[b]; h++) {
        if (stamp[batch.history[b * H + h]] === tag) {
          masks[mo + h] = 1;
          c++;
        }
      }
      counts[nc * b + col] = scale(c);
    }
    if (this.vqTag > 0x3fffffff) {
      stamp.fill(-1);
      this.vqTag = 0;
    }
  }

  /** Click probabilities of `samples`, in batches, without recording gradients. */
  predict(samples: RankSamples, batchSize = 4096): Float32Array {
    const out = new Float32Array(samples.size);
    for (let s = 0; s < samples.size; s += batchSize) {
      const e = Math.min(samples.size, s + batchSize);
      tidy(() =>
        noGrad(() => {
          const logits = this.forward(sliceSamples(samples, s, e)).readHost();
          for (let i = 0; i < logits.length; i++) out[s + i] = 1 / (1 + Math.exp(-logits[i]));
        }),
      );
    }
    return out;
  }
}
