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

/** One kernel's signature: its tensor inputs, plain attributes and result. */
export interface KernelSignature<I, A, O> {
  inputs: I;
  attrs: A;
  output: O;
}

/** Attributes of `nearest` / `nearestAsync`. */
export interface NearestKernelAttrs {
  k: number;
  metric: NearestMetric;
  /** CUDA only: exact 'fp32' or 'tf32' tensor-core search (default: the backend's setting). */
  variant?: 'fp32' | 'tf32';
  /** CUDA only: candidates the tf32 search re-ranks exactly. */
  candidates?: number;
}

/** Attributes of the dense and row-sparse Adam steps. */
export interface AdamKernelAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  step: number;
}

/** The weights of the one-hidden-layer DIN scorer. */
export interface DinKernelWeights {
  W1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

/**
 * Where a backend may keep forward activations for the backward pass; opaque to the caller,
 * which passes the same object to both kernels.
 */
export interface KernelCache {
  value?: unknown;
}

/** Every kernel: inputs, attributes, result. */
export interface KernelTable {
  // ---- dense math (cpu/kernels.ts, cuda/kernels.ts) ----
  matmul: KernelSignature<{ a: Tensor; b: Tensor }, { M: number; N: number; K: number; transA: boolean; transB: boolean; outShape: number[] }, Tensor>;
  unary: KernelSignature<{ x: Tensor }, { op: UnaryName }, Tensor>;
  /** Broadcast via strides over `shape` (0 on broadcast dimensions). */
  binary: KernelSignature<{ a: Tensor; b: Tensor }, { op: BinaryName; shape: readonly number[]; aStrides: number[]; bStrides: number[] }, Tensor>;
  /** Sum over the middle axis of x viewed as [outer, len, inner]. */
  sumAxis: KernelSignature<{ x: Tensor }, { outer: number; len: number; inner: number; outShape: number[] }, Tensor>;
  softmaxRows: KernelSignature<{ x: Tensor }, { rows: number; cols: number }, Tensor>;
  logsumexpRows: KernelSignature<{ x: Tensor }, { rows: number; cols: number; outShape: readonly number[] }, Tensor>;
  /** → [normalised rows, row norms]. */
  l2NormalizeRows: KernelSignature<{ x: Tensor }, { rows: number; cols: number; eps: number }, [Tensor, Tensor]>;
  /**
   * l2NormalizeRows' backward terms from its norms: → [clamped, mask], x's shape: where
   * float64(norm) < eps, float32(eps) and 0, else the norm and 1.
   */
  clampNorms: KernelSignature<{ norms: Tensor }, { eps: number }, [Tensor, Tensor]>;
  argReduceRows: KernelSignature<{ x: Tensor }, { rows: number; cols: number; isMax: boolean; outShape: readonly number[] }, Tensor>;
  /** y = alpha x + beta y in place; → y. */
  axpby: KernelSignature<{ x: Tensor; y: Tensor }, { alpha: number; beta: number }, Tensor>;

  // ---- creation, copies and shapes ----
  /** No tensor inputs: runs on `device` (default cpu). */
  fill: KernelSignature<Record<string, never>, { shape: readonly number[]; value: number; dtype?: DType; device?: Device }, Tensor>;
  copy: KernelSignature<{ x: Tensor }, Record<string, never>, Tensor>;
  /** out's elements become x's (same size and dtype), in place, bit for bit; → out. */
  copyInto: KernelSignature<{ x: Tensor; out: Tensor }, Record<string, never>, Tensor>;
  transpose2d: KernelSignature<{ x: Tensor }, Record<string, never>, Tensor>;
  concat: KernelSignature<Record<string, Tensor>, { axis: number }, Tensor>;
  slice: KernelSignature<{ x: Tensor }, { axis: number; start: number; length: number }, Tensor>;
  /** Zero-pads x along `axis` to `size`, placing it at offset `before` (slice's gradient). */
  pad: KernelSignature<{ x: Tensor }, { axis: number; before: number; size: number }, Tensor>;
  /** Float32 [rows, c_i] matrices side by side. */
  concatColumns: KernelSignature<Record<string, Tensor>, { rows: number; outShape: readonly number[] }, Tensor>;
  sliceColumns: KernelSignature<{ x: Tensor }, { rows: number; cols: number; start: number; width: number; outShape: readonly number[] }, Tensor>;

