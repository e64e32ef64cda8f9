import type { DType } from '../dtype.js';
import type { Storage } from '../storage.js';
import type { CachingAllocator, DeviceBlock } from './allocator.js';

/**
 * Device storage: a block from the caching allocator, returned to it when the last tensor
 * using it is disposed. `ptr` is the device address the CUDA addon checks and uses.
 * @internal
 */
export class CudaStorage implements Storage {
  readonly device = 'cuda' as const;
  readonly dtype: DType;
  readonly byteLength: number;
  refs = 0;
  private block: DeviceBlock | null;
  constructor(
    private readonly allocator: CachingAllocator,
    byteLength: number,
    dtype: DType,
  ) {
    this.dtype = dtype;
    this.byteLength = byteLength;
    this.block = allocator.allocate(byteLength);
  }
  get ptr(): bigint {
    if (!this.block) throw new Error('storage released');
    return this.block.ptr;
  }
  release(): void {
    if (!this.block) return;
    const b = this.block;
    this.block = null;
    this.allocator.release(b);
  }
}
