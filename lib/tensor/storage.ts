import type { Device, DType, TypedArray } from './dtype.js';

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
    return this._data;
  }
  release(): void {
    this._data = null;
  }
}
