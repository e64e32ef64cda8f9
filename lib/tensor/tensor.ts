import { DeviceError, DisposedError, DTypeError, ShapeError, ValueError } from '../errors.js';
import { checkDevice } from './device.js';
import { BYTES_PER_ELEMENT, type Device, type DType, type TypedArray } from './dtype.js';
import { countBytes, trackTensor, untrackTensor } from './memory.js';
import { CpuStorage, hostAccessGuard, type Storage } from './storage.js';

let nextId = 1;

/** A gradient held by a leaf: dense, or row-sparse (see `autograd/sparse`). */
export interface GradLike {
  dispose(): void;
}

/** The autograd node that produced a tensor. Defined by `autograd/`. @internal */
export interface GradFnLike {
  readonly name: string;
}

/** Hooks that `autograd/` and device backends install, so `Tensor` needs to import neither. @internal */
export const tensorHooks: {
  backward: ((t: Tensor, grad?: Tensor) => void) | null;
  toDevice: ((t: Tensor, device: Device) => Tensor) | null;
} = { backward: null, toDevice: null };

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * `shape` with dimension `axis` resized to `size`, and the element counts before and after
 * that axis: concatenations, slices and pads walk their tensors as [outer, size, inner].
 * @internal
 */
export function resizeAxis(shape: readonly number[], axis: number, size: number): { shape: number[]; outer: number; inner: number } {
  const out = shape.slice();
  out[axis] = size;
  return { shape: out, outer: shapeSize(shape.slice(0, axis)), inner: shapeSize(shape.slice(axis + 1)) };
}

/** The argument check of the `copyInto` kernel on every device: same element count and dtype. @internal */
export function checkCopyInto(x: Tensor, out: Tensor): void {
  if (x.size !== out.size) throw new ShapeError(`argument 'out' has ${out.size} elements, 'x' has ${x.size}`, 'out');
  if (x.dtype !== out.dtype) throw new DTypeError(`argument 'out' is ${out.dtype}, 'x' is ${x.dtype}`, 'out');
}

/** Throws a ShapeError unless every entry is a non-negative integer. */
export function checkShape(shape: readonly number[], argument = 'shape'): void {
  if (!Array.isArray(shape)) throw new ShapeError(`argument '${argument}' must be an array of integers`, argument);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0x7fffffff) {
      throw new ShapeError(`argument '${argument}' has an invalid dimension ${String(d)} in [${shape.join(', ')}]`, argument);
    }
  }
}

/**
 * An n-dimensional array with a dtype and a device, stored contiguously in row-major order.
 *
 * CPU tensors are zero-copy views of Node-owned typed arrays. `reshape` returns a view of the
 * same storage. Tensors are released by `dispose()` (or by an enclosing `tidy`); using a
 * disposed tensor throws {@link DisposedError}.
 */
export class Tensor {
  /** A process-wide serial number, unique per tensor (for debugging and memory reports). */
  readonly id: number;
  /** Dimensions, outermost first (frozen). */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements: the product of `shape` (1 for a scalar). */
  readonly size: number;
  /** Whether gradients are recorded for this tensor (leaves you train set this). */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | GradLike | null = null;
  /** @internal */
  gradFn: GradFnLike | null = null;
  /** @internal */
  private _storage: Storage | null;

  /** @internal Use {@link tensor}, {@link zeros} and friends instead. */
  constructor(storage: Storage, shape: readonly number[], dtype: DType) {
    this.id = nextId++;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = shapeSize(shape);
    this._storage = storage;
    if (storage.refs++ === 0) countBytes(storage.device, storage.byteLength);
    trackTensor(this);
  }

  /** Wraps a typed array without copying. @internal */
  static fromArray(data: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor(new CpuStorage(data, dtype), shape, dtype);
  }

