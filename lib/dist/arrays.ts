/**
 * The array types the collectives move, with the codes the header carries for them.
 * @internal
 */

/** Arrays every collective moves. */
export type DistArray = Float32Array | Float64Array | Int32Array | Uint8Array;
/** Arrays {@link Communicator.allReduce} sums. */
export type ReduceArray = Float32Array | Float64Array | Int32Array;

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

/** Header code 0 is "not one of these" (so a rank with a bad argument still takes part). */
export const DTYPES: readonly { code: number; name: string; ctor: Ctor; reduce: boolean }[] = [
  { code: 1, name: 'float32', ctor: Float32Array, reduce: true },
  { code: 2, name: 'float64', ctor: Float64Array, reduce: true },
  { code: 3, name: 'int32', ctor: Int32Array, reduce: true },
  { code: 4, name: 'uint8', ctor: Uint8Array, reduce: false },
];

/** The dtype code of `x` (0 for anything else, including Uint8ClampedArray and plain arrays). */
export function dtypeCode(x: unknown, reduce: boolean): number {
  for (const d of DTYPES) {
    if (reduce && !d.reduce) continue;
    if (x instanceof d.ctor && x.constructor === d.ctor) return d.code;
  }
  return 0;
}

export function dtypeName(code: number): string {
  return DTYPES.find((d) => d.code === code)?.name ?? 'unsupported';
}

export function ctorOf(code: number): Ctor {
  const d = DTYPES.find((t) => t.code === code);
  if (!d) throw new Error(`internal: no dtype ${code}`);
  return d.ctor;
}

/** What `x` is, for an error message. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** The bytes of `x`, sharing its memory. */
export function bytesOf(x: DistArray): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}
