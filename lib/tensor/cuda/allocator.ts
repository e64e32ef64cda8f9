/**
 * A caching allocator for device memory, after PyTorch's CUDACachingAllocator (simplified:
 * no block splitting). `cudaMalloc`/`cudaFree` are slow and `cudaFree` synchronises the
 * device, so freed buffers go to per-size-class free lists and are handed out again to the
 * next request of the same class. All kernels run on one stream, in order, so a buffer
 * released by `dispose()` can be reused by the next launch without waiting.
 *
 * Size classes bound the waste: requests up to 1 MiB round up to a multiple of 512 bytes;
 * larger ones to the next of four steps per power of two (2^k x {1, 1.25, 1.5, 1.75}),
 * so at most 25 % is unused. When the device runs out of memory the cache is emptied and the
 * allocation retried once.
 */

/** The uncached device primitives the allocator sits on. */
export interface RawDeviceMemory {
  malloc(bytes: number): bigint;
  free(ptr: bigint): void;
}

/** A device buffer handed out by the allocator. */
export interface DeviceBlock {
  readonly ptr: bigint;
  /** Bytes reserved (the size class), at least the bytes asked for. */
  readonly size: number;
}

/** Counters of the caching allocator (`CachingAllocator`, this file). */
export interface AllocatorStats {
  /** Bytes in blocks handed out and not yet freed. */
  allocatedBytes: number;
  /** Bytes held in the cache, ready for reuse. */
  cachedBytes: number;
  /** allocatedBytes + cachedBytes: what the device has given us. */
  reservedBytes: number;
  /** Requests served from the cache. */
  hits: number;
  /** Requests that needed a raw allocation. */
  misses: number;
  /** Raw allocations and frees so far. */
  rawAllocs: number;
  rawFrees: number;
}

const SMALL = 1 << 20;
const ALIGN = 512;

/** The size class `bytes` is served from. */
export function sizeClass(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`invalid allocation size ${bytes}`);
  if (bytes <= SMALL) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
}

function isOutOfMemory(e: unknown): boolean {
  return e instanceof Error && /out of memory/i.test(e.message);
}

export class CachingAllocator {
  private readonly free = new Map<number, bigint[]>();
  private readonly live = new Map<bigint, number>();
  private stats: AllocatorStats = { allocatedBytes: 0, cachedBytes: 0, reservedBytes: 0, hits: 0, misses: 0, rawAllocs: 0, rawFrees: 0 };

  constructor(private readonly raw: RawDeviceMemory) {}

  /** A block of at least `bytes` bytes (contents undefined). */
  allocate(bytes: number): DeviceBlock {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr !== undefined) {
      this.stats.hits++;
      this.stats.cachedBytes -= size;
    } else {
      this.stats.misses++;
      try {
        ptr = this.raw.malloc(size);
      } catch (e) {
        if (!isOutOfMemory(e) || this.stats.cachedBytes === 0) throw e;
        this.emptyCache();
        ptr = this.raw.malloc(size);
      }
      this.stats.rawAllocs++;
      this.stats.reservedBytes += size;
    }
    this.live.set(ptr, size);
    this.stats.allocatedBytes += size;
    return { ptr, size };
  }

  /** Returns a block to the cache. Freeing a block twice (or a foreign one) throws. */
  release(block: DeviceBlock): void {
    const size = this.live.get(block.ptr);
    if (size === undefined) throw new Error('CachingAllocator.release: block is not live');
    this.live.delete(block.ptr);
    this.stats.allocatedBytes -= size;
    this.stats.cachedBytes += size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(block.ptr);
  }

  /** Frees every cached block back to the device. Returns the bytes freed. */
  emptyCache(): number {
    let freed = 0;
    for (const [size, list] of this.free) {
      for (const ptr of list) {
        this.raw.free(ptr);
        this.stats.rawFrees++;
        freed += size;
      }
    }
    this.free.clear();
    this.stats.cachedBytes -= freed;
    this.stats.reservedBytes -= freed;
    return freed;
  }

  /** A snapshot of the counters. */
  getStats(): AllocatorStats {
    return { ...this.stats };
  }
}