  // ---- rows by index ----
  gatherRows: KernelSignature<{ table: Tensor; indices: Tensor }, { argName?: string }, Tensor>;
  /** Zero rows where an index is negative (padding). */
  gatherRowsPadded: KernelSignature<{ table: Tensor; indices: Tensor }, { argName?: string }, Tensor>;
  /** In place on target; → target. */
  scatterAddRows: KernelSignature<{ target: Tensor; indices: Tensor; source: Tensor }, { argName?: string }, Tensor>;
  /** scatterAddRows that is bit-exact across devices (torch's index_add_); → target. */
  indexAdd: KernelSignature<{ target: Tensor; indices: Tensor; source: Tensor }, { argName?: string }, Tensor>;

  // ---- dense optimizers, in place on param and state; → param ----
  sgdUpdate: KernelSignature<
    { param: Tensor; grad: Tensor; velocity?: Tensor },
    { lr: number; momentum: number; weightDecay: number; nesterov: boolean },
    Tensor
  >;
  adamUpdate: KernelSignature<{ param: Tensor; grad: Tensor; m: Tensor; v: Tensor }, AdamKernelAttrs, Tensor>;

  // ---- quantisation ----
  nearest: KernelSignature<{ x: Tensor; codebook: Tensor }, NearestKernelAttrs, { indices: Tensor; distances: Tensor }>;
  nearestAsync: KernelSignature<{ x: Tensor; codebook: Tensor }, NearestKernelAttrs, Promise<{ indices: Tensor; distances: Tensor }>>;
  /** Centroids become the means of their assigned rows (in place); → int32 counts. */
  kmeansUpdate: KernelSignature<{ x: Tensor; assignments: Tensor; centroids: Tensor }, Record<string, never>, Tensor>;
  /**
   * The per-iteration statistic of k-means, what ranks of a distributed k-means all-reduce:
   * rows per cluster (int32 [K]) and each cluster's row sums in float64, accumulated in row
   * order (int32 [K, D, 2]: float64 bits, see f64_bits.ts); empty clusters sum to 0.
   */
  clusterSums: KernelSignature<{ x: Tensor; assignments: Tensor }, { K: number }, { counts: Tensor; sums: Tensor }>;
  /** centroids[c] = float32(sums[c] · (1 / counts[c])) for every non-empty c, in place (others untouched); → centroids. */
  centroidsFromSums: KernelSignature<{ sums: Tensor; counts: Tensor; centroids: Tensor }, Record<string, never>, Tensor>;
  /**
   * FAISS's empty-cluster rule in cluster order: an empty cluster takes a copy of one chosen
   * with probability ∝ (size − 1), both perturbed by ±1/1024; draws come from the xoshiro128**
   * state `rng` (int32 [4], advanced in place). centroids and counts change in place, the
   * number of splits is added to splits[0]; → centroids.
   */
  splitEmptyClusters: KernelSignature<{ centroids: Tensor; counts: Tensor; rng: Tensor; splits: Tensor }, { n: number }, Tensor>;
  /**
   * One k-means++ round over N rows: marks the rows of `round` chosen, folds `distances` (to
   * those rows' centres) into `minDist` (chosen rows: 0), then draws `m` distinct new rows by D²
   * sampling from `rng` (advanced in place); → int32 [m] row ids.
   */
  dsquaredRound: KernelSignature<{ distances: Tensor; minDist: Tensor; chosen: Tensor; round: Tensor; rng: Tensor }, { m: number }, Tensor>;
  /** Float64 sum of float32 x (of its squares with `square`) in element order, stored in slot `slot` of float64-bits `out`; → out. */
  sumF64: KernelSignature<{ x: Tensor; out: Tensor }, { slot: number; square: boolean }, Tensor>;
  /**
   * Capacity-constrained assignment (lib/tensor/balanced_assign.ts) from each row's centroids
   * nearest first (`order`, int32 [N, K]) and their distances; the objective goes to slot `slot`
   * of float64-bits `objective`; → int32 [N] assignments.
   */
  balancedAssign: KernelSignature<{ order: Tensor; distances: Tensor; objective: Tensor }, { cap: number; slot: number }, Tensor>;
  /** Float64 moving average in place: state = decay · state + (1 − decay) · x (state float64 bits [n, 2], x float32 [n]); → state. */
  emaF64Update: KernelSignature<{ state: Tensor; x: Tensor }, { decay: number }, Tensor>;
  /**
   * The EMA codebook update of a VQ level: float64 `emaCounts` [K] and `emaSums` [K, D] fold in
   * the step's `counts` and `sums` (float32), then codeword k = sums_k / Laplace-smoothed count
   * (counts in code order, float64); all in place; → codebook.
   */
  vqEmaUpdate: KernelSignature<{ codebook: Tensor; emaCounts: Tensor; emaSums: Tensor; counts: Tensor; sums: Tensor }, { decay: number; eps: number }, Tensor>;
  /**
   * Dead-code restarts of a VQ level in code order: a code whose float64 usage is below
   * `threshold` takes a row of `residual` drawn from `rng` (advanced), its usage becomes the
   * threshold, its EMA state (if given) the row; restarts[0] counts them; → codebook.
   */
  deadCodeRestart: KernelSignature<
    { codebook: Tensor; usage: Tensor; residual: Tensor; rng: Tensor; restarts: Tensor; emaCounts?: Tensor; emaSums?: Tensor },
    { threshold: number },
    Tensor
  >;
  /** Float32 values as float64 bits: → int32 [size, 2]. */
  f32ToF64: KernelSignature<{ x: Tensor }, Record<string, never>, Tensor>;
  /** One residual level: codes, quantized and next residual written in place; → squared error. */
  rvqLevelForward: KernelSignature<{ residual: Tensor; codebook: Tensor; codes: Tensor; quantized: Tensor; next: Tensor }, Record<string, never>, number>;
  /**
   * VQ codes without the item itself: row i of int32 [N, k+1] neighbour ids without its first
   * entry equal to i (its last entry when none is) → int32 [N, k].
   */
  dropSelf: KernelSignature<{ indices: Tensor }, Record<string, never>, Tensor>;
  /** grad[codes[i]] += scale rows[i] in place; → grad. */
  vqScatterAddScaled: KernelSignature<{ grad: Tensor; codes: Tensor; rows: Tensor }, { scale: number }, Tensor>;
  rvqSteBackward: KernelSignature<{ gradOut?: Tensor; rows?: Tensor }, { levels: number; shape: readonly number[]; scale: number }, Tensor>;
  vqCodeSums: KernelSignature<{ x: Tensor; codes: Tensor }, { K: number }, { counts: Tensor; sums: Tensor }>;

