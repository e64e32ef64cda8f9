/**
 * Training loop of the ranker: seeded shuffled mini-batches, BCE-with-logits, lazy sparse
 * optimizers for the embedding tables and Adam for the rest, evaluation each epoch, early
 * stopping on validation AUC (the best epoch's weights are restored), and atomic resumable
 * checkpoints. With `dist` (more than one rank) the same training runs data-parallel: see
 * {@link TrainOptions.dist}.
 *
 * Checkpoint file (little-endian): magic "QARMCKP1", uint32 header length, a JSON header
 * ({ epoch, history, best, names, shapes, offsets }), then float32 data: every parameter,
 * then each optimizer's state, then the best weights. Written with writeFileAtomic, so a
 * crash leaves the previous checkpoint whole.
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { backward } from '../autograd/engine.js';
import { readFileChecked, writeFileAtomic } from '../data/atomic.js';
import { IOError, ValueError } from '../errors.js';
import { tidy } from '../tensor/memory.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { bceWithLogits } from '../nn/loss.js';
import { clipGradNorm } from '../nn/optim/clip.js';
import { RowWiseAdagrad, SparseAdam } from '../nn/optim/sparse.js';
import type { Optimizer } from '../nn/optim/optimizer.js';
import { fmix32 } from './hash.js';
import { auc, gauc, logloss } from './metrics.js';
import type { ForwardOptions, Ranker } from './ranker.js';
import { gatherSamples, sliceSamples, type RankSamples } from './types.js';
import { agreeOnTraining } from '../dist/agree.js';
import { rankSlice } from '../dist/slice.js';
import { fingerprint, gatherAll, syncGradients, type RankCommunicator } from './data_parallel.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { RowSharding } from './sharded_tables.js';

export type { RankCommunicator } from './data_parallel.js';

/** Per-epoch record. */
export interface EpochStats {
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Validation metrics (NaN when a metric is undefined, e.g. a single class). */
  auc: number;
  gauc: number;
  logloss: number;
  seconds: number;
}

/** Progress report passed to `onProgress` after every batch. */
export interface Progress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  samplesPerSecond: number;
}

