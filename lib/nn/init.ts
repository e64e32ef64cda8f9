/**
 * Parameter initialisers (PyTorch's defaults), driven by qarm's seeded generator. Values are
 * drawn into host arrays that become the tensors (a host write; no tensor memory is read).
 */
import type { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/** U(−bound, bound) with the given generator. */
export function uniform(shape: readonly number[], bound: number, g: Generator): Tensor {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = (2 * g.uniform() - 1) * bound;
  return Tensor.fromArray(a, shape, 'float32');
}

/** Normal(0, std) with the given generator. */
export function normal(shape: readonly number[], std: number, g: Generator): Tensor {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = std * g.normal();
  return Tensor.fromArray(a, shape, 'float32');
}
