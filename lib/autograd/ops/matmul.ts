/** Matrix product through the native GEMM, with its gradient. */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use aᵀ (a stored as [K, M]). */
  transA?: boolean;
  /** Use bᵀ (b stored as [N, K]); the layout of Linear weights and codebooks. */
  transB?: boolean;
}

function forward(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (b.rank !== 2) throw new ShapeError(`matmul(): argument 'b' must be 2-D, got [${b.shape.join(', ')}]`, 'b');
  if (a.rank < 2 || (transA && a.rank !== 2)) {
    throw new ShapeError(`matmul(): argument 'a' must be 2-D (or N-D without transA), got [${a.shape.join(', ')}]`, 'a');
  }
  const lead = a.shape.slice(0, -2);
  const rowsA = transA ? a.shape[1] : a.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const kA = transA ? a.shape[0] : a.shape[a.rank - 1];
  const [kB, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (kA !== kB) {
    throw new ShapeError(
      `matmul(): inner dimensions differ: 'a' [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''} and 'b' [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''}`,
      'b',
    );
  }
  const outShape = transA ? [rowsA, N] : [...lead, a.shape[a.rank - 2], N];
  return runKernel('matmul', { a, b }, { M: rowsA, N, K: kA, transA, transB, outShape });
}

/**
 * op(a) @ op(b). `a` may have leading batch dimensions ([..., M, K] @ [K, N]) when not
 * transposed; they are folded into M.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const out = forward(a, b, transA, transB);
  return record('matmul', out, [a, b], (dy) => {
    const a2 = a.rank > 2 ? a.view([-1, a.shape[a.rank - 1]]) : a;
    const dy2 = dy.rank > 2 ? dy.view([-1, dy.shape[dy.rank - 1]]) : dy;
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      da = transA ? forward(b, dy2, transB, true) : forward(dy2, b, false, !transB);
      if (a.rank > 2) da = da.view(a.shape);
    }
    if (b.requiresGrad) db = transB ? forward(dy2, a2, true, transA) : forward(a2, dy2, !transA, false);
    return [da, db];
  });
}
