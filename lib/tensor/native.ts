/**
 * Loads the native addon (a prebuilt binary from `prebuilds/`, or the local build) with
 * node-gyp-build, and wraps every function so native errors surface as typed QarmErrors.
 * Only `tensor/` imports this module (`npm run lint` enforces it).
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fromNativeError, IOError } from '../errors.js';

/** Functions the addon exports. Modules that add native functions extend this interface. */
export interface NativeAddon {
  numThreads(): number;
  setNumThreads(n: number): number;
  getIsa(): { current: string; best: string; vectorWidth: number };
  setIsa(isa: string): string;
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    out: Float32Array,
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array, n: number): void;
  binary(
    op: number,
    a: Float32Array,
    aStrides: readonly number[],
    b: Float32Array,
    bStrides: readonly number[],
    out: Float32Array,
    shape: readonly number[],
  ): void;
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, n: number): void;
  reduceSum(x: Float32Array, out: Float32Array, outer: number, len: number, inner: number): void;
  softmaxRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  logsumexpRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  l2NormalizeRows(x: Float32Array, out: Float32Array, norms: Float32Array | null, rows: number, cols: number, eps: number): void;
  clampNorms(norms: Float32Array, n: number, eps: number, clamped: Float32Array, mask: Float32Array): void;
  argReduceRows(x: Float32Array, out: Int32Array, rows: number, cols: number, isMax: boolean): void;
  gatherRows(table: Float32Array, rows: number, dim: number, indices: Int32Array, out: Float32Array, argName?: string): void;
  scatterAddRows(target: Float32Array, rows: number, dim: number, indices: Int32Array, source: Float32Array, argName?: string): void;
}

const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The error for a platform with neither a prebuilt binary nor a local build: the package ships
 * linux-x64 (glibc) only, and with install scripts off (pnpm's default, `--ignore-scripts`)
 * nothing compiled one, so say exactly how to. `searched` is node-gyp-build's message, whose
 * `platform=`, `arch=` and `libc=` tags name the binary it looked for.
 */
function missingAddonError(searched: string): IOError {
  const tag = (name: string, fallback: string): string => new RegExp(`\\b${name}=(\\S+)`).exec(searched)?.[1] ?? fallback;
  const platform = tag('platform', process.platform);
  const libc = platform === 'linux' ? ` (${tag('libc', 'glibc')})` : '';
  return new IOError(
    `qarm: no native addon for ${platform}-${tag('arch', process.arch)}${libc}, Node ${process.version}.\n` +
      `The npm package carries a prebuilt binary for linux-x64 (glibc) only; elsewhere qarm's install ` +
      `script compiles the addon, and it did not run here (install scripts disabled, as with pnpm or ` +
      `\`npm install --ignore-scripts\`) or it failed. In a clone, \`npm ci\` or \`npm run build:native\` compiles it.\n` +
      `Build it from source (needs python3, make and a C++17 compiler), then import qarm again:\n` +
      `  npm rebuild qarm --ignore-scripts=false      (pnpm: pnpm rebuild qarm)\n` +
      `or, in the package folder:\n` +
      `  cd ${packageRoot} && npx node-gyp rebuild`,
  );
}

function loadBinding(): Record<string, unknown> {
  // QARM_ADDON_PATH names a specific build (e.g. the sanitizer build of `npm run test:asan`).
  const override = process.env.QARM_ADDON_PATH;
  if (override) return require(override) as Record<string, unknown>;
  try {
    return require('node-gyp-build')(packageRoot) as Record<string, unknown>;
  } catch (e) {
    // node-gyp-build's own message lists ABI tags, not a way out; other errors (a binary that
    // fails to load) are kept as they are.
    if (e instanceof Error && e.message.startsWith('No native build was found')) throw missingAddonError(e.message);
    throw e;
  }
}

function load(): NativeAddon {
  const raw = loadBinding();
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
