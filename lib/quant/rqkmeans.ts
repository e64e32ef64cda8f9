/**
 * Residual k-means (QARM's RQ codes): level 1 clusters the embeddings, each next level
 * clusters the residual the previous levels leave. Saved as safetensors (see README,
 * "RQKMeans file format"), readable from Python.
 */
import { DTypeError, IOError, ShapeError, ValueError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../data/safetensors.js';
import { runKernel } from '../tensor/backend.js';
import { f64FromBits, f64Zeros } from '../tensor/f64_bits.js';
import { Tensor } from '../tensor/tensor.js';
import { kmeans, type KMeansCommunicator, type KMeansOptions } from './kmeans.js';
import { agreeShards, checkCommunicator } from './kmeans_dist.js';
import { residualEncode } from './residual.js';

/** Options of {@link RQKMeans}. */
export interface RQKMeansOptions {
  /** Number of levels (QARM uses 6). */
  levels: number;
  /** Codewords per level: one number for all levels, or one per level. */
  codebookSize: number | number[];
  /** Lloyd iterations per level. Default 25. */
  iterations?: number;
  /** Seed; level l uses seed + l. Default 0. */
  seed?: number;
  /** k-means initialisation. Default `kmeans++`. */
  init?: 'kmeans++' | 'random';
  /** Training subsample per centroid (see {@link kmeans}). Default 256. */
  maxPointsPerCentroid?: number;
  /**
   * Balanced k-means at every level (see {@link KMeansOptions.balanced}): the fitted rows'
   * codes ({@link RQKMeans.fitCodes}) put at most ceil(N / K_l) rows under each level-l code.
   * `encode` stays the nearest-codeword encoding (for new rows). Default false.
   */
  balanced?: boolean;
}

/** Options of {@link RQKMeans.fit}. */
export interface RQKMeansFitOptions {
  /**
   * Distributed fit (see {@link KMeansOptions.dist}): each rank passes its own shard of the rows
   * (at least one row each; the shards in rank order are the data set) and every level is a
   * distributed {@link kmeans} of the ranks' residuals, so every rank ends with the same
   * codebooks, those of one process fitting all the rows up to float32 rounding of float64 sums
   * added in another order. `fitCodes` are this rank's rows' codes; `relativeError` is global
   * (one `allReduce` at the end). Not with `balanced`. Without it, or with one rank, the fit is
   * the one-process fit, bit for bit.
   */
  dist?: KMeansCommunicator;
}

export const RQ_FORMAT = 'qarm.rqkmeans';
export const RQ_VERSION = '1';

function check2d(t: Tensor, name: string, dtype: 'float32' | 'int32'): void {
  if (!(t instanceof Tensor)) throw new ValueError(`argument '${name}' must be a Tensor`, name);
  if (t.dtype !== dtype) throw new DTypeError(`argument '${name}' must be ${dtype}, got ${t.dtype}`, name);
  if (t.rank !== 2) throw new ShapeError(`argument '${name}' must be 2-D, got [${t.shape.join(', ')}]`, name);
}

/** Residual k-means quantiser with `fit`, `encode`, `decode`, `save` and `load`. */
export class RQKMeans {
  readonly levels: number;
  readonly codebookSizes: number[];
  readonly iterations: number;
  readonly seed: number;
  readonly init: 'kmeans++' | 'random';
  readonly maxPointsPerCentroid: number;
  readonly balanced: boolean;
  /**
   * After `fit`: int32 `[N, levels]` codes of the fitted rows (this rank's rows in a distributed fit), the assignments the levels were
   * fitted with (with `balanced`, the capacity-constrained ones; otherwise what `encode` gives).
   */
  fitCodes: Int32Array | null = null;
  /** One float32 `[K_l, D]` codebook per level once fitted (or loaded). */
  codebooks: Tensor[] = [];
  /** After `fit`: ||residual after level l||² / ||x||² for each level. */
  relativeError: number[] = [];

  constructor(opts: RQKMeansOptions) {
    const {
      levels,
      codebookSize,
      iterations = 25,
      seed = 0,
      init = 'kmeans++',
      maxPointsPerCentroid = 256,
      balanced = false,
    } = opts ?? ({} as RQKMeansOptions);
    if (typeof balanced !== 'boolean') throw new ValueError(`argument 'balanced' must be a boolean, got ${String(balanced)}`, 'balanced');
    if (!Number.isInteger(levels) || levels < 1) throw new ValueError(`argument 'levels' must be a positive integer, got ${levels}`, 'levels');
    const sizes = Array.isArray(codebookSize) ? codebookSize.slice() : new Array<number>(levels).fill(codebookSize);
    if (sizes.length !== levels || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
      throw new ValueError(`argument 'codebookSize' must be a positive integer or ${levels} of them, got ${JSON.stringify(codebookSize)}`, 'codebookSize');
    }
    this.levels = levels;
    this.codebookSizes = sizes;
    this.iterations = iterations;
    this.seed = seed;
    this.init = init;
    this.maxPointsPerCentroid = maxPointsPerCentroid;
    this.balanced = balanced;
  }

  /** Embedding dimension (after fit/load). */
  get dim(): number {
    return this.codebooks.length ? this.codebooks[0].shape[1] : 0;
  }

  /**
   * Fits all levels on float32 `[N, D]` rows (N ≥ every codebook size). Returns `this`.
   * @param x - the rows; with `opts.dist` on several ranks, this rank's shard (N counts all ranks' rows)
   * @param opts - `dist` for a distributed fit ({@link RQKMeansFitOptions})
   */
  fit(x: Tensor, opts: RQKMeansFitOptions = {}): this {
    const comm = opts?.dist;
    checkCommunicator(comm);
    const distributed = comm !== undefined && comm.worldSize > 1 ? comm : undefined;
    const kmax = Math.max(...this.codebookSizes);
    let rowsAll: number;
    if (distributed) {
      const layout = agreeShards(distributed, x, { levels: this.levels, kmax }, () => undefined, 1);
      rowsAll = layout.total;
    } else {
      check2d(x, 'x', 'float32');
      rowsAll = x.shape[0];
    }
    const [n, d] = x.shape;
    if (rowsAll < kmax) throw new ValueError(`argument 'x' has ${rowsAll} rows, fewer than the largest codebook (${kmax})`, 'x');
    for (const c of this.codebooks) c.dispose();
    this.codebooks = [];
    this.relativeError = [];
    // Everything below runs on x's device; the host reads ||x||² and the codes once, at the end.
    const device = x.device;
    const total = f64Zeros(1, device);
    runKernel('sumF64', { x, out: total }, { slot: 0, square: true });
    let residual = runKernel('copy', { x });
    const zeros = () => runKernel('fill', {}, { shape: [n, d], value: 0, device });
    const columns: Tensor[] = [];
    const errors: number[] = [];
    for (let l = 0; l < this.levels; l++) {
      const km = kmeans(residual, {
        k: this.codebookSizes[l],
        iterations: this.iterations,
        seed: this.seed + l,
        init: this.init,
        maxPointsPerCentroid: this.maxPointsPerCentroid,
        balanced: this.balanced,
        ...(distributed ? { dist: distributed } : {}),
      } satisfies KMeansOptions);
      this.codebooks.push(km.centroids);
      columns.push(km.assignments.view([n, 1]));
      const q = zeros();
      const next = zeros();
      errors.push(runKernel('rvqLevelForward', { residual, codebook: km.centroids, codes: km.assignments, quantized: q, next }));
      q.dispose();
      km.assignments.dispose();
      residual.dispose();
      residual = next;
    }
    residual.dispose();
    const codes = runKernel('concat', Object.fromEntries(columns.map((c, l) => [`codes_${l}`, c])), { axis: 1 });
    for (const c of columns) c.dispose();
    const fitCodes = codes.readHost() as Int32Array;
    codes.dispose();
    let norm = f64FromBits(total.readHost())[0];
    total.dispose();
    if (distributed) {
      // ||x||² and each level's squared residual, summed over ranks in rank order.
      const sums = distributed.allReduce(Float64Array.from([norm, ...errors]));
      norm = sums[0];
      errors.splice(0, errors.length, ...sums.subarray(1));
    }
    this.relativeError = errors.map((err) => (norm > 0 ? err / norm : 0));
    this.fitCodes = fitCodes;
    return this;
  }

  private checkFitted(): void {
    if (!this.codebooks.length) throw new ValueError('RQKMeans is not fitted: call fit() or RQKMeans.load() first', 'this');
  }

  /** int32 `[N, levels]` codes of float32 `[N, D]` rows (greedy residual encoding). */
  encode(x: Tensor): Tensor {
    this.checkFitted();
    check2d(x, 'x', 'float32');
    const d = x.shape[1];
    if (d !== this.dim) throw new ShapeError(`argument 'x' has dim ${d}, the codebooks have ${this.dim}`, 'x');
    const { codes, quantized } = residualEncode(x, this.codebooks);
    quantized.dispose();
    return codes;
  }

  /** float32 `[N, D]` reconstruction (sum of each level's codeword) of int32 `[N, levels]` codes. */
  decode(codes: Tensor): Tensor {
    this.checkFitted();
    check2d(codes, 'codes', 'int32');
    const [n, L] = codes.shape;
    if (L !== this.levels) throw new ShapeError(`argument 'codes' has ${L} levels, the model has ${this.levels}`, 'codes');
    // Σ_l codebook_l[codes[:, l]] by kernels on the codes' device; the sum starts from zeros
    // so each level adds in the order (and with the signed zeros) of a float32 host loop.
    const out = runKernel('fill', {}, { shape: [n, this.dim], value: 0, device: codes.device });
    for (let l = 0; l < L; l++) {
      const column = runKernel('slice', { x: codes }, { axis: 1, start: l, length: 1 });
      const ids = column.view([n]);
      const rows = runKernel('gatherRows', { table: this.codebooks[l], indices: ids }, { argName: 'codes' });
      runKernel('axpby', { x: rows, y: out }, { alpha: 1, beta: 1 });
      for (const t of [column, ids, rows]) t.dispose();
    }
    return out;
  }

  /** Writes the model as safetensors (tensors `codebook_<l>`, JSON config in the metadata), atomically. */
  save(path: string): void {
    this.checkFitted();
    const tensors: Record<string, Tensor> = {};
    this.codebooks.forEach((c, l) => (tensors[`codebook_${l}`] = c));
    writeSafetensors(path, tensors, {
      format: RQ_FORMAT,
      version: RQ_VERSION,
      config: JSON.stringify({
        levels: this.levels,
        codebookSize: this.codebookSizes,
        dim: this.dim,
        iterations: this.iterations,
        seed: this.seed,
        init: this.init,
        maxPointsPerCentroid: this.maxPointsPerCentroid,
        balanced: this.balanced,
        relativeError: this.relativeError,
      }),
    });
  }

  /** Reads a model written by {@link RQKMeans.save}. @throws IOError naming the file if it is not one. */
  static load(path: string): RQKMeans {
    const { tensors, metadata } = readSafetensors(path);
    if (metadata.format !== RQ_FORMAT) throw new IOError(`'${path}' is not a qarm RQKMeans file (format ${JSON.stringify(metadata.format)})`, 'path');
    let cfg: {
      levels: number;
      codebookSize: number[];
      dim: number;
      iterations: number;
      seed: number;
      init: 'kmeans++' | 'random';
      maxPointsPerCentroid: number;
      balanced?: boolean;
      relativeError?: number[];
    };
    try {
      cfg = JSON.parse(metadata.config ?? '');
    } catch {
      throw new IOError(`'${path}': metadata 'config' is not valid JSON`, 'path');
    }
    let m: RQKMeans;
    try {
      m = new RQKMeans(cfg);
    } catch (e) {
      throw new IOError(`'${path}': invalid config (${(e as Error).message})`, 'path');
    }
    for (let l = 0; l < m.levels; l++) {
      const t = tensors[`codebook_${l}`];
      if (!t || t.dtype !== 'float32' || t.rank !== 2 || t.shape[0] !== m.codebookSizes[l] || t.shape[1] !== cfg.dim) {
        throw new IOError(`'${path}': tensor codebook_${l} is missing or not float32 [${m.codebookSizes[l]}, ${cfg.dim}]`, 'path');
      }
      m.codebooks.push(t);
    }
    m.relativeError = cfg.relativeError ?? [];
    return m;
  }
}
