/** Element types a {@link Tensor} can hold. */
export type DType = 'float32' | 'int32';
/** Where a tensor's storage lives. */
export type Device = 'cpu' | 'cuda';
/** The typed array that backs a CPU tensor of each dtype. */
export type TypedArray = Float32Array | Int32Array;
export type ArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

export const DTYPES: readonly DType[] = ['float32', 'int32'];
export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, int32: 4 };

/** Allocates a zeroed typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

export function dtypeOfArray(a: TypedArray): DType {
  return a instanceof Int32Array ? 'int32' : 'float32';
}
