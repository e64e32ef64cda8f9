/** Thread count and SIMD instruction-set controls of the native CPU backend. */
import { ValueError } from '../errors.js';
import { native } from './native.js';

/**
 * Sets the number of CPU threads kernels use (n ≤ 0 restores the default: the
 * `QARM_NUM_THREADS` variable, else the number of cores). Results do not depend on it.
 */
export function setNumThreads(n: number): number {
  if (!Number.isInteger(n)) throw new ValueError(`argument 'n' must be an integer, got ${n}`, 'n');
  return native.setNumThreads(Math.max(0, n));
}

/** Threads the CPU kernels use. */
export function numThreads(): number {
  return native.numThreads();
}

/** The SIMD instruction set in use, the best one this CPU supports, and the float vector width. */
export function isa(): { current: 'generic' | 'avx2' | 'avx512'; best: 'generic' | 'avx2' | 'avx512'; vectorWidth: number } {
  return native.getIsa() as ReturnType<typeof isa>;
}

/** Forces an instruction set (capped to what the CPU runs), e.g. to compare paths. Returns the one in force. */
export function setIsa(name: 'generic' | 'avx2' | 'avx512'): string {
  return native.setIsa(name);
}
