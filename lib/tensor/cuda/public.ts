/**
 * The `cuda` namespace: status and controls of the optional CUDA backend.
 * `import { cuda } from 'qarm'`; every function works (and reports "unavailable") on
 * machines without a GPU.
 */
import { DeviceError, ValueError } from '../../errors.js';
import type { AllocatorStats } from './allocator.js';
import { cudaReason, cudaRuntime } from './index.js';
import { settings } from './settings.js';

export type { AllocatorStats } from './allocator.js';

function runtime() {
  if (!cudaRuntime) throw new DeviceError(`CUDA is not available: ${cudaReason}`);
  return cudaRuntime;
}

/** Whether a CUDA device is in use. */
export function isAvailable(): boolean {
  return cudaRuntime !== null;
}

/** Why CUDA is unavailable ('' when it is available). */
export function unavailableReason(): string {
  return cudaReason;
}

/** Name, compute capability, multiprocessors and memory of the device. */
export function deviceInfo(): { name: string; computeCapability: string; multiprocessors: number; totalBytes: number; freeBytes: number } {
  return runtime().addon.deviceInfo();
}

/** Caching-allocator counters (bytes handed out, cached, reserved; cache hits and misses). */
export function memoryStats(): AllocatorStats {
  return runtime().allocator.getStats();
}

/** Returns every cached (unused) device buffer to the driver. Returns the bytes freed. */
export function emptyCache(): number {
  return runtime().allocator.emptyCache();
}

/** Waits until all queued device work is done (for timing; results are ordered anyway). */
export function synchronize(): void {
  runtime().addon.synchronize();
}

/** Which dense GEMM runs: 'cublas' (dlopen'ed at run time) or the built-in tiled kernel. */
export function gemmBackend(): 'cublas' | 'builtin' {
  if (settings.gemm === 'builtin') return 'builtin';
  return runtime().addon.gemmBackend() as 'cublas' | 'builtin';
}

/** Options of {@link configure}. */
export interface CudaOptions {
  /** Embedding-gradient scatter-add: 'sorted' (deterministic, default) or 'atomic' (faster, order-dependent rounding). */
  scatter?: 'sorted' | 'atomic';
  /** Nearest-codeword kernel: 'fp32' (exact, default) or 'tf32' (tensor cores, candidates re-ranked exactly in fp32). */
  nearest?: 'fp32' | 'tf32';
  /** Candidates per row the TF32 kernel re-ranks (0 = max(2k, k + 16); at most 128). */
  nearestCandidates?: number;
  /** Dense GEMM: 'auto' (cuBLAS when found) or 'builtin'. */
  gemm?: 'auto' | 'builtin';
}

/** Sets process-wide CUDA choices; returns the settings now in force. Works without a GPU. */
export function configure(opts: CudaOptions = {}): Required<CudaOptions> {
  const check = <T extends string>(name: string, v: unknown, allowed: readonly T[]): T | undefined => {
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw new ValueError(`argument '${name}' must be one of ${allowed.join(', ')}, got ${String(v)}`, name);
    return v as T;
  };
  settings.scatter = check('scatter', opts.scatter, ['sorted', 'atomic'] as const) ?? settings.scatter;
  settings.nearest = check('nearest', opts.nearest, ['fp32', 'tf32'] as const) ?? settings.nearest;
  settings.gemm = check('gemm', opts.gemm, ['auto', 'builtin'] as const) ?? settings.gemm;
  if (opts.nearestCandidates !== undefined) {
    const c = opts.nearestCandidates;
    if (!Number.isInteger(c) || c < 0 || c > 128) {
      throw new ValueError(`argument 'nearestCandidates' must be an integer in [0, 128], got ${c}`, 'nearestCandidates');
    }
    settings.nearestCandidates = c;
  }
  return { ...settings };
}
