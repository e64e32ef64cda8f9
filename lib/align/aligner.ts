/**
 * The contrastive item aligner (QARM §"item alignment"): an MLP projects frozen content
 * embeddings to d = 64, L2-normalised, trained with symmetric in-batch InfoNCE so that items
 * paired by behaviour land close together. Optionally a second term keeps each item's in-batch
 * neighbourhood close to its content neighbourhood (helps items without behaviour). Early
 * stopping on Recall@K of validation pairs. Every item gets an aligned embedding, cold ones
 * included, since the projector only needs content. Data-parallel training over MPI ranks
 * (`dist`) keeps its exchange in lib/align/data_parallel.ts.
 */
import { ValueError } from '../errors.js';
import { add, mul, div } from '../autograd/ops/arith.js';
import { matmul } from '../autograd/ops/matmul.js';
import { l2Normalize } from '../autograd/ops/normalize.js';
import { sum } from '../autograd/ops/reduce.js';
import { logSoftmax } from '../autograd/ops/softmax.js';
import { gather } from '../autograd/ops/indexing.js';
import { noGrad, record } from '../autograd/engine.js';
import { runKernel } from '../tensor/backend.js';
import { MLP, type Activation } from '../nn/mlp.js';
import { Adam } from '../nn/optim/adam.js';
import { tensor } from '../tensor/creation.js';
import { tidy } from '../tensor/memory.js';
import { Generator } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { f64FromBits, f64Zeros } from '../tensor/f64_bits.js';
import type { Tensor } from '../tensor/tensor.js';
import { cachedScorer, embeddingScorer, mixedScorer, mixSpaces, pairRecall } from './pair_recall.js';
import type { ItemPairs } from './pairs.js';
import { ALIGN_DEFAULTS as D } from './defaults.js';
import { agreeOnTraining } from '../dist/agree.js';
import { rankSlice } from '../dist/slice.js';
import { alignerSettings, allReduceGradients, globalRows, type AlignCommunicator, type AlignerSettingsInput } from './data_parallel.js';

/**
 * Symmetric in-batch InfoNCE: with logits `L = za·zbᵀ / τ` (+ `mask`, an additive constant
 * `[B, B]` that hides false negatives with a large negative value), the loss is
 * `½ (CE(L, diag) + CE(Lᵀ, diag))`, the mean over the batch of −log p(b_k | a_k) and
 * −log p(a_k | b_k). `za`, `zb`: `[B, d]`, row k of each is a positive pair.
 *
 * The `[B, B]` part is one fused step (native row and column log-sum-exp, then
 * `dL = (softmax_rows + softmax_cols − 2I) / 2B`): a chain of tensor ops over the logits cost
 * about as much as the matmuls themselves (docs/decisions.md, "Fused InfoNCE").
 */
export function infoNCE(za: Tensor, zb: Tensor, temperature: number, mask?: Tensor): Tensor {
  if (za.rank !== 2 || zb.rank !== 2 || za.shape[0] !== zb.shape[0] || za.shape[1] !== zb.shape[1]) {
    throw new ValueError(`infoNCE(): 'za' [${za.shape.join(', ')}] and 'zb' [${zb.shape.join(', ')}] must both be [B, d]`, 'zb');
  }
  if (!(temperature > 0)) throw new ValueError("argument 'temperature' must be > 0", 'temperature');
  const b = za.shape[0];
  if (mask && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== b)) {
    throw new ValueError(`infoNCE(): 'mask' must be [${b}, ${b}], got [${mask.shape.join(', ')}]`, 'mask');
  }
  const s = matmul(za, zb, { transB: true });
  // Logits and their transpose (columns as rows), for the row softmax / log-sum-exp kernels.
  const l = runKernel('infoNceLogits', mask ? { s, mask } : { s }, { temperature });
  const lt = runKernel('transpose2d', { x: l }, {});
  const lseR = runKernel('logsumexpRows', { x: l }, { rows: b, cols: b, outShape: [b, 1] });
  const lseC = runKernel('logsumexpRows', { x: lt }, { rows: b, cols: b, outShape: [b, 1] });
  const out = runKernel('infoNceLoss', { lseR, lseC, l }, {});
  lseR.dispose();
  lseC.dispose();
  return record('infoNCE', out, [s], (dy) => {
    const pr = runKernel('softmaxRows', { x: l }, { rows: b, cols: b });
    const pc = runKernel('softmaxRows', { x: lt }, { rows: b, cols: b });
    const g = runKernel('infoNceGrad', { pr, pc, dy }, { temperature });
    pr.dispose();
    pc.dispose();
    return [g];
  });
}

