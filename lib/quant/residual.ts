/**
 * Greedy residual encoding, the loop RQ-KMeans and the residual VQ share: r_1 = x; per level
 * the nearest codeword (squared L2, ties to the lower index) of r_l, q_l its row, and
 * r_{l+1} = r_l − q_l. Only kernels run, so the loop stays on x's device.
 */
import { runKernel } from '../tensor/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { nearest } from './nearest.js';

/** What {@link residualEncode} returns. */
export interface ResidualEncoding {
  /** int32 `[N, levels]`: column l holds level l's codes. */
  codes: Tensor;
  /** float32 `[N, D]`: Σ_l q_l. */
  quantized: Tensor;
  /** Σ_l ||r_{l+1}||² (the kernels sum in float64). */
  squaredError: number;
  /** int32 `[N]` codes of each level; empty unless `keepLevels`. */
  levelCodes: Tensor[];
  /** r_1 … r_{levels+1}, float32 `[N, D]` each (r_1 a copy of x); empty unless `keepLevels`. */
  residuals: Tensor[];
}

/**
 * Encodes float32 `[N, D]` rows `x` by `codebooks` (each float32 `[K_l, D]`, checked by the
 * caller). With `keepLevels` the per-level codes and every residual are returned for the
 * caller to dispose; otherwise they are released here.
 */
export function residualEncode(x: Tensor, codebooks: readonly Tensor[], opts: { keepLevels?: boolean } = {}): ResidualEncoding {
  const keepLevels = opts.keepLevels ?? false;
  const [n, d] = x.shape;
  // Zeroed on x's device: quantized accumulates, next is overwritten.
  const zeros = () => runKernel('fill', {}, { shape: [n, d], value: 0, device: x.device });
  const quantized = zeros();
  const levelCodes: Tensor[] = [];
  const residuals: Tensor[] = [];
  const columns: Tensor[] = [];
  let residual = runKernel('copy', { x });
  let squaredError = 0;
  for (const codebook of codebooks) {
    const { indices, distances } = nearest(residual, codebook, { k: 1 });
    distances.dispose();
    const next = zeros();
    squaredError += runKernel('rvqLevelForward', { residual, codebook, codes: indices, quantized, next });
    columns.push(indices);
    if (keepLevels) {
      levelCodes.push(indices.view([n]));
      residuals.push(residual);
    } else {
      residual.dispose();
    }
    residual = next;
  }
  if (keepLevels) residuals.push(residual);
  else residual.dispose();
  const inputs: Record<string, Tensor> = {};
  columns.forEach((c, l) => (inputs[`codes_${l}`] = c));
  const codes = runKernel('concat', inputs, { axis: 1 });
  for (const c of columns) c.dispose();
  return { codes, quantized, squaredError, levelCodes, residuals };
}