export interface TrainOptions {
  /** Maximum number of epochs [5]. */
  epochs?: number;
  /** Mini-batch size [1024]. */
  batchSize?: number;
  /** Learning rate of the dense parameters (Adam) [1e-3]. */
  lr?: number;
  /** Optimizer of the embedding tables ['adam': lazy SparseAdam; 'adagrad': row-wise Adagrad]. */
  sparseOptimizer?: 'adam' | 'adagrad';
  /** Learning rate of the embedding tables [lr for adam, 0.05 for adagrad]. */
  sparseLr?: number;
  /** L2 weight decay (dense and touched rows) [0]. */
  weightDecay?: number;
  /** Clip the global gradient norm to this value [none]. */
  maxGradNorm?: number;
  /** Seed of the shuffling [0]. */
  seed?: number;
  /** Stop after this many epochs without a better validation AUC [2]. */
  patience?: number;
  /**
   * Item-id dropout (DropoutNet-style cold-start training), in [0, 1) [0]: during training
   * each sample's target item id is replaced by the ranker's OOV row with this probability,
   * so the OOV row — the row every cold item maps to — is trained and the ranker learns to
   * score an item from its codes / content when its id is unknown. Its codes are kept.
   * The drops are drawn from (seed, epoch, batch), so they do not depend on thread counts
   * and a resumed run draws as an uninterrupted one. 0 leaves training bit-identical.
   * Needs a ranker with `oov`.
   */
  itemIdDropout?: number;
  /** The same for each history item id (valid slots only) [0]. */
  historyIdDropout?: number;
  /**
   * Code dropout [false]: each target whose id `itemIdDropout` drops also loses a number of its
   * finest code levels (prefix lengths), drawn uniformly from 0..L−1 (L = the ranker's code
   * levels), to the zero row — so the ranker learns to score an item from its coarse codes, as
   * it must for a cold item whose fine prefix no training item has. Drawn from a stream of its
   * own (seed, epoch, batch), so the id drops are the same with it on or off.
   */
  codeDropout?: boolean;
  /** Called after each batch. */
  onProgress?: (p: Progress) => void;
  /** Called after each epoch. */
  onEpoch?: (s: EpochStats) => void;
  /** Write a checkpoint here after every epoch (atomically). */
  checkpointPath?: string;
  /** Continue from `checkpointPath` when it exists [true]. */
  resume?: boolean;
  /**
   * Train data-parallel over the ranks of this communicator (lib/dist's `dist`, or a stand-in
   * with the same members) [none: one process]. As PyTorch DDP with a DistributedSampler, and
   * TorchRec with replicated tables:
   * - every rank passes the same ranker configuration, the same `train` and `valid` (the whole
   *   sets, not shards; checked by fingerprint) and the same options (checked), and ends with
   *   the same parameters;
   * - rank 0's initial parameters are broadcast, the batch order is drawn from `seed` on every
   *   rank, and each rank trains on its contiguous slice of every global batch of `batchSize`
   *   (the first `batchSize % worldSize` ranks take one more sample; the last batch is split the
   *   same way);
   * - the loss is divided by the global batch size, the dense gradients are all-reduced (summed
   *   in rank order) and the embedding tables' row-sparse gradients all-gathered (row ids and
   *   rows), so every rank applies the one-process step of the global batch (up to the order of
   *   float additions) to its full copy of every table; `maxGradNorm` clips the global gradient;
   * - validation: each rank predicts its contiguous shard of `valid`, the probabilities are
   *   all-gathered and every rank computes AUC / GAUC / logloss on all of them, so early
   *   stopping decides the same everywhere; `bestProbs` is the whole set's;
   * - only rank 0 writes `checkpointPath`; on resume rank 0 reads it and broadcasts it (the
   *   other ranks need no copy of the file). Every rank calls `onProgress` / `onEpoch` with the
   *   global figures.
   * Every rank holds every table unless {@link TrainOptions.tableSharding} is `'row'`.
   * With one rank (or without it) training is the one-process code, bit for bit. See
   * docs/scale.md for the costs and the measured difference from one process.
   */
  dist?: RankCommunicator;
  /**
   * How data-parallel training ({@link TrainOptions.dist} with more than one rank) places the
   * embedding tables ['replicated'; ignored in one process]:
   * - `'replicated'`: every rank holds every row and its optimizer state;
   * - `'row'`: row-wise sharded, as TorchRec's `ShardingType.ROW_WISE`: each rank owns a
   *   contiguous range of every table's rows (the first `rows % worldSize` ranks one more) and
   *   holds the parameters and the sparse optimizer's state of those rows only. Each step, the
   *   rows a rank's part of the batch reads are fetched from their owners and the gradient rows
   *   go back to them (lib/dist's allGather: see docs/scale.md for the bytes); the owners update
   *   their rows. The result is that of replicated tables bit for bit. Validation fetches rows
   *   the same way. Checkpoints have the replicated format (the ranks' rows are gathered for
   *   rank 0 to write), so either mode resumes the other's, and the ranker ends with whole tables
   *   on every rank (gathered). The ranker must be on the CPU (a ValueError naming
   *   `tableSharding` otherwise, on every rank). With a `Ranker` built whole, the whole tables
   *   exist once at the start (rank 0's parameters are broadcast before each rank keeps its
   *   rows) and at the end. A `Ranker` built with `tableShard` (`RankerBuildOptions`) never
   *   holds a whole table: only the dense layers are broadcast, and it is returned sharded (each
   *   rank its rows of the best epoch; `evaluate(…, { dist })` predicts with it); with
   *   {@link TrainOptions.checkpointSharding} `'rank'` neither do the checkpoints. If training
   *   throws, the tables are left holding this rank's rows.
   */
  tableSharding?: 'replicated' | 'row';
  /**
   * How row-wise sharded training ({@link TrainOptions.tableSharding} `'row'` over more than one
   * rank) writes and resumes `checkpointPath` ['gathered'; ignored otherwise]:
   * - `'gathered'`: one file in the replicated format, written by rank 0 from the ranks' rows
   *   (gathered a tensor at a time: rank 0 holds the whole checkpoint while writing it);
   * - `'rank'`: every rank writes its own shard file, `<checkpointPath>.e<epoch>.rank<r>of<N>`
   *   (the checkpoint format, with this rank's rows of the tables and of their optimizer state
   *   and the whole dense layers), atomically; once every rank has written, rank 0 writes the
   *   manifest `checkpointPath` (JSON: world size, epoch, shard files) atomically, and then each
   *   rank deletes its previous epoch's shard. A crash leaves the previous manifest and the shards
   *   it names whole. On resume rank 0 reads the manifest (every rank learns its world size and
   *   epoch) and each rank reads its own shard; no table is gathered or broadcast. A manifest of
   *   another world size throws an IOError naming `checkpointPath` on every rank (resharding is
   *   not done), as does a shard any rank cannot read.
   */
  checkpointSharding?: 'gathered' | 'rank';
}

export interface TrainResult {
  history: EpochStats[];
  bestEpoch: number;
  bestAuc: number;
  /** True when training stopped early. */
  stoppedEarly: boolean;
  /**
   * Validation probabilities of the kept (best-epoch) weights, as that epoch's evaluation
   * computed them (the same bits `ranker.predict(valid)` gives now); undefined when that epoch
   * ran before a resume or there is no validation set.
   */
  bestProbs?: Float32Array;
}

/** An id-dropout probability: undefined → 0; a ValueError outside [0, 1). */
function dropoutRate(name: string, p: number | undefined): number {
  if (p === undefined) return 0;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ValueError(`argument '${name}' must be a number in [0, 1), got ${String(p)}`, name);
  return p;
}

/**
 * The item-id dropout masks of one training batch (see {@link TrainOptions.itemIdDropout}):
 * drawn from a generator of their own, seeded by (seed, epoch, batch index), so they neither
 * shift the shuffling stream nor depend on anything but those three numbers. With
 * `codeLevels` > 1 (code dropout) each dropped target also gets a number of finest code levels
 * to drop, uniform in 0..codeLevels−1. Exported for tests.
 * @internal
 */