/**
 * Neighbourhood-keeping term: cross-entropy from the content neighbour distribution
 * `P = softmax(x xᵀ / τc)` (self excluded; a constant) to the aligned one
 * `Q = softmax(z zᵀ / τ)` (self excluded), averaged over the batch rows.
 */
export function neighbourhoodLoss(z: Tensor, content: Float32Array, temperature: number, contentTemperature: number): Tensor {
  const b = z.shape[0];
  const d = content.length / b;
  const sims = noGrad(() => {
    const ct = tensor(content, [b, d]);
    const s = matmul(ct, ct, { transB: true });
    const out = Float32Array.from(s.toTypedArray() as Float32Array);
    ct.dispose();
    s.dispose();
    return out;
  });
  const p = new Float32Array(b * b);
  const row = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    let mx = -Infinity;
    for (let j = 0; j < b; j++) {
      if (j === i) continue;
      row[j] = sims[i * b + j] / contentTemperature;
      if (row[j] > mx) mx = row[j];
    }
    let tot = 0;
    for (let j = 0; j < b; j++) if (j !== i) tot += row[j] = Math.exp(row[j] - mx);
    for (let j = 0; j < b; j++) p[i * b + j] = j === i ? 0 : row[j] / tot;
  }
  const selfMask = new Float32Array(b * b);
  for (let i = 0; i < b; i++) selfMask[i * b + i] = -1e4;
  const logq = logSoftmax(add(div(matmul(z, z, { transB: true }), temperature), tensor(selfMask, [b, b])));
  return div(sum(mul(logq, tensor(p, [b, b]))), -b);
}

