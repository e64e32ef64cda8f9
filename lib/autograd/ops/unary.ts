/** Elementwise unary ops and their gradients. */
import { runKernel } from '../../tensor/backend.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { UnaryName } from '../../tensor/op_codes.js';
import { record } from '../engine.js';
import { binaryForward } from './arith.js';

function un(op: UnaryName, x: Tensor): Tensor {
  return runKernel('unary', { x }, { op });
}
function scalar(v: number, like: Tensor): Tensor {
  return runKernel('fill', {}, { shape: [], value: v, device: like.device });
}
const mul = (a: Tensor, b: Tensor) => binaryForward('mul', a, b);

/** −x */
export function neg(x: Tensor): Tensor {
  return record('neg', un('neg', x), [x], (dy) => [un('neg', dy)]);
}
/** max(x, 0) */
export function relu(x: Tensor): Tensor {
  return record('relu', un('relu', x), [x], (dy) => [mul(dy, un('reluGrad', x))]);
}
/** 1 / (1 + e^−x), computed stably. */
export function sigmoid(x: Tensor): Tensor {
  const y = un('sigmoid', x);
  return record('sigmoid', y, [x], (dy) => [mul(dy, mul(y, binaryForward('sub', scalar(1, y), y)))]);
}
/** tanh x */
export function tanh(x: Tensor): Tensor {
  const y = un('tanh', x);
  return record('tanh', y, [x], (dy) => [mul(dy, binaryForward('sub', scalar(1, y), un('square', y)))]);
}
/** e^x */
export function exp(x: Tensor): Tensor {
  const y = un('exp', x);
  return record('exp', y, [x], (dy) => [mul(dy, y)]);
}
/** ln x */
export function log(x: Tensor): Tensor {
  return record('log', un('log', x), [x], (dy) => [binaryForward('div', dy, x)]);
}
/** √x */
export function sqrt(x: Tensor): Tensor {
  const y = un('sqrt', x);
  return record('sqrt', y, [x], (dy) => [binaryForward('div', dy, mul(y, scalar(2, y)))]);
}
/** x² */
export function square(x: Tensor): Tensor {
  return record('square', un('square', x), [x], (dy) => [mul(dy, mul(x, scalar(2, x)))]);
}
/** |x| (gradient sign(x), 0 at 0) */
export function abs(x: Tensor): Tensor {
  return record('abs', un('abs', x), [x], (dy) => {
    const sign = binaryForward('sub', un('reluGrad', x), un('reluGrad', un('neg', x)));
    return [mul(dy, sign)];
  });
}
