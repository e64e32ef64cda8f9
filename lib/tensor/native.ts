/**
 * Loads the native addon (a prebuilt binary from `prebuilds/`, or the local build) with
 * node-gyp-build, and wraps every function so native errors surface as typed QarmErrors.
 * Only `tensor/` and `nn/` import this module.
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fromNativeError } from '../errors.js';

/** Functions the addon exports. Modules that add native functions extend this interface. */
export interface NativeAddon {
  numThreads(): number;
  setNumThreads(n: number): number;
  getIsa(): { current: string; best: string; vectorWidth: number };
  setIsa(isa: string): string;
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: Float32Array, b: Float32Array, beta: number, out: Float32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, n: number): void;
  binary(op: number, a: Float32Array, aStrides: number[], b: Float32Array, bStrides: number[],
    out: Float32Array, shape: number[]): void;
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, n: number): void;
  reduceSum(x: Float32Array, out: Float32Array, outer: number, len: number, inner: number): void;
  softmaxRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  logsumexpRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  l2NormalizeRows(x: Float32Array, out: Float32Array, norms: Float32Array | null, rows: number,
    cols: number, eps: number): void;
  argReduceRows(x: Float32Array, out: Int32Array, rows: number, cols: number, isMax: boolean): void;
  gatherRows(table: Float32Array, rows: number, dim: number, indices: Int32Array, out: Float32Array,
    argName?: string): void;
  scatterAddRows(target: Float32Array, rows: number, dim: number, indices: Int32Array,
    source: Float32Array, argName?: string): void;
}

const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

function load(): NativeAddon {
  // QARM_ADDON_PATH names a specific build (e.g. the sanitizer build of `npm run test:asan`).
  const override = process.env.QARM_ADDON_PATH;
  const raw = (override ? require(override) : require('node-gyp-build')(packageRoot)) as Record<string, unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(raw)) {
    if (typeof fn !== 'function') {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = (...args: unknown[]) => {
      try {
        const r = (fn as (...a: unknown[]) => unknown)(...args);
        if (r instanceof Promise) return r.catch((e: unknown) => Promise.reject(fromNativeError(e)));
        return r;
      } catch (e) {
        throw fromNativeError(e);
      }
    };
  }
  return wrapped as unknown as NativeAddon;
}

/** The loaded addon. */
export const native: NativeAddon = load();