/** Options of {@link trainAligner}. */
export interface AlignerOptions {
  /** Output size (default 64, as in QARM). */
  dims?: number;
  /** Hidden layer sizes of the projector (default [512]: 256 fitted the validation pairs less well). */
  hidden?: number[];
  /** Activation between layers (default relu). */
  activation?: Activation;
  /**
   * InfoNCE temperature τ (default 0.2: on the bundled data's validation pairs 0.2 beat 0.1 and
   * 0.14 for one projector and for an ensemble, and 0.3 fell back; see bench/results/alignment.md).
   */
  temperature?: number;
  /** Pairs per batch (default 512). */
  batchSize?: number;
  /** Adam learning rate (default 2e-3). */
  lr?: number;
  /** Decoupled weight decay (default 0). */
  weightDecay?: number;
  /** Maximum epochs (default 40). */
  epochs?: number;
  /** Stop after this many epochs without validation improvement (default 4). */
  patience?: number;
  /** Weight of the neighbourhood-keeping term (default 0 = off). */
  neighbourhoodWeight?: number;
  /** Content-side temperature of that term (default 0.05). */
  neighbourhoodTemperature?: number;
  /**
   * Candidate weights w of the aligned part in the retrieval space
   * `[√w · aligned, √(1−w) · content]` (`mixSpaces` in lib/align/pair_recall.ts): each epoch is scored with the best
   * of them on the validation pairs, and the kept (epoch, w) is returned as `mixWeight` and
   * `retrieval`. Mixing gives back the content neighbourhood that items without behaviour
   * (cold) rely on, so training can run longer for warm pairs. Default [1, 0.9, 0.8, 0.7, 0.6]
   * (chosen on the bundled data's validation pairs; [1] = aligned only).
   */
  contentMix?: number[];
  /** Validation pairs for early stopping (none: train all epochs, keep the last). */
  validation?: ItemPairs;
  /** Early-stopping metric: Recall@`validationK` (default 50). */
  validationK?: number;
  /** At most this many validation pairs are scored per epoch (default 3000, a seeded sample). */
  maxValidationPairs?: number;
  /**
   * Projectors trained side by side from different seeds (default 3). The aligned embedding of an
   * item is their L2-normalised outputs concatenated and scaled by `1/√M`, so the cosine of two
   * items is the mean of the members' cosines: averaging removes seed noise in the learnt
   * neighbourhoods (bench/results/alignment.md, "ensemble 3"). Members
   * stop together at the epoch the ensemble scores best. Costs M× the training time; 1 = one
   * projector (the embedding is then `dims` wide).
   */
  ensemble?: number;
  /** Seed of initialisation, shuffling and sampling (default 0; ensemble member k > 0 uses `seed + 1009·k`). */
  seed?: number;
  /** Progress lines (default none). */
  log?: (message: string) => void;
  /**
   * Called after every epoch (and once before training, epoch 0) with the first projector and a
   * function that returns the current aligned embeddings (the whole ensemble, `[items, dims·M]`,
   * caller disposes), e.g. to track other metrics; return true to stop training.
   */
  onEpoch?: (epoch: number, model: MLP, project: () => Tensor) => boolean | void;
  /**
   * Train data-parallel over the ranks of this communicator (lib/dist's `dist`, or a stand-in
   * with the same members). Every rank passes the same `content`, `pairs` and options (checked
   * before the first step: a mismatch or a bad option on one rank throws on every rank); each
   * trains on its contiguous slice of every global batch, the ranks exchange their projected
   * rows so each computes the whole batch's loss, and the projectors' gradients are all-reduced.
   * The result is that of one process on the same global batches up to the order of float
   * additions, and the same on every rank (docs/scale.md). Validation runs on every rank on all
   * pairs, so early stopping takes the same decision everywhere; `log` and `onEpoch` run on every
   * rank, and `onEpoch` asking to stop on any rank stops all of them (one small allReduce per
   * epoch, only when `onEpoch` is given). Absent, or with one rank: the one-process code, unchanged.
   */
  dist?: AlignCommunicator;
}

/** One epoch of {@link AlignerResult.history}. */
export interface AlignEpoch {
  epoch: number;
  loss: number;
  /** Validation Recall@K (NaN without validation pairs), at the best of `contentMix`. */
  validation: number;
  /** The `contentMix` weight that scored `validation`. */
  mixWeight: number;
  seconds: number;
}

/** Result of {@link trainAligner}. */
export interface AlignerResult {
  /**
   * Aligned float32 `[items, dims · M]` for an ensemble of M projectors (`[items, dims]` when
   * M = 1), rows unit length: each member's L2-normalised output scaled by `1/√M`.
   */
  embeddings: Tensor;
  /** The first trained projector at the kept epoch. */
  model: MLP;
  /** All trained projectors (the ensemble) at the kept epoch; `models[0]` is `model`. */
  models: MLP[];
  history: AlignEpoch[];
  /** Epoch whose weights were kept (0 = the untrained projector scored best). */
  bestEpoch: number;
  /** Validation Recall@K of the kept weights. */
  bestValidation: number;
  /** Weight of the aligned part chosen from `contentMix` on the validation pairs (1 = aligned only). */
  mixWeight: number;
  /**
   * The retrieval space `[√w · embeddings, √(1−w) · content/|content|]`, float32
   * `[items, dims · M + D]`, rows unit length; null when `mixWeight` is 1 (use `embeddings`).
   */
  retrieval: Tensor | null;
  /** Training wall seconds. */
  seconds: number;
}

