/** Element types a {@link Tensor} can hold. */
export type DType = 'float32' | 'int32';
/** Where a tensor's storage lives. */
export type Device = 'cpu' | 'cuda';
/** The typed array that backs a CPU tensor of each dtype. */
export type TypedArray = Float32Array | Int32Array;
/** The typed array type of a dtype, for signatures that return a tensor's own memory. */
export type ArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Every dtype tensors support. */
export const DTYPES: readonly DType[] = ['float32', 'int32'];
/** Bytes per element of each dtype, for memory accounting. */
export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, int32: 4 };

/** Allocates a zeroed typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

let poisonUninitialized = false;

/**
 * Makes {@link allocFloat32Uninitialized} fill its arrays with NaN, so a kernel that leaves an
 * output element unwritten shows it (tests). @internal
 */
export function setPoisonUninitialized(on: boolean): void {
  poisonUninitialized = on;
}

/**
 * A float32 array whose contents are NOT zeroed (any bits): only for kernel outputs that the
 * kernel overwrites entirely. Saves the zero-fill pass over memory the kernel writes anyway
 * (docs/decisions.md, "Uninitialised kernel outputs"). Small arrays are allocated zeroed
 * as usual. @internal
 */
export function allocFloat32Uninitialized(size: number): Float32Array {
  if (size < 1024 && !poisonUninitialized) return new Float32Array(size);
  // allocUnsafeSlow: an ArrayBuffer of its own (never a slice of Node's shared pool), not zero-filled.
  const b = Buffer.allocUnsafeSlow(size * 4);
  const a = new Float32Array(b.buffer, b.byteOffset, size);
  if (poisonUninitialized) a.fill(NaN);
  return a;
}

/** The dtype a typed array holds (how {@link tensor} infers it when none is given). */
export function dtypeOfArray(a: TypedArray): DType {
  return a instanceof Int32Array ? 'int32' : 'float32';
}