  /** The device the storage lives on. */
  get device(): Device {
    return this.storage().device;
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** True once `dispose()` ran. */
  get isDisposed(): boolean {
    return this._storage === null;
  }

  /** @internal Storage, or a DisposedError naming `argument`. */
  storage(argument = 'tensor'): Storage {
    if (!this._storage) {
      throw new DisposedError(`argument '${argument}': tensor #${this.id} [${this.shape.join(', ')}] was disposed`, argument);
    }
    return this._storage;
  }

  /**
   * The elements as a typed array. On the CPU this is the tensor's own memory (no copy:
   * writes show through); on other devices a host copy (see {@link Tensor.readHost}).
   */
  toTypedArray(): TypedArray {
    const s = this.storage();
    if (s instanceof CpuStorage) return s.data;
    return this.readHost();
  }

  /**
   * A host copy of the elements, on whatever device they live: the one explicit host read
   * that drivers make at their edges (results, metrics, files). On a device this waits for
   * the device and copies, so drivers keep it out of their loops.
   * @throws DeviceError when no loaded backend can copy this tensor's storage to the host
   * @throws DisposedError after `dispose()`
   */
  readHost(): TypedArray {
    const s = this.storage();
    if (s instanceof CpuStorage) {
      hostAccessGuard.explicitReads++;
      hostAccessGuard.kernelDepth++;
      try {
        return s.data.slice();
      } finally {
        hostAccessGuard.kernelDepth--;
      }
    }
    if (!tensorHooks.toDevice) {
      throw new DeviceError(`tensor #${this.id} [${this.shape.join(', ')}] lives on ${s.device} and no loaded backend can copy it to the host`);
    }
    const host = tensorHooks.toDevice(this, 'cpu');
    const data = host.storage() instanceof CpuStorage ? (host.storage() as CpuStorage).data : null;
    host.dispose();
    if (!data) throw new DeviceError(`the ${s.device} backend did not copy tensor #${this.id} to the host`);
    return data;
  }

  /**
   * Float32 data of a CPU tensor, checked: the accessor of CPU kernels, never of drivers
   * (which read the host through {@link Tensor.readHost}). @internal
   * @throws DeviceError when the storage is not host memory
   */
  f32(argument = 'tensor'): Float32Array {
    return this.hostData(argument, 'float32') as Float32Array;
  }
  /** Int32 data of a CPU tensor, checked (see {@link Tensor.f32}). @internal */
  i32(argument = 'tensor'): Int32Array {
    return this.hostData(argument, 'int32') as Int32Array;
  }

  /**
   * Checks that this tensor is alive and of `dtype`, on any device, touching no memory: the
   * argument check of ops that run on every device. @internal
   * @throws DTypeError naming `argument`; DisposedError after `dispose()`
   */
  checkDType(dtype: DType, argument = 'tensor'): void {
    this.storage(argument);
    if (this.dtype !== dtype) throw new DTypeError(`argument '${argument}' must be ${dtype}, got ${this.dtype}`, argument);
  }

  private hostData(argument: string, dtype: DType): TypedArray {
    this.checkDType(dtype, argument);
    const s = this.storage(argument);
    if (!(s instanceof CpuStorage)) {
      throw new DeviceError(
        `argument '${argument}' lives on ${s.device}: its memory is not host memory (copy it with readHost() or move it with to('cpu'))`,
        argument,
      );
    }
    return s.data;
  }

  /** The single value of a one-element tensor: an explicit host read, like {@link Tensor.readHost}. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item() needs a one-element tensor, got [${this.shape.join(', ')}]`);
    return this.readHost()[0];
  }

  /** Nested JS arrays (for small tensors, printing and tests). */
  toArray(): unknown {
    const data = this.toTypedArray();
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return data[offset];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /**
   * This tensor on `device` ('cpu' or 'cuda'): a copy when it lives elsewhere, else a new
   * view of the same storage (so disposing either leaves the other usable). Throws a
   * DeviceError naming the reason when the device is not available (see `devices()`).
   * The move is not recorded by autograd: move parameters before training.
   */
  to(device: Device): Tensor {
    const s = this.storage();
    const d = checkDevice(device);
    if (d === s.device) return new Tensor(s, this.shape, this.dtype);
    if (!tensorHooks.toDevice) throw new DeviceError(`argument 'device': no backend can move tensors from ${s.device} to ${d}`, 'device');
    return tensorHooks.toDevice(this, d);
  }

  /** A view with a new shape (one entry may be -1). Shares storage; not differentiable here (see `ops.reshape`). */
  view(shape: readonly number[]): Tensor {
    const s = this.storage();
    const resolved = resolveShape(shape, this.size);
    return new Tensor(s, resolved, this.dtype);
  }

  /** Runs reverse-mode differentiation from this scalar (see `autograd`). */
  backward(grad?: Tensor): void {
    if (!tensorHooks.backward) throw new ValueError('autograd is not loaded');
    tensorHooks.backward(this, grad);
  }

  /** Releases this tensor's reference to its storage. Idempotent. */
  dispose(): void {
    const s = this._storage;
    if (!s) return;
    this._storage = null;
    untrackTensor(this);
    if (--s.refs === 0) {
      countBytes(s.device, -s.byteLength);
      s.release();
    }
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    this.gradFn = null;
  }

  /** Bytes of this tensor's elements. */
  get byteLength(): number {
    return this.size * BYTES_PER_ELEMENT[this.dtype];
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}], ${this._storage ? this._storage.device : 'disposed'})`;
  }
}

/** Resolves a shape with at most one -1 against a size. */
export function resolveShape(shape: readonly number[], size: number, argument = 'shape'): number[] {
  const out = shape.slice();
  const free = out.indexOf(-1);
  if (free >= 0) {
    if (out.indexOf(-1, free + 1) >= 0) throw new ShapeError(`argument '${argument}' may hold only one -1`, argument);
    const known = shapeSize(out.filter((_, i) => i !== free));
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`cannot reshape ${size} elements into [${shape.join(', ')}]`, argument);
    }
    out[free] = size / known;
  }
  checkShape(out, argument);
  if (shapeSize(out) !== size) throw new ShapeError(`cannot reshape ${size} elements into [${shape.join(', ')}]`, argument);
  return out;
}