export function idDropMasks(
  batch: RankSamples,
  pTarget: number,
  pHistory: number,
  seed: number,
  epoch: number,
  batchIndex: number,
  codeLevels = 0,
): ForwardOptions {
  // A tag keeps this stream apart from the shuffle's Generator(seed * 1000003 + epoch).
  const s = fmix32(fmix32(fmix32((Math.trunc(seed) ^ Math.trunc(seed / 0x100000000) ^ 0x1d0d40f) >>> 0) ^ epoch) ^ batchIndex);
  const g = new Generator(s);
  const out: ForwardOptions = {};
  const B = batch.size;
  if (pTarget > 0) {
    const m = new Uint8Array(B);
    for (let b = 0; b < B; b++) m[b] = g.uniform() < pTarget ? 1 : 0;
    out.dropTargetIds = m;
  }
  if (pHistory > 0) {
    const H = batch.maxHistory;
    const m = new Uint8Array(B * H);
    for (let b = 0; b < B; b++) for (let h = 0; h < batch.historyLength[b]; h++) m[b * H + h] = g.uniform() < pHistory ? 1 : 0;
    out.dropHistoryIds = m;
  }
  if (codeLevels > 1 && out.dropTargetIds) {
    // Its own stream (another tag), so switching code dropout leaves the id drops unchanged.
    const gl = new Generator(fmix32(s ^ 0x5bd1e995));
    const t = out.dropTargetIds;
    const m = new Uint8Array(B);
    for (let b = 0; b < B; b++) if (t[b]) m[b] = gl.int(codeLevels);
    out.dropTargetLevels = m;
  }
  return out;
}

/**
 * Validation metrics of `ranker` on `samples`. A ranker built with sharded tables
 * (`RankerBuildOptions.tableShard`, more than one rank) needs `opts.dist` of the same rank and
 * world size and is collective: every rank calls it with the same `samples`, predicts its
 * contiguous part with the rows fetched from their owners (as `trainRanker`'s validation) and
 * gets the metrics and probabilities of all. Otherwise `opts.dist` is not used.
 */
export function evaluate(
  ranker: Ranker,
  samples: RankSamples,
  opts: { dist?: RankCommunicator } = {},
): { auc: number; gauc: number; logloss: number; probs: Float32Array } {
  const built = ranker.tableShard;
  if (built && built.worldSize > 1) {
    const comm = opts.dist;
    if (!comm || comm.worldSize !== built.worldSize || comm.rank !== built.rank)
      throw new ValueError(
        `a ranker built with sharded tables (rank ${built.rank} of ${built.worldSize}) evaluates only over a dist of the same rank and world size`,
        'dist',
      );
    ranker.eval();
    return metricsOf(samples, gatherAll(comm, new RowSharding(comm, ranker).predict(ranker, samples), samples.size));
  }
  return metricsOf(samples, ranker.predict(samples));
}

/** {@link evaluate} over the ranks of `comm`: each predicts its shard, every rank gets the metrics of all. */
function evaluateDistributed(ranker: Ranker, samples: RankSamples, comm: RankCommunicator): ReturnType<typeof evaluate> {
  const [s, e] = rankSlice(samples.size, comm.worldSize, comm.rank);
  const mine = e > s ? ranker.predict(sliceSamples(samples, s, e)) : new Float32Array(0);
  return metricsOf(samples, gatherAll(comm, mine, samples.size));
}

function metricsOf(samples: RankSamples, probs: Float32Array): ReturnType<typeof evaluate> {
  const safe = (f: () => number) => {
    try {
      return f();
    } catch {
      return NaN;
    }
  };
  return {
    auc: safe(() => auc(samples.label, probs)),
    gauc: safe(() => gauc(samples.label, probs, samples.group ?? samples.user)),
    logloss: safe(() => logloss(samples.label, probs, 1e-7)),
    probs,
  };
}

function stateTensors(opt: Optimizer): { param: Tensor; state: Tensor }[] {
  // Optimizer state (created lazily): expose it for checkpoints in a fixed order.
  const st = (opt as unknown as { state: Map<Tensor, Record<string, Tensor>> }).state;
  const out: { param: Tensor; state: Tensor }[] = [];
  for (const p of opt.params) {
    const s = st.get(p);
    if (s) for (const k of Object.keys(s).sort()) out.push({ param: p, state: s[k] });
  }
  return out;
}

/**
 * One tensor of a checkpoint as this rank holds it: all of it, or, for a row-wise sharded table
 * and its optimizer state, rows [start, start + data.length / width) of `rows` rows.
 */
interface Slot {
  name: string;
  data: Float32Array;
  part?: { start: number; rows: number; width: number };
}

