/** Row L2 normalisation over the last axis, with gradient. */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';
import { binaryForward } from './arith.js';

/** x / max(‖x‖₂, eps) along the last axis. */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) {
    throw new ShapeError(`l2Normalize(): argument 'x' needs a non-empty last axis, got [${x.shape.join(', ')}]`, 'x');
  }
  const cols = x.shape[x.rank - 1];
  const rows = x.size / cols;
  const [y, norms] = runKernel('l2NormalizeRows', { x }, { rows, cols, eps });
  return record('l2Normalize', y, [x], (dy) => {
    // dx = (dy − y ⟨dy, y⟩) / max(‖x‖, eps); below eps the map is linear: dx = dy / eps.
    const kept = [...x.shape.slice(0, -1), 1];
    const [clamped, mask] = runKernel('clampNorms', { norms: norms.view(kept) }, { eps });
    const dot = runKernel('sumAxis', { x: binaryForward('mul', dy, y) }, { outer: rows, len: cols, inner: 1, outShape: kept });
    const proj = binaryForward('mul', y, binaryForward('mul', dot, mask));
    return [binaryForward('div', binaryForward('sub', dy, proj), clamped)];
  });
}