  // ---- the fused InfoNCE step (lib/align/aligner.ts infoNCE; float64 as its host loop was) ----
  /** Logits [b, b] = float32(float64(s) / temperature + float64(mask)) (no mask: + 0). */
  infoNceLogits: KernelSignature<{ s: Tensor; mask?: Tensor }, { temperature: number }, Tensor>;
  /** Loss [] = float32(Σ_k (lseR[k] + lseC[k] − 2 l[k, k]) / 2b), summed in float64 in k order (lseR, lseC: b values). */
  infoNceLoss: KernelSignature<{ lseR: Tensor; lseC: Tensor; l: Tensor }, Record<string, never>, Tensor>;
  /** dL [b, b] = float32((pr[i, j] + pc[j, i] − 2δᵢⱼ) · dy / (2b · temperature)) in float64; dy has one value. */
  infoNceGrad: KernelSignature<{ pr: Tensor; pc: Tensor; dy: Tensor }, { temperature: number }, Tensor>;

  // ---- embedding tables: row-sparse gradients, bags, sparse optimizers ----
  /** → [unique ascending rows, summed source rows of each]. */
  coalesceRows: KernelSignature<
    { indices: Tensor; source: Tensor },
    { argName?: string; rows: number; rowShape: number[]; skipNegative?: boolean },
    [Tensor, Tensor]
  >;
  bagPool: KernelSignature<{ table: Tensor; values: Tensor; offsets: Tensor; weights?: Tensor }, { argName?: string; mean: boolean }, Tensor>;
  /** → coalesced row-sparse gradient of the table. */
  bagBackward: KernelSignature<
    { values: Tensor; offsets: Tensor; weights?: Tensor; dy: Tensor },
    { argName?: string; rows: number; rowShape: number[]; mean: boolean },
    [Tensor, Tensor]
  >;
  sparseAdamUpdate: KernelSignature<{ param: Tensor; m: Tensor; v: Tensor; indices: Tensor; grad: Tensor }, AdamKernelAttrs, Tensor>;
  rowwiseAdagradUpdate: KernelSignature<
    { param: Tensor; state: Tensor; indices: Tensor; grad: Tensor },
    { lr: number; eps: number; weightDecay: number },
    Tensor
  >;
  /** Block g of each row sums the tables of group g at their host ids (negative: padding). */
  tbeLookup: KernelSignature<Record<string, Tensor>, { argName?: string; ids: Int32Array[]; group: number[]; G: number; n: number; dim: number }, Tensor>;
  /** Coalesced gradient of one table from its column block of a [n, stride] gradient. */
  coalesceStrided: KernelSignature<{ source: Tensor }, { argName?: string; ids: Int32Array; rows: number; dim: number; offset: number }, [Tensor, Tensor]>;

