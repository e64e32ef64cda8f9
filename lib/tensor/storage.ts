import { DeviceError } from '../errors.js';
import type { Device, DType, TypedArray } from './dtype.js';

/**
 * Lets tests make CPU memory behave like device memory (test/support/host_guard.js): while
 * `forbid` is set, reading or writing CPU storage outside a running kernel throws, so a driver
 * that runs to the end provably touched host memory only through kernels and
 * `Tensor.readHost()` (counted in `explicitReads`). `kernelDepth` counts the kernels running.
 * @internal
 */
export const hostAccessGuard = { forbid: false, kernelDepth: 0, explicitReads: 0 };

/**
 * The memory behind one or more tensors (views share it). Reference counted: the last
 * `dispose()` of a tensor that uses it releases it. Device backends supply their own kinds.
 * @internal
 */
export interface Storage {
  readonly device: Device;
  readonly dtype: DType;
  readonly byteLength: number;
  refs: number;
  release(): void;
}

/** CPU storage: a typed array owned by Node, never copied when handed to native kernels. */
export class CpuStorage implements Storage {
  readonly device = 'cpu' as const;
  readonly dtype: DType;
  refs = 0;
  private _data: TypedArray | null;
  constructor(data: TypedArray, dtype: DType) {
    this._data = data;
    this.dtype = dtype;
  }
  get byteLength(): number {
    return this._data ? this._data.byteLength : 0;
  }
  get data(): TypedArray {
    if (!this._data) throw new Error('storage released');
    if (hostAccessGuard.forbid && hostAccessGuard.kernelDepth === 0) {
      throw new DeviceError('host access to tensor memory outside a kernel while host reads are forbidden (use a kernel, or Tensor.readHost() at the edge)');
    }
    return this._data;
  }
  release(): void {
    this._data = null;
  }
}