/** Floats per row of `t` (a 1-D tensor has rows of one). */
function rowWidth(t: Tensor): number {
  return t.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The checkpoint's tensors, in file order: parameters, optimizer states, best weights. */
function checkpointSlots(ranker: Ranker, opts: Optimizer[], best: Float32Array[], sharding: RowSharding | null): Slot[] {
  const partOf = (p: Tensor, width: number): Slot['part'] => {
    const t = sharding ? sharding.tableOf(p) : -1;
    return t < 0 ? undefined : { start: sharding!.own[t][0], rows: sharding!.totalRows[t], width };
  };
  const named = ranker.namedParameters();
  const slots: Slot[] = named.map(([name, p]) => ({ name, data: p.f32(), part: partOf(p, rowWidth(p)) }));
  opts.forEach((o, i) =>
    stateTensors(o).forEach(({ param, state }, j) => slots.push({ name: `opt${i}.${j}`, data: state.f32(), part: partOf(param, rowWidth(state)) })),
  );
  best.forEach((b, i) => slots.push({ name: `best.${i}`, data: b, part: partOf(named[i][1], rowWidth(named[i][1])) }));
  return slots;
}

/** The number of floats of a slot's whole tensor. */
function wholeSize(s: Slot): number {
  return s.part ? s.part.rows * s.part.width : s.data.length;
}

function ensureState(opt: Optimizer): void {
  const o = opt as unknown as { stateOf?: (p: Tensor, names: string[]) => unknown; accumulator?: (p: Tensor) => unknown };
  for (const p of opt.params) {
    if (opt instanceof RowWiseAdagrad) opt.accumulator(p);
    else o.stateOf!.call(opt, p, ['m', 'v']);
  }
}

interface Header {
  epoch: number;
  history: EpochStats[];
  best: { epoch: number; auc: number };
  names: string[];
  sizes: number[];
  steps: number[][];
}

/**
 * Writes the checkpoint of `slots` (whole tensors; see {@link checkpointSlots}) to `path`.
 * Under row-wise sharding every rank gathers the whole tensors (collective) and only rank 0
 * passes a path.
 */
function saveCheckpoint(
  path: string | null,
  slots: Slot[],
  whole: (s: Slot) => Float32Array,
  opts: Optimizer[],
  header: Omit<Header, 'names' | 'sizes' | 'steps'>,
): void {
  if (path === null) {
    // Another rank writes: take part in each gather and drop its result at once, so this rank
    // never holds more than one whole tensor.
    for (const s of slots) whole(s);
    return;
  }
  const tensors = slots.map(whole);
  const names = slots.map((s) => s.name);
  const steps = opts.map((o) => (o instanceof SparseAdam ? o.stepCounts() : []));
  const json = Buffer.from(JSON.stringify({ ...header, names, sizes: tensors.map((t) => t.length), steps }));
  const head = Buffer.alloc(12);
  head.write('QARMCKP1', 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const parts: Uint8Array[] = [head, json];
  for (const t of tensors) parts.push(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  writeFileAtomic(path, parts);
}

/**
 * Reads and validates a checkpoint file: magic, header, and a body exactly as long as the header's
 * tensor sizes say. `offsets[i]` is the byte offset of tensor `header.names[i]` in `buf`.
 */
function readCheckpoint(path: string): { header: Header; buf: Buffer; offsets: number[] } {
  return parseCheckpoint(readFileChecked(path), path);
}

/** {@link readCheckpoint} of the file's bytes `buf` (e.g. broadcast from rank 0). */
function parseCheckpoint(buf: Buffer, path: string): { header: Header; buf: Buffer; offsets: number[] } {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== 'QARMCKP1')
    throw new IOError(`checkpoint '${path}' is not a qarm ranker checkpoint`, 'checkpointPath');
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) throw new IOError(`checkpoint '${path}' is truncated`, 'checkpointPath');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as Header;
  } catch {
    throw new IOError(`checkpoint '${path}' has a corrupt header`, 'checkpointPath');
  }
  if (!Array.isArray(header.sizes) || !Array.isArray(header.names) || header.names.length !== header.sizes.length) {
    throw new IOError(`checkpoint '${path}' has a corrupt header`, 'checkpointPath');
  }
  const offsets: number[] = [];
  let off = 12 + len;
  for (const size of header.sizes) {
    offsets.push(off);
    off += 4 * size;
  }
  if (buf.length !== off) throw new IOError(`checkpoint '${path}' is truncated or has trailing bytes`, 'checkpointPath');
  return { header, buf, offsets };
}

/** Copies tensor `i` of a read checkpoint, from its float `from` on, into `t` (sizes already checked). */
function copyTensor(ck: { buf: Buffer; offsets: number[] }, i: number, t: Float32Array, from = 0): void {
  const at = ck.offsets[i] + 4 * from;
  new Uint8Array(t.buffer, t.byteOffset, t.byteLength).set(ck.buf.subarray(at, at + t.byteLength));
}

/**
 * Loads a read checkpoint `ck` (of the file `path`) into the ranker, the optimizers and `best`;
 * under row-wise sharding, this rank's rows of the tables and of their optimizer state.
 */
function loadCheckpoint(
  ck: ReturnType<typeof readCheckpoint>,
  path: string,
  ranker: Ranker,
  opts: Optimizer[],
  best: Float32Array[],
  sharding: RowSharding | null = null,
  rankShard = false,
): Header {
  const { header } = ck;
  opts.forEach(ensureState);
  const slots = checkpointSlots(ranker, opts, best, sharding);
  // A rank's shard file holds the rank's rows only (its tensors as this rank holds them).
  const size = (s: Slot) => (rankShard ? s.data.length : wholeSize(s));
  if (header.sizes.length !== slots.length || header.sizes.some((n, i) => n !== size(slots[i]))) {
    throw new IOError(`checkpoint '${path}' does not match this ranker's parameters`, 'checkpointPath');
  }
  slots.forEach((s, i) => copyTensor(ck, i, s.data, s.part && !rankShard ? s.part.start * s.part.width : 0));
  opts.forEach((o, i) => {
    if (o instanceof SparseAdam) o.setStepCounts(header.steps[i] ?? []);
  });
  return header;
}

/** The manifest of per-rank checkpoint shards ({@link TrainOptions.checkpointSharding} `'rank'`). */
interface Manifest {
  format: 'qarm-ranker-checkpoint-shards';
  version: 1;
  worldSize: number;
  epoch: number;
  /** Shard file of each rank, relative to the manifest's directory. */
  files: string[];
}

/** Rank `rank` of `worldSize`'s shard file of epoch `epoch` next to the manifest `path`. */
function shardPath(path: string, epoch: number, rank: number, worldSize: number): string {
  return `${path}.e${epoch}.rank${rank}of${worldSize}`;
}

/** Throws on every rank when any rank's `failure` is set: its own error there, an IOError elsewhere (collective). */
function agreeOk(comm: RankCommunicator, failure: unknown, what: string): void {
  const failed = comm.allGather(Uint8Array.of(failure === null ? 0 : 1)).map((b) => b[0]);
  if (failure !== null) throw failure;
  const bad = failed.findIndex((f) => f === 1);
  if (bad >= 0) throw new IOError(`rank ${bad} could not ${what} (see its error)`, 'checkpointPath');
}

