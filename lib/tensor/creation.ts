/** Tensor creation: from data, constants, ranges and seeded random values. */
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import { allocArray, allocFloat32Uninitialized, DTYPES, dtypeOfArray, type DType, type TypedArray } from './dtype.js';
import { generatorFor } from './random.js';
import { checkShape, resolveShape, shapeSize, Tensor } from './tensor.js';

/** A number or nested arrays of numbers, as {@link tensor} accepts them (copied, row-major). */
export type NestedNumbers = number | NestedNumbers[];

function checkDType(dtype: unknown, argument = 'dtype'): DType {
  if (!DTYPES.includes(dtype as DType)) {
    throw new DTypeError(`argument '${argument}' must be one of ${DTYPES.join(', ')}, got ${String(dtype)}`, argument);
  }
  return dtype as DType;
}

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
    if (cur === undefined) break;
  }
  return shape;
}

function flattenInto(data: NestedNumbers, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== 'number') throw new ShapeError("argument 'data' is ragged or holds non-numbers", 'data');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError("argument 'data' is ragged: nested arrays must have equal lengths", 'data');
  }
  for (const v of data) flattenInto(v, shape, dim + 1, out);
}

/**
 * Creates a tensor. A typed array is wrapped without copying (its dtype is kept unless
 * `dtype` says otherwise, which copies); nested number arrays are copied.
 * @param data typed array, nested arrays of numbers, or a number
 * @param shape defaults to the shape of nested `data`, or `[length]` for a flat array
 * @param dtype defaults to the typed array's dtype, else float32
 */
export function tensor(data: TypedArray | NestedNumbers | readonly number[], shape?: readonly number[], dtype?: DType): Tensor {
  if (dtype !== undefined) checkDType(dtype);
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw new DTypeError("argument 'data' must be a Float32Array or Int32Array (or nested numbers)", 'data');
    }
    const s = shape ? resolveShape(shape, data.length) : [data.length];
    const own = dtypeOfArray(data);
    if (dtype === undefined || dtype === own) return Tensor.fromArray(data, s, own);
    const copy = allocArray(dtype, data.length);
    for (let i = 0; i < data.length; i++) copy[i] = dtype === 'int32' ? Math.trunc(data[i]) : data[i];
    return Tensor.fromArray(copy, s, dtype);
  }
  const nested = data as NestedNumbers;
  const inferred = typeof nested === 'number' ? [] : inferShape(nested);
  const flat: number[] = [];
  if (typeof nested === 'number') flat.push(nested);
  else flattenInto(nested, inferred, 0, flat);
  const dt = dtype ?? 'float32';
  if (dt === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) throw new ValueError(`argument 'data' holds a non-integer ${flat[i]} for an int32 tensor`, 'data');
    }
  }
  const arr = allocArray(dt, flat.length);
  arr.set(flat);
  return Tensor.fromArray(arr, shape ? resolveShape(shape, flat.length) : inferred, dt);
}

/** An uninitialised-by-contract (zeroed in practice) tensor. @internal */
export function empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  checkShape(shape);
  return Tensor.fromArray(allocArray(dtype, shapeSize(shape)), shape, dtype);
}

/**
 * A float32 tensor with arbitrary contents, for kernel outputs the kernel overwrites
 * entirely (see {@link allocFloat32Uninitialized}). @internal
 */
export function uninitialized(shape: readonly number[]): Tensor {
  checkShape(shape);
  return Tensor.fromArray(allocFloat32Uninitialized(shapeSize(shape)), shape, 'float32');
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  checkDType(dtype);
  return empty(shape, dtype);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  checkDType(dtype);
  if (dtype === 'int32' && !Number.isInteger(value)) throw new ValueError(`argument 'value' must be an integer for int32`, 'value');
  const t = empty(shape, dtype);
  t.toTypedArray().fill(value);
  return t;
}

/** A tensor of ones. */
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** Values start, start+step, ... below stop (like numpy.arange). */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step) || step === 0) {
    throw new ValueError("arguments 'start', 'stop', 'step' must be finite and step non-zero", 'step');
  }
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const t = empty([n], checkDType(dtype));
  const a = t.toTypedArray();
  for (let i = 0; i < n; i++) a[i] = start + i * step;
  return t;
}

/** Options of the random constructors. */
export interface RandomOptions {
  /** Seed of a fresh generator; without it the global generator (see `seed()`) is used. */
  seed?: number;
}

/** Uniform values in [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const { low = 0, high = 1 } = opts;
  const g = generatorFor(opts.seed);
  const t = empty(shape, 'float32');
  const a = t.toTypedArray();
  for (let i = 0; i < a.length; i++) a[i] = low + (high - low) * g.uniform();
  return t;
}

/** Normal values with the given mean and standard deviation. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = opts;
  const g = generatorFor(opts.seed);
  const t = empty(shape, 'float32');
  const a = t.toTypedArray();
  for (let i = 0; i < a.length; i++) a[i] = mean + std * g.normal();
  return t;
}

/** Uniform integers in [low, high). */
export function randint(shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError("arguments 'low' and 'high' must be integers with low < high", 'high');
  }
  const g = generatorFor(opts.seed);
  const t = empty(shape, 'int32');
  const a = t.toTypedArray();
  for (let i = 0; i < a.length; i++) a[i] = low + g.int(high - low);
  return t;
}