function samplePairs(p: ItemPairs, max: number, g: Generator): ItemPairs {
  if (p.a.length <= max) return p;
  const idx = Array.from({ length: p.a.length }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const keep = idx.slice(0, max).sort((x, y) => x - y);
  return { a: Int32Array.from(keep, (k) => p.a[k]), b: Int32Array.from(keep, (k) => p.b[k]), score: Float32Array.from(keep, (k) => p.score[k]) };
}

/**
 * Every item projected (no gradient), rows L2-normalised, as a host array `[items, d]`: content
 * goes through the projector on its device in chunks of rows, and each chunk's output is read
 * once (the projection is the caller's result or metric, the edge where the host reads).
 */
function projectRows(model: MLP, content: Tensor, chunk = 4096): Float32Array {
  const [n] = content.shape;
  const d = model.sizes[model.sizes.length - 1];
  const out = new Float32Array(n * d);
  noGrad(() => {
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      tidy(() => {
        const rows = m === n ? content : runKernel('slice', { x: content }, { axis: 0, start: s, length: m });
        const z = l2Normalize(model.forward(rows));
        out.set(z.readHost() as Float32Array, s * d);
      });
    }
  });
  return out;
}

/** Projects every item (no gradient), rows L2-normalised. */
export function projectAll(model: MLP, content: Tensor, chunk = 4096): Tensor {
  return tensor(projectRows(model, content, chunk), [content.shape[0], model.sizes[model.sizes.length - 1]]);
}

/** {@link projectEnsemble}'s rows as a host array `[items, Σ d]`. */
function ensembleRows(models: readonly MLP[], content: Tensor): Float32Array {
  if (models.length === 1) return projectRows(models[0], content);
  const n = content.shape[0];
  const parts = models.map((m) => projectRows(m, content));
  const dm = parts.map((v) => v.length / n);
  const d = dm.reduce((a, b) => a + b, 0);
  const f = 1 / Math.sqrt(models.length);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let off = i * d;
    parts.forEach((v, k) => {
      for (let c = 0; c < dm[k]; c++) out[off + c] = v[i * dm[k] + c] * f;
      off += dm[k];
    });
  }
  return out;
}

/**
 * Projects every item through each projector of an ensemble and concatenates the L2-normalised
 * outputs scaled by `1/√M` (rows unit length; inner products = mean member cosine).
 */
export function projectEnsemble(models: readonly MLP[], content: Tensor): Tensor {
  const rows = ensembleRows(models, content);
  return tensor(rows, [content.shape[0], rows.length / content.shape[0]]);
}