/**
 * Per-rank checkpoint of one epoch (collective): each rank writes its shard atomically, rank 0
 * then the manifest atomically, then each rank deletes its shard of the previous manifest.
 */
function saveRankShards(comm: RankCommunicator, path: string, slots: Slot[], opts: Optimizer[], progress: Omit<Header, 'names' | 'sizes' | 'steps'>): void {
  const N = comm.worldSize;
  const mine = shardPath(path, progress.epoch, comm.rank, N);
  let failure: unknown = null;
  try {
    saveCheckpoint(mine, slots, (s) => s.data, opts, { ...progress, shard: { rank: comm.rank, worldSize: N } } as Omit<Header, 'names' | 'sizes' | 'steps'>);
  } catch (e) {
    failure = e;
  }
  agreeOk(comm, failure, 'write its checkpoint shard');
  // Only now does the manifest name this epoch's shards: before, it names the previous ones, still whole.
  let previous: Manifest | null = null;
  if (comm.rank === 0) {
    try {
      previous = existsSync(path) ? parseManifest(readFileChecked(path), path) : null;
    } catch {
      previous = null;
    }
    try {
      const m: Manifest = {
        format: 'qarm-ranker-checkpoint-shards',
        version: 1,
        worldSize: N,
        epoch: progress.epoch,
        files: Array.from({ length: N }, (_, r) => basename(shardPath(path, progress.epoch, r, N))),
      };
      writeFileAtomic(path, Buffer.from(JSON.stringify(m)));
    } catch (e) {
      failure = e;
    }
  }
  const prev = comm.broadcast(Float64Array.of(failure === null ? 0 : 1, previous && previous.worldSize === N ? previous.epoch : -1), 0);
  if (failure !== null) throw failure;
  if (prev[0] === 1) throw new IOError(`rank 0 could not write the checkpoint manifest '${path}' (see its error)`, 'checkpointPath');
  const old = prev[1];
  if (old >= 0 && old !== progress.epoch) rmSync(shardPath(path, old, comm.rank, N), { force: true });
}

/** The manifest in `bytes` (of the file `path`), checked. */
function parseManifest(bytes: Buffer, path: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch {
    throw new IOError(`checkpoint '${path}' is not a per-rank checkpoint manifest (checkpointSharding 'rank')`, 'checkpointPath');
  }
  const ok =
    m &&
    m.format === 'qarm-ranker-checkpoint-shards' &&
    m.version === 1 &&
    Number.isInteger(m.worldSize) &&
    m.worldSize >= 1 &&
    Number.isInteger(m.epoch) &&
    m.epoch >= 0 &&
    Array.isArray(m.files) &&
    m.files.length === m.worldSize;
  if (!ok) throw new IOError(`checkpoint '${path}' is not a per-rank checkpoint manifest (checkpointSharding 'rank')`, 'checkpointPath');
  return m;
}

/**
 * The manifest `path` on every rank, read by rank 0 (null when rank 0 has none). An unreadable
 * manifest, or one of another world size, throws an IOError on every rank.
 */
function receiveManifest(comm: RankCommunicator, path: string | undefined): Manifest | null {
  const got = receiveFromRoot(comm, path, (file) => Buffer.from(JSON.stringify(parseManifest(readFileChecked(file), file))), 'checkpoint manifest');
  if (!got) return null;
  const m = JSON.parse(got.toString('utf8')) as Manifest;
  if (m.worldSize !== comm.worldSize)
    throw new IOError(
      `checkpoint '${path}' was written by ${m.worldSize} ranks, and this run has ${comm.worldSize}: per-rank checkpoints resume only on as many ranks`,
      'checkpointPath',
    );
  return m;
}

/** Loads this rank's shard of the manifest `m` (collective: a shard any rank cannot load throws on every rank). */
function loadRankShard(
  comm: RankCommunicator,
  m: Manifest,
  path: string,
  ranker: Ranker,
  opts: Optimizer[],
  best: Float32Array[],
  sharding: RowSharding,
): Header {
  const file = join(dirname(path), m.files[comm.rank]);
  let header: Header | null = null;
  let failure: unknown = null;
  try {
    const ck = readCheckpoint(file);
    const sh = (ck.header as Header & { shard?: { rank: number; worldSize: number } }).shard;
    if (!sh || sh.rank !== comm.rank || sh.worldSize !== comm.worldSize || ck.header.epoch !== m.epoch)
      throw new IOError(`checkpoint shard '${file}' is not rank ${comm.rank} of ${comm.worldSize}'s shard of epoch ${m.epoch}`, 'checkpointPath');
    header = loadCheckpoint(ck, file, ranker, opts, best, sharding, true);
  } catch (e) {
    failure = e;
  }
  agreeOk(comm, failure, 'read its checkpoint shard');
  return header!;
}

/**
 * Trains `ranker` on `train`, evaluating on `valid` after each epoch. Returns per-epoch
 * statistics; the ranker ends with the weights of its best validation-AUC epoch.
 */
