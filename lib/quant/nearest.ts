/**
 * Nearest-codeword search: one fused native kernel computes distance tiles in registers and
 * reduces them into each row's running best k in the same pass (the N x K distance matrix is
 * never stored). See native/core/nearest.h.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { runKernel } from '../tensor/backend.js';
import { Tensor } from '../tensor/tensor.js';

/** Distance used by {@link nearest}. */
export type Metric = 'l2' | 'ip' | 'cosine';

/** Options of {@link nearest}. */
export interface NearestOptions {
  /** Neighbours per row (1 ≤ k ≤ K). Default 1. */
  k?: number;
  /** `l2`: squared Euclidean; `ip`: negative inner product; `cosine`: 1 − cosine. Default `l2`. */
  metric?: Metric;
}

/** Result of {@link nearest}: both `[N, k]`, each row sorted ascending by distance, ties to the lower index. */
export interface NearestResult {
  indices: Tensor;
  distances: Tensor;
}

const METRICS: readonly Metric[] = ['l2', 'ip', 'cosine'];

function check(x: Tensor, codebook: Tensor, opts: NearestOptions): { k: number; metric: Metric } {
  for (const [name, t] of [
    ['x', x],
    ['codebook', codebook],
  ] as const) {
    if (!(t instanceof Tensor)) throw new ValueError(`argument '${name}' must be a Tensor`, name);
    if (t.dtype !== 'float32') throw new DTypeError(`argument '${name}' must be float32, got ${t.dtype}`, name);
    if (t.rank !== 2) throw new ShapeError(`argument '${name}' must be 2-D [rows, dim], got [${t.shape.join(', ')}]`, name);
    if (t.shape[0] === 0 || t.shape[1] === 0) throw new ValueError(`argument '${name}' is empty ([${t.shape.join(', ')}])`, name);
  }
  if (x.shape[1] !== codebook.shape[1]) {
    throw new ShapeError(`argument 'codebook' has dim ${codebook.shape[1]} but 'x' has dim ${x.shape[1]}`, 'codebook');
  }
  const k = opts.k ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > codebook.shape[0]) {
    throw new IndexError(`argument 'k' must be an integer in [1, ${codebook.shape[0]}] (codebook rows), got ${k}`, 'k');
  }
  const metric = opts.metric ?? 'l2';
  if (!METRICS.includes(metric)) throw new ValueError(`argument 'metric' must be one of ${METRICS.join(', ')}, got ${String(metric)}`, 'metric');
  return { k, metric };
}

/**
 * The `k` nearest codebook rows of every row of `x`.
 * @param x float32 `[N, D]` queries
 * @param codebook float32 `[K, D]`
 * @returns int32 `indices` and float32 `distances`, both `[N, k]`
 * @throws IndexError for k > K, ShapeError for a D mismatch, ValueError for empty or NaN/Inf
 *   input, DTypeError for non-float32 tensors (each naming the argument)
 */
export function nearest(x: Tensor, codebook: Tensor, opts: NearestOptions = {}): NearestResult {
  const attrs = check(x, codebook, opts);
  return runKernel('nearest', { x, codebook }, attrs);
}

/**
 * {@link nearest} on a worker thread: the event loop stays free while a large search runs.
 * Do not write to `x` or `codebook` until the Promise settles.
 */
export async function nearestAsync(x: Tensor, codebook: Tensor, opts: NearestOptions = {}): Promise<NearestResult> {
  const attrs = check(x, codebook, opts);
  return runKernel('nearestAsync', { x, codebook }, attrs);
}