/** Host-made values (row ids, masks, saved weights) as a tensor on `device`: an upload, no tensor memory is read. */
function upload(data: Int32Array | Float32Array, shape: readonly number[], device: Device): Tensor {
  const t = tensor(data, shape, data instanceof Int32Array ? 'int32' : 'float32');
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/** The options of {@link trainAligner} with their defaults applied, after the checks. */
interface Resolved extends AlignerSettingsInput {
  n: number;
  din: number;
}

/** One projector of the ensemble with its optimiser, shuffle stream and pair order. */
interface Member {
  model: MLP;
  optim: Adam;
  g: Generator;
  order: Int32Array;
}

/** Checks `content`, `pairs` and the options and applies the defaults (no side effect, so every rank can run it before agreeing). */
function resolveOptions(content: Tensor, pairs: ItemPairs, opts: AlignerOptions): Resolved {
  if (content.rank !== 2 || content.dtype !== 'float32') {
    throw new ValueError(`argument 'content' must be float32 [items, D], got ${content.dtype} [${content.shape.join(', ')}]`, 'content');
  }
  const [n, din] = content.shape;
  const checkPairs = (p: ItemPairs, name: string): void => {
    if (p.a.length !== p.b.length) throw new ValueError(`argument '${name}': a and b differ in length`, name);
    for (let k = 0; k < p.a.length; k++) {
      if (!(p.a[k] >= 0 && p.a[k] < n && p.b[k] >= 0 && p.b[k] < n)) {
        throw new ValueError(`argument '${name}': pair ${k} (${p.a[k]}, ${p.b[k]}) outside [0, ${n})`, name);
      }
    }
  };
  checkPairs(pairs, 'pairs');
  if (pairs.a.length === 0) throw new ValueError("argument 'pairs' is empty: no behaviour pairs to align on", 'pairs');
  if (opts.validation) checkPairs(opts.validation, 'validation');
  const dims = opts.dims ?? D.dims;
  const temperature = opts.temperature ?? D.temperature;
  const members = opts.ensemble ?? D.ensemble;
  const batchSize = Math.min(opts.batchSize ?? D.batchSize, pairs.a.length);
  const epochs = opts.epochs ?? D.epochs;
  const patience = opts.patience ?? D.patience;
  const nbW = opts.neighbourhoodWeight ?? D.neighbourhoodWeight;
  const nbT = opts.neighbourhoodTemperature ?? D.neighbourhoodTemperature;
  const K = opts.validationK ?? D.validationK;
  if (!(temperature > 0)) throw new ValueError("argument 'temperature' must be > 0", 'temperature');
  if (!Number.isInteger(dims) || dims < 1) throw new ValueError("argument 'dims' must be a positive integer", 'dims');
  if (!(batchSize >= 2)) throw new ValueError("argument 'batchSize' must be >= 2", 'batchSize');
  if (!Number.isInteger(members) || members < 1) throw new ValueError("argument 'ensemble' must be a positive integer", 'ensemble');
  const seed = opts.seed ?? D.seed;
  const mixes = opts.contentMix ?? D.contentMix;
  if (mixes.length === 0 || mixes.some((w) => !(w > 0 && w <= 1))) throw new ValueError("argument 'contentMix' must list weights in (0, 1]", 'contentMix');
  return { n, din, dims, temperature, members, batchSize, epochs, patience, nbW, nbT, K, seed, mixes };
}

/** The ensemble's projectors, each from its own seed. */
function makeTeam(r: Resolved, opts: AlignerOptions, pairCount: number): Member[] {
  // Member 0 uses `seed` itself, so a one-projector run is what it was before ensembles.
  return Array.from({ length: r.members }, (_, k) => {
    const s = r.seed + 1009 * k;
    const model = new MLP([r.din, ...(opts.hidden ?? D.hidden), r.dims], { activation: opts.activation ?? D.activation, seed: s });
    const optim = new Adam(model.parameters(), { lr: opts.lr ?? D.lr, weightDecay: opts.weightDecay ?? D.weightDecay, decoupled: true });
    return { model, optim, g: new Generator(s + 1), order: Int32Array.from({ length: pairCount }, (_, i) => i) };
  });
}

/**
 * Trains the projector on `pairs` over frozen `content` (`[items, D]` float32); with `dist` of
 * more than one rank, data-parallel (see {@link AlignerOptions.dist}).
 * @throws ValueError for bad shapes, pair indices out of range, or bad options (under `dist`, on
 * every rank, also when the ranks' options or data differ).
 */
export function trainAligner(content: Tensor, pairs: ItemPairs, opts: AlignerOptions = {}): AlignerResult {
  const comm = opts.dist !== undefined && opts.dist.worldSize > 1 ? opts.dist : null;
  let built: { r: Resolved; team: Member[] } | undefined;
  const build = (): { r: Resolved; team: Member[] } => {
    const r = resolveOptions(content, pairs, opts);
    return (built = { r, team: makeTeam(r, opts, pairs.a.length) });
  };
  const { r, team } = comm
    ? agreeOnTraining(comm, build, () =>
        alignerSettings(
          built!.r,
          opts,
          content,
          pairs,
          built!.team.flatMap((m) => m.model.parameters()),
        ),
      )
    : build();
  const { n, din, dims, temperature, members, batchSize, epochs, patience, nbW, nbT, K, seed, mixes } = r;
  const log = opts.log ?? (() => undefined);
  const models = team.map((m) => m.model);
  const model = models[0];
  const dOut = dims * members;
  // Content rows L2-normalised once, for the neighbourhood term and the mixed retrieval space
  // (the one read of the content, before training).
  const x = content.readHost() as Float32Array;
  const xn = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < din; c++) s += x[i * din + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < din; c++) xn[i * din + c] = x[i * din + c] * inv;
  }
  const val =
    opts.validation && opts.validation.a.length ? samplePairs(opts.validation, opts.maxValidationPairs ?? D.maxValidationPairs, new Generator(seed + 2)) : null;
  // The content part of the mixed space never changes: its score rows are computed once.
  const contentScorer = mixes.some((w) => w < 1) ? cachedScorer(embeddingScorer(xn, n, din), n) : null;
  const evaluate = (): { r: number; w: number } => {
    if (!val) return { r: NaN, w: mixes[0] };
    const zs = cachedScorer(embeddingScorer(ensembleRows(models, content), n, dOut), n);
    let best = { r: -Infinity, w: 1 };
    for (const w of mixes) {
      const r = pairRecall(w < 1 ? mixedScorer(zs, contentScorer!, w) : zs, n, val, { ks: [K] }).recall[K];
      if (r > best.r) best = { r, w };
    }
    return best;
  };
  const params = models.flatMap((m) => m.parameters());
  // The kept weights are host copies (read when validation improves, written back by upload).
  const snapshot = (): Float32Array[] => params.map((p) => p.readHost() as Float32Array);
  const project = (): Tensor => projectEnsemble(models, content);
  const t0 = performance.now();
  const first = evaluate();
  let best = first.r;
  let bestMix = first.w;
  let bestEpoch = 0;
  let bestState = val ? snapshot() : [];
  let bad = 0;
  const history: AlignEpoch[] = [];
  log(
    `aligner: ${pairs.a.length} pairs, ${n} items, ${din} -> ${dims}${members > 1 ? ` x ${members} projectors` : ''}, epoch 0 validation R@${K} ${best.toFixed(4)}`,
  );
  opts.onEpoch?.(0, model, project);
  // One epoch of one projector: its own shuffle, full batches only.
  // Each member's loss summed over an epoch's steps, float64 bits on the content's device: the
  // steps' losses stay there, and the host reads the sums once per epoch.
  const device = content.device;
  const lossSums = f64Zeros(members, device);
  // This rank's rows [lo, hi) of every global batch (all of them in one process).
  const [lo, hi] = comm ? rankSlice(batchSize, comm.worldSize, comm.rank) : [0, batchSize];
  // One epoch of one projector: its own shuffle, full batches only. Host-made row ids and masks
  // are uploaded; in one process nothing of the device is read (under dist the exchange reads
  // this rank's projected rows and gradients). Returns the number of steps.
  const trainEpoch = ({ model: m, optim, g, order }: Member, slot: number): number => {
    for (let i = order.length - 1; i > 0; i--) {
      const j = g.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const losses: Tensor[] = [];
    // Drop the last incomplete batch: a tiny batch gives a much easier contrastive task.
    for (let s = 0; s + batchSize <= order.length; s += batchSize) {
      const ia = new Int32Array(batchSize);
      const ib = new Int32Array(batchSize);
      for (let k = 0; k < batchSize; k++) {
        ia[k] = pairs.a[order[s + k]];
        ib[k] = pairs.b[order[s + k]];
      }
      // Mask in-batch false negatives: another row whose partner is the same item.
      const mask = new Float32Array(batchSize * batchSize);
      for (let r = 0; r < batchSize; r++) {
        for (let c = 0; c < batchSize; c++) {
          if (r !== c && (ib[c] === ib[r] || ia[c] === ia[r] || ib[c] === ia[r])) mask[r * batchSize + c] = -1e4;
        }
      }
      const loss = tidy(() => {
        const project = (ids: Int32Array): Tensor => l2Normalize(m.forward(gather(content, upload(ids, [ids.length], device))));
        let za: Tensor;
        let zb: Tensor;
        if (!comm) {
          za = project(ia);
          zb = project(ib);
        } else {
          // This rank projects its slice only; the global batch is assembled from every rank's rows.
          const own = hi > lo ? [project(ia.slice(lo, hi)), project(ib.slice(lo, hi))] : null;
          [za, zb] = globalRows(comm, own, 2, dims, device);
        }
        let l = infoNCE(za, zb, temperature, upload(mask, [batchSize, batchSize], device));
        if (nbW > 0) {
          const ca = new Float32Array(batchSize * din);
          const cb = new Float32Array(batchSize * din);
          for (let k = 0; k < batchSize; k++) {
            ca.set(xn.subarray(ia[k] * din, (ia[k] + 1) * din), k * din);
            cb.set(xn.subarray(ib[k] * din, (ib[k] + 1) * din), k * din);
          }
          const nb = add(neighbourhoodLoss(za, ca, temperature, nbT), neighbourhoodLoss(zb, cb, temperature, nbT));
          l = add(l, mul(nb, nbW / 2));
        }
        optim.zeroGrad();
        if (!comm) l.backward();
        else {
          // A rank with no rows of this batch has nothing to differentiate; it adds zeros.
          if (hi > lo) l.backward();
          allReduceGradients(comm, m.parameters());
        }
        optim.step();
        return runKernel('copy', { x: l.view([1]) });
      });
      losses.push(loss);
    }
    // The epoch's loss sum in float64 in step order (what a host loop over the steps' losses adds).
    const all = runKernel('concat', Object.fromEntries(losses.map((t, k) => [`step${k}`, t])), { axis: 0 });
    runKernel('sumF64', { x: all, out: lossSums }, { slot, square: false });
    all.dispose();
    for (const t of losses) t.dispose();
    return losses.length;
  };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    let steps = 0;
    team.forEach((member, k) => (steps += trainEpoch(member, k)));
    // The epoch's one read of the training loss: the members' sums, added in member order.
    const sums = f64FromBits(lossSums.readHost());
    let lossSum = 0;
    for (let k = 0; k < members; k++) lossSum += sums[k];
    const { r: v, w } = evaluate();
    const rec: AlignEpoch = { epoch, loss: lossSum / Math.max(steps, 1), validation: v, mixWeight: w, seconds: (performance.now() - te) / 1000 };
    history.push(rec);
    log(
      `aligner: epoch ${epoch} loss ${rec.loss.toFixed(4)} validation R@${K} ${v.toFixed(4)}${mixes.length > 1 ? ` (mix w ${w})` : ''} (${rec.seconds.toFixed(1)} s)`,
    );
    let stop = false;
    if (!val) bestEpoch = epoch;
    else if (v > best) {
      best = v;
      bestMix = w;
      bestEpoch = epoch;
      bestState = snapshot();
      bad = 0;
    } else if (++bad >= patience) stop = true;
    let asked = opts.onEpoch?.(epoch, model, project) === true;
    // A stop asked on one rank stops every rank: one that left the loop alone would leave the
    // others waiting in the next step's exchange.
    if (comm && opts.onEpoch) asked = comm.allReduce(Int32Array.of(asked ? 1 : 0))[0] > 0;
    if (asked) stop = true;
    if (stop) break;
  }
  lossSums.dispose();
  if (val) {
    params.forEach((p, i) => {
      const saved = upload(bestState[i], p.shape, p.device);
      runKernel('copyInto', { x: saved, out: p });
      saved.dispose();
    });
  }
  const rows = ensembleRows(models, content);
  const embeddings = tensor(rows, [n, dOut]);
  const retrieval = bestMix < 1 ? tensor(mixSpaces(rows, dOut, xn, din, n, bestMix), [n, dOut + din]) : null;
  return { embeddings, model, models, history, bestEpoch, bestValidation: best, mixWeight: bestMix, retrieval, seconds: (performance.now() - t0) / 1000 };
}
