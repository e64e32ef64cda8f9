/** Parameter initialisers (PyTorch's defaults), driven by qarm's seeded generator. */
import { empty } from '../tensor/creation.js';
import type { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';

/** U(−bound, bound) with the given generator. */
export function uniform(shape: readonly number[], bound: number, g: Generator): Tensor {
  const t = empty(shape);
  const a = t.f32();
  for (let i = 0; i < a.length; i++) a[i] = (2 * g.uniform() - 1) * bound;
  return t;
}

/** Normal(0, std) with the given generator. */
export function normal(shape: readonly number[], std: number, g: Generator): Tensor {
  const t = empty(shape);
  const a = t.f32();
  for (let i = 0; i < a.length; i++) a[i] = std * g.normal();
  return t;
}