export async function trainRanker(ranker: Ranker, train: RankSamples, valid: RankSamples, options: TrainOptions = {}): Promise<TrainResult> {
  const comm = options.dist !== undefined && options.dist.worldSize > 1 ? options.dist : null;
  const { o, pTarget, pHistory, codeLevels } = comm
    ? agreeOnTraining(
        comm,
        () => resolveOptions(ranker, train, options, true),
        () => trainingSettings(ranker, train, valid, resolveOptions(ranker, train, options, true).o),
      )
    : resolveOptions(ranker, train, options);
  // Row-wise sharding swaps the tables for this rank's rows before the optimizers see them.
  const sharding = comm && o.tableSharding === 'row' ? new RowSharding(comm, ranker) : null;
  const ckptIn = o.checkpointPath && o.resume ? o.checkpointPath : undefined;
  const perRank = sharding !== null && o.checkpointSharding === 'rank';
  let sharedFile: Buffer | null = null;
  let manifest: Manifest | null = null;
  if (comm && sharding) {
    if (perRank) manifest = receiveManifest(comm, ckptIn);
    else sharedFile = receiveCheckpoint(comm, ckptIn);
    // A ranker built sharded holds its rows already (the same on every rank, by the seed): only the dense layers are broadcast.
    if (!sharedFile && !manifest) broadcastParameters(comm, ranker, sharding.prebuilt ? new Set(sharding.tables.map((t) => t.weight)) : undefined);
    sharding.shard();
  }
  const { sparse, dense } = ranker.parameterGroups();
  const sparseOpt =
    o.sparseOptimizer === 'adagrad'
      ? new RowWiseAdagrad(sparse, { lr: o.sparseLr ?? TRAIN_DEFAULTS.adagradSparseLr, weightDecay: o.weightDecay })
      : new SparseAdam(sparse, { lr: o.sparseLr ?? o.lr, weightDecay: o.weightDecay });
  const denseOpt = new SparseAdam(dense, { lr: o.lr, weightDecay: o.weightDecay });
  const opts: Optimizer[] = [sparseOpt, denseOpt];
  const params = ranker.parameters();
  let best = params.map((p) => Float32Array.from(p.f32()));
  let bestEpoch = -1;
  let bestAuc = -Infinity;
  let bestProbs: Float32Array | undefined;
  let history: EpochStats[] = [];
  let startEpoch = 0;
  let resumed: Header | null = null;
  if (sharding && manifest) {
    resumed = loadRankShard(comm!, manifest, ckptIn!, ranker, opts, best, sharding);
  } else if (sharding) {
    if (sharedFile) resumed = loadCheckpoint(parseCheckpoint(sharedFile, ckptIn ?? 'checkpoint'), ckptIn ?? 'checkpoint', ranker, opts, best, sharding);
  } else if (comm) {
    resumed = startTogether(comm, ckptIn, ranker, opts, best);
    if (!resumed) best = params.map((p) => Float32Array.from(p.f32()));
  } else if (o.checkpointPath && o.resume && existsSync(o.checkpointPath)) {
    resumed = loadCheckpoint(readCheckpoint(o.checkpointPath), o.checkpointPath, ranker, opts, best);
  }
  if (resumed) {
    history = resumed.history;
    startEpoch = resumed.epoch + 1;
    bestEpoch = resumed.best.epoch;
    bestAuc = resumed.best.auc ?? -Infinity;
  }
  let stoppedEarly = bestEpoch >= 0 && startEpoch - 1 - bestEpoch >= o.patience;
  const batches = Math.ceil(train.size / o.batchSize);
  const H = train.maxHistory;
  for (let epoch = startEpoch; epoch < o.epochs && !stoppedEarly; epoch++) {
    const t0 = Date.now();
    ranker.train();
    // A fresh generator per epoch, seeded from (seed, epoch): a resumed run shuffles as an uninterrupted one.
    const order = new Int32Array(train.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    new Generator(o.seed * 1000003 + epoch).shuffle(order);
    let lossSum = 0;
    for (let bi = 0; bi < batches; bi++) {
      const rows = order.subarray(bi * o.batchSize, Math.min(train.size, (bi + 1) * o.batchSize));
      let loss: number;
      if (!comm) {
        const batch = gatherSamples(train, rows);
        const drops = pTarget > 0 || pHistory > 0 ? idDropMasks(batch, pTarget, pHistory, o.seed, epoch, bi, codeLevels) : {};
        loss = tidy(() => {
          const logits = ranker.forward(batch, drops);
          const l = bceWithLogits(logits, batch.label);
          backward(l);
          return l.item();
        });
      } else {
        // This rank's slice of the global batch; the loss is its share of the global batch's mean.
        const [s, e] = rankSlice(rows.length, comm.worldSize, comm.rank);
        const batch = gatherSamples(train, rows.subarray(s, e));
        let drops: ForwardOptions = {};
        if (pTarget > 0 || pHistory > 0) {
          // The global batch's masks (drawn from (seed, epoch, batch) on every rank), this rank's part.
          const lengths = Int32Array.from(rows, (r) => train.historyLength[r]);
          const all = idDropMasks({ ...batch, size: rows.length, historyLength: lengths }, pTarget, pHistory, o.seed, epoch, bi, codeLevels);
          drops = {
            dropTargetIds: all.dropTargetIds?.slice(s, e),
            dropHistoryIds: all.dropHistoryIds?.slice(s * H, e * H),
            dropTargetLevels: all.dropTargetLevels?.slice(s, e),
          };
        }
        sharding?.lookup(ranker, batch, drops, true);
        try {
          const local =
            batch.size === 0
              ? 0
              : tidy(() => {
                  const logits = ranker.forward(batch, drops);
                  const l = bceWithLogits(logits, batch.label, { divisor: rows.length });
                  backward(l);
                  return l.item();
                });
          loss = sharding ? sharding.syncGradients(dense, local, params, o.maxGradNorm) : syncGradients(comm, sparse, dense, local);
        } finally {
          sharding?.release();
        }
      }
      if (o.maxGradNorm && !sharding) clipGradNorm(params, o.maxGradNorm);
      for (const opt of opts) {
        opt.step();
        opt.zeroGrad();
      }
      lossSum += loss * rows.length;
      if (o.onProgress) {
        const secs = (Date.now() - t0) / 1000;
        o.onProgress({ epoch, batch: bi + 1, batches, loss, samplesPerSecond: Math.min(train.size, (bi + 1) * o.batchSize) / Math.max(secs, 1e-6) });
      }
      // Yield to the event loop between batches so callers stay responsive.
      if (bi % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    ranker.eval();
    const m = valid.size
      ? sharding
        ? metricsOf(valid, gatherAll(comm!, sharding.predict(ranker, valid), valid.size))
        : comm
          ? evaluateDistributed(ranker, valid, comm)
          : evaluate(ranker, valid)
      : { auc: NaN, gauc: NaN, logloss: NaN, probs: undefined };
    const stats: EpochStats = { epoch, loss: lossSum / train.size, auc: m.auc, gauc: m.gauc, logloss: m.logloss, seconds: (Date.now() - t0) / 1000 };
    history.push(stats);
    if (!(m.auc <= bestAuc)) {
      // NaN AUC (no validation) counts as an improvement so the latest weights are kept.
      bestAuc = Number.isNaN(m.auc) ? bestAuc : m.auc;
      bestEpoch = epoch;
      bestProbs = m.probs;
      best = params.map((p) => Float32Array.from(p.f32()));
    } else if (epoch - bestEpoch >= o.patience) {
      stoppedEarly = true;
    }
    o.onEpoch?.(stats);
    // Under dist only rank 0 writes (every rank holds the same state, or its rows of it).
    const progress = { epoch, history, best: { epoch: bestEpoch, auc: bestAuc } };
    if (o.checkpointPath && perRank) {
      saveRankShards(comm!, o.checkpointPath, checkpointSlots(ranker, opts, best, sharding), opts, progress);
    } else if (o.checkpointPath && sharding) {
      const slots = checkpointSlots(ranker, opts, best, sharding);
      saveCheckpoint(comm!.rank === 0 ? o.checkpointPath : null, slots, (s) => (s.part ? sharding.gatherRows(s.data) : s.data), opts, progress);
    } else if (o.checkpointPath && (!comm || comm.rank === 0)) {
      saveCheckpoint(o.checkpointPath, checkpointSlots(ranker, opts, best, null), (s) => s.data, opts, progress);
    }
  }
  params.forEach((p, i) => p.f32().set(best[i]));
  for (const opt of opts) opt.dispose();
  if (sharding && !sharding.prebuilt) sharding.unshard();
  return { history, bestEpoch, bestAuc, stoppedEarly, bestProbs };
}

/** The options with their defaults, checked (ValueError naming the option). */
function resolveOptions(ranker: Ranker, train: RankSamples, options: TrainOptions, distributed = false) {
  const { adagradSparseLr: _adagrad, ...defaults } = TRAIN_DEFAULTS;
  const o = { ...defaults, ...options };
  for (const k of ['epochs', 'batchSize', 'patience'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < (k === 'patience' ? 0 : 1)) throw new ValueError(`argument '${k}' must be a positive integer, got ${o[k]}`, k);
  }
  if (!(o.lr > 0)) throw new ValueError(`argument 'lr' must be positive, got ${o.lr}`, 'lr');
  const pTarget = dropoutRate('itemIdDropout', o.itemIdDropout);
  const pHistory = dropoutRate('historyIdDropout', o.historyIdDropout);
  if (o.codeDropout !== undefined && typeof o.codeDropout !== 'boolean')
    throw new ValueError(`argument 'codeDropout' must be a boolean, got ${String(o.codeDropout)}`, 'codeDropout');
  const codeLevels = o.codeDropout ? ranker.codeLevels : 0;
  if ((pTarget > 0 || pHistory > 0) && !ranker.config.oov)
    throw new ValueError("item-id dropout needs a ranker with 'oov' (dropped ids use the OOV row)", 'itemIdDropout');
  if (o.sparseOptimizer !== 'adam' && o.sparseOptimizer !== 'adagrad')
    throw new ValueError("argument 'sparseOptimizer' must be 'adam' or 'adagrad'", 'sparseOptimizer');
  if (train.size === 0) throw new ValueError("argument 'train' is empty", 'train');
  const ts = o.tableSharding ?? 'replicated';
  if (ts !== 'replicated' && ts !== 'row') throw new ValueError(`argument 'tableSharding' must be 'replicated' or 'row', got ${String(ts)}`, 'tableSharding');
  // Sharded steps read and write the tables' rows on the host.
  if (ts === 'row' && distributed && ranker.parameters().some((p) => p.device !== 'cpu'))
    throw new ValueError("tableSharding 'row' needs the ranker's parameters on the CPU", 'tableSharding');
  const cs = o.checkpointSharding ?? 'gathered';
  if (cs !== 'gathered' && cs !== 'rank')
    throw new ValueError(`argument 'checkpointSharding' must be 'gathered' or 'rank', got ${String(cs)}`, 'checkpointSharding');
  const built = ranker.tableShard;
  if (built && built.worldSize > 1) {
    const comm = o.dist;
    if (!comm || comm.worldSize !== built.worldSize || comm.rank !== built.rank || ts !== 'row')
      throw new ValueError(
        `a ranker built with sharded tables (rank ${built.rank} of ${built.worldSize}) trains only with tableSharding 'row' over a dist of the same rank and world size`,
        'tableSharding',
      );
  }
  return { o: { ...o, tableSharding: ts, checkpointSharding: cs }, pTarget, pHistory, codeLevels };
}

/** What must be the same on every rank of data-parallel training: the options, the model's shapes, the data. */
function trainingSettings(ranker: Ranker, train: RankSamples, valid: RankSamples, o: ReturnType<typeof resolveOptions>['o']): Record<string, number> {
  const params = ranker.parameters();
  // A table built sharded counts whole: the ranks hold different numbers of its rows.
  const whole = new Map(ranker.embeddingTables().map((t) => [t.weight, t.totalRows * t.embeddingDim]));
  return {
    tableShard: ranker.tableShard ? 1 : 0,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    sparseLr: o.sparseLr ?? -1,
    sparseOptimizer: o.sparseOptimizer === 'adam' ? 0 : 1,
    weightDecay: o.weightDecay,
    maxGradNorm: o.maxGradNorm ?? 0,
    seed: o.seed,
    patience: o.patience,
    itemIdDropout: o.itemIdDropout ?? 0,
    historyIdDropout: o.historyIdDropout ?? 0,
    codeDropout: o.codeDropout ? 1 : 0,
    resume: o.resume && o.checkpointPath ? 1 : 0,
    tableSharding: o.tableSharding === 'row' ? 1 : 0,
    checkpointSharding: o.checkpointSharding === 'rank' ? 1 : 0,
    'ranker parameters': params.length,
    'ranker parameter sizes': params.reduce((s, p, i) => s + (whole.get(p) ?? p.size) * (i + 1), 0),
    train: fingerprint(train),
    valid: fingerprint(valid),
  };
}

/**
 * The common start of data-parallel training: rank 0 reads `path` when it exists and
 * broadcasts its bytes, which every rank loads (returns its header); without a checkpoint,
 * rank 0's initial parameters are broadcast (returns null). A checkpoint rank 0 cannot read
 * throws on every rank.
 */
function startTogether(comm: RankCommunicator, path: string | undefined, ranker: Ranker, opts: Optimizer[], best: Float32Array[]): Header | null {
  const file = receiveCheckpoint(comm, path);
  if (file) return loadCheckpoint(parseCheckpoint(file, path ?? 'checkpoint'), path ?? 'checkpoint', ranker, opts, best);
  broadcastParameters(comm, ranker);
  return null;
}

/**
 * The bytes of the checkpoint `path` on every rank, broadcast from rank 0 (null when rank 0 has
 * no such file). A file rank 0 cannot read throws on every rank.
 */
function receiveCheckpoint(comm: RankCommunicator, path: string | undefined): Buffer | null {
  return receiveFromRoot(comm, path, readFileChecked, 'checkpoint');
}

/**
 * `read(path)` of rank 0 on every rank, broadcast (null when rank 0 has no file at `path`). A
 * read that throws on rank 0 throws there, and an IOError naming `what` on the other ranks.
 */
function receiveFromRoot(comm: RankCommunicator, path: string | undefined, read: (path: string) => Buffer, what: string): Buffer | null {
  // [status (0: none, 1: the bytes follow, 2: rank 0 failed to read them), bytes...]
  let mine = new Uint8Array(1);
  let failure: unknown = null;
  if (comm.rank === 0 && path !== undefined && existsSync(path)) {
    try {
      const bytes = read(path);
      mine = new Uint8Array(bytes.length + 1);
      mine[0] = 1;
      mine.set(bytes, 1);
    } catch (e) {
      failure = e;
      mine[0] = 2;
    }
  }
  const got = comm.broadcast(mine, 0);
  if (got[0] === 2) throw failure ?? new IOError(`rank 0 could not read the ${what} (see its error)`, 'checkpointPath');
  return got[0] === 1 ? Buffer.from(got.buffer, got.byteOffset + 1, got.length - 1) : null;
}

/** Rank 0's parameters on every rank (DDP's broadcast at construction). */
function broadcastParameters(comm: RankCommunicator, ranker: Ranker, skip?: Set<Tensor>): void {
  const params = ranker.parameters().filter((p) => !skip?.has(p));
  const total = params.reduce((s, p) => s + p.size, 0);
  const flat = new Float32Array(comm.rank === 0 ? total : 0);
  if (comm.rank === 0) {
    let off = 0;
    for (const p of params) {
      flat.set(p.f32(), off);
      off += p.size;
    }
  }
  const all = comm.broadcast(flat, 0);
  let off = 0;
  for (const p of params) {
    p.f32().set(all.subarray(off, off + p.size));
    off += p.size;
  }
}

/**
 * Loads the best-epoch weights a {@link trainRanker} checkpoint holds into `ranker` (built with
 * the same configuration and item tables), e.g. to evaluate a saved model. IOError when the
 * file is not such a checkpoint or does not match the ranker's parameters.
 */
export function loadBestWeights(path: string, ranker: Ranker): void {
  const ck = readCheckpoint(path);
  const at = new Map(ck.header.names.map((n, i) => [n, i]));
  const params = ranker.parameters().map((p) => p.f32());
  const slots = params.map((p, i) => at.get(`best.${i}`));
  if (slots.some((k, i) => k === undefined || ck.header.sizes[k] !== params[i].length)) {
    throw new IOError(`checkpoint '${path}' does not match this ranker's parameters`, 'checkpointPath');
  }
  params.forEach((p, i) => copyTensor(ck, slots[i]!, p));
}
