/** Softmax, log-softmax and logsumexp over the last axis, with gradients. */
import { ShapeError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import { record } from '../engine.js';
import { binaryForward } from './arith.js';

function rowsCols(x: Tensor, fn: string): [number, number] {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) {
    throw new ShapeError(`${fn}(): argument 'x' needs a non-empty last axis, got [${x.shape.join(', ')}]`, 'x');
  }
  const cols = x.shape[x.rank - 1];
  return [x.size / cols, cols];
}

function rowSum(x: Tensor): Tensor {
  const cols = x.shape[x.rank - 1];
  return runKernel('sumAxis', { x }, { outer: x.size / cols, len: cols, inner: 1, outShape: [...x.shape.slice(0, -1), 1] });
}

/** softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x, 'softmax');
  const y = runKernel('softmaxRows', { x }, { rows, cols });
  // dx = y ⊙ (dy − Σ dy⊙y)
  return record('softmax', y, [x], (dy) => {
    const dot = rowSum(binaryForward('mul', dy, y));
    return [binaryForward('mul', y, binaryForward('sub', dy, dot))];
  });
}

/** log Σ exp over the last axis (that axis removed, or kept as 1 with keepDims). */
export function logsumexp(x: Tensor, keepDims = false): Tensor {
  const [rows, cols] = rowsCols(x, 'logsumexp');
  const kept = [...x.shape.slice(0, -1), 1];
  const y = runKernel('logsumexpRows', { x }, { rows, cols, outShape: keepDims ? kept : x.shape.slice(0, -1) });
  return record('logsumexp', y, [x], (dy) => {
    const p = runKernel('softmaxRows', { x }, { rows, cols });
    return [binaryForward('mul', p, dy.view(kept))];
  });
}

/** log softmax over the last axis (x − logsumexp(x)). */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x, 'logSoftmax');
  const lse = runKernel('logsumexpRows', { x }, { rows, cols, outShape: [...x.shape.slice(0, -1), 1] });
  const y = binaryForward('sub', x, lse);
  // dx = dy − softmax ⊙ Σ dy
  return record('logSoftmax', y, [x], (dy) => {
    const p = runKernel('softmaxRows', { x }, { rows, cols });
    return [binaryForward('sub', dy, binaryForward('mul', p, rowSum(dy)))];
  });
}
