/**
 * The kernel contract: every kernel's name with its tensor inputs, plain attributes and
 * result, in one table that the ops, the registry and every backend are typed against (after
 * tfjs-core's kernel_names, whose per-kernel Inputs/Attrs every backend shares). A backend
 * is a {@link KernelImpls}: an implementation of every kernel, so one that a device lacks is
 * a compile error rather than a failure found only on that device.
 * @internal
 */
import type { Device, DType } from './dtype.js';
import type { BinaryName, NearestMetric, UnaryName } from './op_codes.js';
import type { Tensor } from './tensor.js';

/** One kernel's signature. */
export interface Sig<I, A, O> {
  inputs: I;
  attrs: A;
  output: O;
}

/** Tensors keyed by any name, in order (concatenations; the keys name arguments in errors). */
export type Variadic = Record<string, Tensor>;
/** Argument name used in an index error (defaults to the input's own name). */
export interface Named {
  argName?: string;
}
export type Activation = 'sigmoid' | 'relu';
export type Pair = [Tensor, Tensor];
export type AdamAttrs = { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean; step: number };
export type Nearest = { indices: Tensor; distances: Tensor };
export type NearestAttrs = {
  k: number;
  metric: NearestMetric;
  /** CUDA only: exact 'fp32' or 'tf32' tensor-core search (default: the backend's setting). */
  variant?: 'fp32' | 'tf32';
  /** CUDA only: candidates the tf32 search re-ranks exactly. */
  candidates?: number;
};
export type DinWeights = { W1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
/**
 * Where a backend may keep forward activations for the backward pass; opaque to the caller,
 * which passes the same object to both kernels.
 */
export type KernelCache = { value?: unknown };

/** Every kernel: inputs, attributes, result. */
export interface KernelTable {
  // ---- dense math (cpu/kernels.ts, cuda/kernels.ts) ----
  matmul: Sig<{ a: Tensor; b: Tensor }, { M: number; N: number; K: number; transA: boolean; transB: boolean; outShape: number[] }, Tensor>;
  unary: Sig<{ x: Tensor }, { op: UnaryName }, Tensor>;
  /** Broadcast via strides over `shape` (0 on broadcast dimensions). */
  binary: Sig<{ a: Tensor; b: Tensor }, { op: BinaryName; shape: readonly number[]; aStrides: number[]; bStrides: number[] }, Tensor>;
  /** Sum over the middle axis of x viewed as [outer, len, inner]. */
  sumAxis: Sig<{ x: Tensor }, { outer: number; len: number; inner: number; outShape: number[] }, Tensor>;
  softmaxRows: Sig<{ x: Tensor }, { rows: number; cols: number }, Tensor>;
  logsumexpRows: Sig<{ x: Tensor }, { rows: number; cols: number; outShape: readonly number[] }, Tensor>;
  /** → [normalised rows, row norms]. */
  l2NormalizeRows: Sig<{ x: Tensor }, { rows: number; cols: number; eps: number }, Pair>;
  argReduceRows: Sig<{ x: Tensor }, { rows: number; cols: number; isMax: boolean; outShape: readonly number[] }, Tensor>;
  /** y = alpha x + beta y in place; → y. */
  axpby: Sig<{ x: Tensor; y: Tensor }, { alpha: number; beta: number }, Tensor>;

  // ---- creation, copies and shapes ----
  /** No tensor inputs: runs on `device` (default cpu). */
  fill: Sig<Record<string, never>, { shape: readonly number[]; value: number; dtype?: DType; device?: Device }, Tensor>;
  copy: Sig<{ x: Tensor }, Record<string, never>, Tensor>;
  transpose2d: Sig<{ x: Tensor }, Record<string, never>, Tensor>;
  concat: Sig<Variadic, { axis: number }, Tensor>;
  slice: Sig<{ x: Tensor }, { axis: number; start: number; length: number }, Tensor>;
  /** Zero-pads x along `axis` to `size`, placing it at offset `before` (slice's gradient). */
  pad: Sig<{ x: Tensor }, { axis: number; before: number; size: number }, Tensor>;
  /** Float32 [rows, c_i] matrices side by side. */
  concatColumns: Sig<Variadic, { rows: number; outShape: readonly number[] }, Tensor>;
  sliceColumns: Sig<{ x: Tensor }, { rows: number; cols: number; start: number; width: number; outShape: readonly number[] }, Tensor>;

  // ---- rows by index ----
  gatherRows: Sig<{ table: Tensor; indices: Tensor }, Named, Tensor>;
  /** Zero rows where an index is negative (padding). */
  gatherRowsPadded: Sig<{ table: Tensor; indices: Tensor }, Named, Tensor>;
  /** In place on target; → target. */
  scatterAddRows: Sig<{ target: Tensor; indices: Tensor; source: Tensor }, Named, Tensor>;
  /** scatterAddRows that is bit-exact across devices (torch's index_add_); → target. */
  indexAdd: Sig<{ target: Tensor; indices: Tensor; source: Tensor }, Named, Tensor>;

  // ---- dense optimizers, in place on param and state; → param ----
  sgdUpdate: Sig<{ param: Tensor; grad: Tensor; velocity?: Tensor }, { lr: number; momentum: number; weightDecay: number; nesterov: boolean }, Tensor>;
  adamUpdate: Sig<{ param: Tensor; grad: Tensor; m: Tensor; v: Tensor }, AdamAttrs, Tensor>;

  // ---- quantisation ----
  nearest: Sig<{ x: Tensor; codebook: Tensor }, NearestAttrs, Nearest>;
  nearestAsync: Sig<{ x: Tensor; codebook: Tensor }, NearestAttrs, Promise<Nearest>>;
  /** Centroids become the means of their assigned rows (in place); → int32 counts. */
  kmeansUpdate: Sig<{ x: Tensor; assignments: Tensor; centroids: Tensor }, Record<string, never>, Tensor>;
  /** One residual level: codes, quantized and next residual written in place; → squared error. */
  rvqLevelForward: Sig<{ residual: Tensor; codebook: Tensor; codes: Tensor; quantized: Tensor; next: Tensor }, Record<string, never>, number>;
  /** grad[codes[i]] += scale rows[i] in place; → grad. */
  vqScatterAddScaled: Sig<{ grad: Tensor; codes: Tensor; rows: Tensor }, { scale: number }, Tensor>;
  rvqSteBackward: Sig<{ gradOut?: Tensor; rows?: Tensor }, { levels: number; shape: readonly number[]; scale: number }, Tensor>;
  vqCodeSums: Sig<{ x: Tensor; codes: Tensor }, { K: number }, { counts: Tensor; sums: Tensor }>;

  // ---- embedding tables: row-sparse gradients, bags, sparse optimizers ----
  /** → [unique ascending rows, summed source rows of each]. */
  coalesceRows: Sig<{ indices: Tensor; source: Tensor }, Named & { rows: number; rowShape: number[]; skipNegative?: boolean }, Pair>;
  bagPool: Sig<{ table: Tensor; values: Tensor; offsets: Tensor; weights?: Tensor }, Named & { mean: boolean }, Tensor>;
  /** → coalesced row-sparse gradient of the table. */
  bagBackward: Sig<{ values: Tensor; offsets: Tensor; weights?: Tensor; dy: Tensor }, Named & { rows: number; rowShape: number[]; mean: boolean }, Pair>;
  sparseAdamUpdate: Sig<{ param: Tensor; m: Tensor; v: Tensor; indices: Tensor; grad: Tensor }, AdamAttrs, Tensor>;
  rowwiseAdagradUpdate: Sig<{ param: Tensor; state: Tensor; indices: Tensor; grad: Tensor }, { lr: number; eps: number; weightDecay: number }, Tensor>;
  /** Block g of each row sums the tables of group g at their host ids (negative: padding). */
  tbeLookup: Sig<Variadic, Named & { ids: Int32Array[]; group: number[]; G: number; n: number; dim: number }, Tensor>;
  /** Coalesced gradient of one table from its column block of a [n, stride] gradient. */
  coalesceStrided: Sig<{ source: Tensor }, Named & { ids: Int32Array; rows: number; dim: number; offset: number }, Pair>;

  // ---- attention ----
  /** out[b, m, :] = Σ_h w[b, m, h] k[b, h, :]. */
  weightedPool: Sig<{ w: Tensor; k: Tensor }, Record<string, never>, Tensor>;
  weightedPoolBackward: Sig<{ w: Tensor; k: Tensor; dout: Tensor }, { needW: boolean; needK: boolean }, [Tensor | null, Tensor | null]>;
  /** One-hidden-layer DIN scorer → scores [B, H]. */
  dinScores: Sig<{ query: Tensor; keys: Tensor } & DinWeights, { activation: Activation }, Tensor>;
  /** → [dquery, dkeys, dW1, db1, dw2, db2]. */
  dinScoresBackward: Sig<
    { query: Tensor; keys: Tensor; W1: Tensor; b1: Tensor; w2: Tensor; dscores: Tensor },
    { activation: Activation; needQ: boolean; needK: boolean },
    [Tensor | null, Tensor | null, Tensor, Tensor, Tensor, Tensor]
  >;
  /** Target attention over packed [queries; keys] rows → pooled [B, M·K]. */
  dinAttentionPool: Sig<{ rep: Tensor; masks: Tensor } & DinWeights, { B: number; H: number; activation: Activation; cache?: KernelCache }, Tensor>;
  /** → [drep, dW1, db1, dw2, db2]. */
  dinAttentionPoolBackward: Sig<
    { rep: Tensor; masks: Tensor; dpooled: Tensor } & DinWeights,
    { B: number; H: number; activation: Activation; needRep: boolean; cache?: KernelCache },
    [Tensor | null, Tensor, Tensor, Tensor, Tensor]
  >;
}

export type KernelName = keyof KernelTable;
export type KernelInputs<K extends KernelName> = KernelTable[K]['inputs'];
export type KernelAttrs<K extends KernelName> = KernelTable[K]['attrs'];
export type KernelOutput<K extends KernelName> = KernelTable[K]['output'];

/** An implementation of kernel `K` on one device. */
export type KernelImpl<K extends KernelName> = (inputs: KernelInputs<K>, attrs: KernelAttrs<K>) => KernelOutput<K>;

/** A backend: an implementation of every kernel. */
export type KernelImpls = { [K in KernelName]: KernelImpl<K> };

/** Part of a backend (one file's kernels); spread together they must make a {@link KernelImpls}. */
export type KernelGroup = Partial<KernelImpls>;
