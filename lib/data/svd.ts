/**
 * Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp 2011, Alg. 4.4 with
 * subspace power iterations), seeded. Used to reduce char n-gram TF-IDF to dense vectors.
 */
import { ValueError } from '../errors.js';
import { matmul } from '../autograd/ops/matmul.js';
import { tensor } from '../tensor/creation.js';
import { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Csr } from './text.js';

/** Options of {@link randomizedSvd}. */
export interface RandomizedSvdOptions {
  /** Number of singular directions kept. */
  rank: number;
  /** Extra random directions sketched and then dropped (default 10). */
  oversample?: number;
  /** Power iterations (default 4); sharpen the spectrum for slowly decaying singular values. */
  powerIterations?: number;
  /** Seed of the Gaussian sketch (default 0). */
  seed?: number;
}

/** Dense row-major float64 [rows, cols]. */
interface Dense {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** A @ X for CSR A [m, n] and dense X [n, l]. */
function spmm(a: Csr, x: Dense): Dense {
  const l = x.cols;
  const out = new Float64Array(a.rows * l);
  for (let r = 0; r < a.rows; r++) {
    const o = r * l;
    for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) {
      const v = a.values[p];
      const xo = a.indices[p] * l;
      for (let j = 0; j < l; j++) out[o + j] += v * x.data[xo + j];
    }
  }
  return { rows: a.rows, cols: l, data: out };
}

/** Aᵀ @ X for CSR A [m, n] and dense X [m, l]. */
function spmmT(a: Csr, x: Dense): Dense {
  const l = x.cols;
  const out = new Float64Array(a.cols * l);
  for (let r = 0; r < a.rows; r++) {
    const xo = r * l;
    for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) {
      const v = a.values[p];
      const o = a.indices[p] * l;
      for (let j = 0; j < l; j++) out[o + j] += v * x.data[xo + j];
    }
  }
  return { rows: a.cols, cols: l, data: out };
}

/**
 * Orthonormalises the columns in place (modified Gram–Schmidt, two passes for stability);
 * columns that become numerically zero (rank deficiency) are set to exactly zero.
 */
function orthonormalize(y: Dense): Dense {
  const { rows, cols, data } = y;
  for (let j = 0; j < cols; j++) {
    let orig = 0;
    for (let r = 0; r < rows; r++) orig += data[r * cols + j] ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += data[r * cols + j] * data[r * cols + k];
        for (let r = 0; r < rows; r++) data[r * cols + j] -= dot * data[r * cols + k];
      }
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += data[r * cols + j] ** 2;
    const s = norm > 1e-20 * Math.max(orig, 1e-300) && norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let r = 0; r < rows; r++) data[r * cols + j] *= s;
  }
  return y;
}

/** Eigen-decomposition of a symmetric float64 [n, n] matrix by cyclic Jacobi; eigenvalues descending. */
export function symmetricEigen(m: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x] || x - y);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

/**
 * The rank-k projection `U_k Σ_k` (float32 `[rows, k]`, k = min(rank, rows, cols)) of a sparse
 * matrix, i.e. the rows of A expressed in its top singular directions (what sklearn's
 * TruncatedSVD.fit_transform returns). Column signs are fixed (largest |entry| positive) so the
 * output is deterministic for a seed. Also returns the singular values.
 */
export function randomizedSvd(a: Csr, opts: RandomizedSvdOptions): { embedding: Tensor; singularValues: Float64Array } {
  if (!Number.isInteger(opts.rank) || opts.rank < 1) throw new ValueError("argument 'rank' must be a positive integer", 'rank');
  const k = Math.min(opts.rank, a.rows, a.cols);
  if (k < 1) throw new ValueError("randomizedSvd(): argument 'a' is empty", 'a');
  const l = Math.min(k + (opts.oversample ?? 10), a.rows, a.cols);
  const g = new Generator(opts.seed ?? 0);
  const omega: Dense = { rows: a.cols, cols: l, data: Float64Array.from({ length: a.cols * l }, () => g.normal()) };
  let y = spmm(a, omega);
  for (let it = 0; it < (opts.powerIterations ?? 4); it++) {
    const z = orthonormalize(spmmT(a, orthonormalize(y)));
    y = spmm(a, z);
  }
  const q = orthonormalize(y);
  // B = Qᵀ A (l × cols); its Gram B Bᵀ = Zᵀ Z with Z = Aᵀ Q gives B's left singular vectors.
  const z = spmmT(a, q);
  const zt = tensor(Float32Array.from(z.data), [z.rows, l]);
  const gram = matmul(zt, zt, { transA: true });
  const { values, vectors } = symmetricEigen(Float64Array.from(gram.toTypedArray()), l);
  zt.dispose();
  gram.dispose();
  const sv = Float64Array.from({ length: k }, (_, i) => Math.sqrt(Math.max(values[i], 0)));
  // Embedding = Q W_k Σ_k.
  const ws = new Float32Array(l * k);
  for (let r = 0; r < l; r++) for (let c = 0; c < k; c++) ws[r * k + c] = vectors[r * l + c] * sv[c];
  const qt = tensor(Float32Array.from(q.data), [a.rows, l]);
  const wt = tensor(ws, [l, k]);
  const emb = matmul(qt, wt);
  qt.dispose();
  wt.dispose();
  const e = emb.toTypedArray() as Float32Array;
  for (let c = 0; c < k; c++) {
    let best = 0;
    for (let r = 0; r < a.rows; r++) if (Math.abs(e[r * k + c]) > Math.abs(best)) best = e[r * k + c];
    if (best < 0) for (let r = 0; r < a.rows; r++) e[r * k + c] = -e[r * k + c];
  }
  return { embedding: emb, singularValues: sv };
}
