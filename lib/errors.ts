/**
 * Typed errors. Every error qarm throws for bad input is a {@link QarmError} subclass with a
 * stable `code` and, where one argument is at fault, its name in `argument`.
 */
export class QarmError extends Error {
  /** Stable machine-readable code, e.g. `ERR_QARM_SHAPE`. */
  readonly code: string;
  /** Name of the offending argument, when known. */
  readonly argument?: string;
  constructor(code: string, message: string, argument?: string) {
    super(message);
    this.code = code;
    this.argument = argument;
    this.name = new.target.name;
  }
}

/** Wrong rank, mismatched or non-broadcastable shapes, wrong buffer length. */
export class ShapeError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_SHAPE', message, argument);
  }
}
/** A tensor of the wrong dtype (e.g. int32 where float32 is needed). */
export class DTypeError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_DTYPE', message, argument);
  }
}
/** Tensors on different devices, or a device that is not available. */
export class DeviceError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_DEVICE', message, argument);
  }
}
/** An index outside the valid range (gather/scatter ids, codes, k larger than a codebook). */
export class IndexError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_INDEX', message, argument);
  }
}
/** A bad value: NaN/Inf where finite data is required, empty input, invalid option. */
export class ValueError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_VALUE', message, argument);
  }
}
/** A missing, unreadable, truncated or corrupt file, or a failed write. */
export class IOError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_IO', message, argument);
  }
}
/** Use of a tensor after `dispose()`. */
export class DisposedError extends QarmError {
  constructor(message: string, argument?: string) {
    super('ERR_QARM_DISPOSED', message, argument);
  }
}

const byCode: Record<string, new (m: string, a?: string) => QarmError> = {
  ERR_QARM_SHAPE: ShapeError,
  ERR_QARM_DTYPE: DTypeError,
  ERR_QARM_DEVICE: DeviceError,
  ERR_QARM_INDEX: IndexError,
  ERR_QARM_VALUE: ValueError,
  ERR_QARM_IO: IOError,
  ERR_QARM_DISPOSED: DisposedError,
};

/** Turns an error thrown by the native addon (plain Error with a `code`) into its typed class. */
export function fromNativeError(e: unknown): unknown {
  if (e instanceof QarmError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const Cls = typeof code === 'string' ? byCode[code] : undefined;
  if (!Cls) return e;
  const m = /argument '([^']+)'/.exec(e.message);
  return new Cls(e.message, m ? m[1] : undefined);
}
