/**
 * The data-parallel parts of {@link trainAligner} with `dist` (issue 17): the exchange of a
 * step's projected rows, which makes every rank's loss the global batch's in-batch InfoNCE, and
 * the all-reduce of the projector's gradients. Used only with more than one rank; the
 * one-process aligner never calls into this file.
 *
 * Why the rows travel and not only the gradients: the contrastive loss couples every row of the
 * batch with every other (in-batch negatives, the false-negative mask, the neighbourhood term),
 * so a rank cannot compute its share of the loss from its own rows. Each rank projects its
 * slice, receives the other slices as plain numbers, and evaluates the whole global loss with
 * only its own rows tracked by autograd. Its backward then gives exactly the part of the
 * one-process gradient that flows through its rows, and the sum over ranks is the whole.
 * @internal
 */
import { concat } from '../autograd/ops/shape.js';
import { fingerprintArrays } from '../dist/agree.js';
import type { Communicator } from '../dist/index.js';
import type { Device } from '../tensor/dtype.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AlignerOptions } from './aligner.js';
import type { ItemPairs } from './pairs.js';

/**
 * The collectives data-parallel aligner training uses: lib/dist's {@link Communicator} (the
 * shared `dist`), or anything with the same members (a wrapper, a test double).
 */
export type AlignCommunicator = Pick<Communicator, 'rank' | 'worldSize' | 'allReduce' | 'allGather'>;

/** The resolved settings that {@link alignerSettings} compares (what trainAligner resolves). */
export interface AlignerSettingsInput {
  dims: number;
  temperature: number;
  members: number;
  batchSize: number;
  epochs: number;
  patience: number;
  nbW: number;
  nbT: number;
  K: number;
  seed: number;
  mixes: readonly number[];
}

const pairPrint = (p: ItemPairs | undefined): number => (p ? fingerprintArrays(p.a.length, [p.a, p.b, p.score]) : -1);

/**
 * What must be the same on every rank of data-parallel aligner training: every option that
 * changes the numbers, and fingerprints of the content, the pairs, the validation pairs and the
 * initial weights (a different build or seed handling on one rank shows there, not as drift).
 */
export function alignerSettings(
  r: AlignerSettingsInput,
  opts: AlignerOptions,
  content: Tensor,
  pairs: ItemPairs,
  params: readonly Tensor[],
): Record<string, number> {
  const hidden = opts.hidden ?? [];
  const text = (v: string | undefined): number => fingerprintArrays(0, [Int32Array.from(v ?? '', (c) => c.charCodeAt(0))]);
  return {
    dims: r.dims,
    temperature: r.temperature,
    ensemble: r.members,
    batchSize: r.batchSize,
    epochs: r.epochs,
    patience: r.patience,
    neighbourhoodWeight: r.nbW,
    neighbourhoodTemperature: r.nbT,
    validationK: r.K,
    seed: r.seed,
    lr: opts.lr ?? -1,
    weightDecay: opts.weightDecay ?? -1,
    maxValidationPairs: opts.maxValidationPairs ?? -1,
    hidden: fingerprintArrays(hidden.length, [Int32Array.from(hidden)]),
    activation: text(opts.activation),
    contentMix: fingerprintArrays(r.mixes.length, [Float32Array.from(r.mixes)]),
    content: fingerprintArrays(content.shape[0] * 65536 + content.shape[1], [content.readHost() as Float32Array]),
    pairs: pairPrint(pairs),
    validation: pairPrint(opts.validation),
    'initial weights': fingerprintArrays(
      params.length,
      params.map((p) => p.readHost() as Float32Array),
    ),
  };
}

/** Host numbers as a tensor on `device` (an upload; nothing is read back). */
function constant(data: Float32Array, shape: readonly number[], device: Device): Tensor {
  const t = tensor(data, shape);
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/**
 * The global batch's `[B, d]` matrices on every rank, from this rank's slices `own` (each
 * `[b_r, d]`, autograd-tracked; null when this rank's slice of the batch is empty). One
 * allGather moves every rank's rows of all the matrices at once. In the result, rows of the
 * other ranks are constants and this rank's rows are `own` itself (joined by the autograd
 * concat), so a backward reaches this rank's projector through its own rows only.
 */
export function globalRows(comm: AlignCommunicator, own: readonly Tensor[] | null, count: number, d: number, device: Device): Tensor[] {
  const mine = new Float32Array(own ? own.reduce((s, t) => s + t.size, 0) : 0);
  if (own) {
    let off = 0;
    for (const t of own) {
      mine.set(t.readHost() as Float32Array, off);
      off += t.size;
    }
  }
  const parts = comm.allGather(mine);
  const rowsOf = parts.map((p) => p.length / (count * d));
  const gather = (k: number, from: number, to: number): { data: Float32Array; rows: number } => {
    let rows = 0;
    for (let r = from; r < to; r++) rows += rowsOf[r];
    const data = new Float32Array(rows * d);
    let off = 0;
    for (let r = from; r < to; r++) {
      const n = rowsOf[r] * d;
      data.set(parts[r].subarray(k * n, (k + 1) * n), off);
      off += n;
    }
    return { data, rows };
  };
  return Array.from({ length: count }, (_, k) => {
    if (!own) {
      const all = gather(k, 0, parts.length);
      return constant(all.data, [all.rows, d], device);
    }
    const before = gather(k, 0, comm.rank);
    const after = gather(k, comm.rank + 1, parts.length);
    const pieces = [
      ...(before.rows ? [constant(before.data, [before.rows, d], device)] : []),
      own[k],
      ...(after.rows ? [constant(after.data, [after.rows, d], device)] : []),
    ];
    return pieces.length === 1 ? own[k] : concat(pieces, 0);
  });
}

/**
 * Makes every rank's gradients of `params` the global batch's: one float32 allReduce (summed
 * in rank order in float64, rounded once) of every parameter's gradient. A rank without a
 * gradient (an empty slice) contributes zeros. No scaling: each rank's backward was of the
 * global batch's mean loss already, so the sum is the one-process gradient up to the order of
 * the float additions.
 */
export function allReduceGradients(comm: AlignCommunicator, params: readonly Tensor[]): void {
  const total = params.reduce((s, p) => s + p.size, 0);
  const payload = new Float32Array(total);
  let off = 0;
  for (const p of params) {
    // The projector's gradients are dense tensors (no embedding tables in an MLP).
    if (p.grad) payload.set((p.grad as Tensor).readHost() as Float32Array, off);
    off += p.size;
  }
  const sum = comm.allReduce(payload);
  off = 0;
  for (const p of params) {
    p.grad?.dispose();
    p.grad = constant(sum.slice(off, off + p.size), p.shape, p.device);
    off += p.size;
  }
}
