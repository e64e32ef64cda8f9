/** Broadcasting binary arithmetic (add, sub, mul, div, maximum, minimum, pow) and gradients. */
import { ValueError } from '../../errors.js';
import { runKernel } from '../../tensor/backend.js';
import { Tensor } from '../../tensor/tensor.js';
import type { BinaryName } from '../../tensor/op_codes.js';
import { gradMath, record } from '../engine.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { unbroadcast } from './reduce.js';

/** A tensor or a plain number (treated as a 0-d tensor on the other operand's device). */
export type TensorLike = Tensor | number;

function scalarLike(v: number, like: Tensor): Tensor {
  return runKernel('fill', {}, { shape: [], value: v, device: like.device });
}

function asTensors(a: TensorLike, b: TensorLike): [Tensor, Tensor, boolean, boolean] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b, false, false];
  if (a instanceof Tensor && typeof b === 'number') return [a, scalarLike(b, a), false, true];
  if (typeof a === 'number' && b instanceof Tensor) return [scalarLike(a, b), b, true, false];
  throw new ValueError("arguments 'a' and 'b' must be Tensors or numbers, one of them a Tensor", 'a');
}

/** Forward of a broadcasting binary op, without gradient. @internal */
export function binaryForward(op: BinaryName, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  return runKernel(
    'binary',
    { a, b },
    {
      op,
      shape,
      aStrides: broadcastStrides(a.shape, shape),
      bStrides: broadcastStrides(b.shape, shape),
    },
  );
}

/** Applies a named binary op with broadcasting and records its gradient. @internal */
export function binary(op: BinaryName, aIn: TensorLike, bIn: TensorLike): Tensor {
  const [a, b, tmpA, tmpB] = asTensors(aIn, bIn);
  const out = binaryForward(op, a, b);
  record(op, out, [a, b], (dy) => {
    const da = (g: () => Tensor) => (a.requiresGrad ? unbroadcast(g(), a.shape) : null);
    const db = (g: () => Tensor) => (b.requiresGrad ? unbroadcast(g(), b.shape) : null);
    switch (op) {
      case 'add':
        return [da(() => dy), db(() => dy)];
      case 'sub':
        return [da(() => dy), db(() => binaryForward('mul', dy, scalarLike(-1, dy)))];
      case 'mul':
        return [da(() => binaryForward('mul', dy, b)), db(() => binaryForward('mul', dy, a))];
      case 'div':
        return [
          da(() => binaryForward('div', dy, b)),
          db(() => binaryForward('mul', dy, binaryForward('div', binaryForward('div', a, b), binaryForward('mul', b, scalarLike(-1, b))))),
        ];
      case 'max':
      case 'min': {
        // The gradient goes to the selected operand; ties go to `a`.
        const pick = binaryForward(op === 'max' ? 'ge' : 'le', a, b);
        const rest = binaryForward('sub', scalarLike(1, pick), pick);
        return [da(() => binaryForward('mul', dy, pick)), db(() => binaryForward('mul', dy, rest))];
      }
      case 'pow': {
        // d/da a^b = b a^(b-1); d/db a^b = a^b ln a
        const ga = () => binaryForward('mul', dy, binaryForward('mul', b, binaryForward('pow', a, binaryForward('sub', b, scalarLike(1, b)))));
        const gb = () => binaryForward('mul', dy, binaryForward('mul', out, runKernel('unary', { x: a }, { op: 'log' })));
        return [da(ga), db(gb)];
      }
      case 'ge':
      case 'le':
        return [null, null];
    }
  });
  if (tmpA && !a.requiresGrad && !out.gradFn) a.dispose();
  if (tmpB && !b.requiresGrad && !out.gradFn) b.dispose();
  return out;
}

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a ⊙ b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b, broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** Elementwise maximum (gradient to `a` on ties). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('max', a, b);
/** Elementwise minimum (gradient to `a` on ties). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('min', a, b);
/** a ** b, broadcasting. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);

gradMath.add = (a, b) => binaryForward('add', a, b);
gradMath.onesLike = (t) => runKernel('fill', {}, { shape: t.shape, value: 1, device: t.device });