  // ---- attention ----
  /** out[b, m, :] = Σ_h w[b, m, h] k[b, h, :]. */
  weightedPool: KernelSignature<{ w: Tensor; k: Tensor }, Record<string, never>, Tensor>;
  weightedPoolBackward: KernelSignature<{ w: Tensor; k: Tensor; dout: Tensor }, { needW: boolean; needK: boolean }, [Tensor | null, Tensor | null]>;
  /** One-hidden-layer DIN scorer → scores [B, H]. */
  dinScores: KernelSignature<{ query: Tensor; keys: Tensor } & DinKernelWeights, { activation: 'sigmoid' | 'relu' }, Tensor>;
  /** → [dquery, dkeys, dW1, db1, dw2, db2]. */
  dinScoresBackward: KernelSignature<
    { query: Tensor; keys: Tensor; W1: Tensor; b1: Tensor; w2: Tensor; dscores: Tensor },
    { activation: 'sigmoid' | 'relu'; needQ: boolean; needK: boolean },
    [Tensor | null, Tensor | null, Tensor, Tensor, Tensor, Tensor]
  >;
  /** Target attention over packed [queries; keys] rows → pooled [B, M·K]. */
  dinAttentionPool: KernelSignature<
    { rep: Tensor; masks: Tensor } & DinKernelWeights,
    { B: number; H: number; activation: 'sigmoid' | 'relu'; cache?: KernelCache },
    Tensor
  >;
  /** → [drep, dW1, db1, dw2, db2]. */
  dinAttentionPoolBackward: KernelSignature<
    { rep: Tensor; masks: Tensor; dpooled: Tensor } & DinKernelWeights,
    { B: number; H: number; activation: 'sigmoid' | 'relu'; needRep: boolean; cache?: KernelCache },
    [Tensor | null, Tensor, Tensor, Tensor, Tensor]
  >;
}

/** The name of a kernel. */
export type KernelName = keyof KernelTable;
/** The tensor inputs of kernel `K`, by argument name. */
export type KernelInputs<K extends KernelName> = KernelTable[K]['inputs'];
/** The plain (non-tensor) attributes of kernel `K`. */
export type KernelAttrs<K extends KernelName> = KernelTable[K]['attrs'];
/** What kernel `K` returns. */
export type KernelOutput<K extends KernelName> = KernelTable[K]['output'];

/** An implementation of kernel `K` on one device. */
export type KernelImpl<K extends KernelName> = (inputs: KernelInputs<K>, attrs: KernelAttrs<K>) => KernelOutput<K>;

/** A backend: an implementation of every kernel. */
export type KernelImpls = { [K in KernelName]: KernelImpl<K> };

/** Part of a backend (one file's kernels); spread together they must make a {@link KernelImpls}. */
export type KernelGroup = Partial<KernelImpls>;
