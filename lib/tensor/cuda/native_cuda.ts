/**
 * Finds and loads the optional CUDA addon (build-cuda/Release/qarm_cuda.node, made by
 * `npm run build:cuda`), then asks it for devices. Nothing here throws: a missing addon, a
 * load failure, a missing driver or zero devices all become "no CUDA" with a reason that
 * `devices()`/`Tensor.to('cuda')` report. `QARM_DISABLE_CUDA=1` skips the probe;
 * `QARM_CUDA_ADDON=/path/qarm_cuda.node` names the addon explicitly.
 * @internal
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromNativeError } from '../../errors.js';
import type { NearestMetric } from '../op_codes.js';

type Ptr = bigint;

/** Functions of qarm_cuda.node (native/binding/cuda/). */
export interface CudaAddon {
  deviceCount(): { count: number; reason: string };
  deviceInfo(): { name: string; computeCapability: string; multiprocessors: number; totalBytes: number; freeBytes: number };
  malloc(bytes: number): Ptr;
  free(ptr: Ptr): void;
  upload(ptr: Ptr, data: Float32Array | Int32Array): void;
  download(ptr: Ptr, out: Float32Array | Int32Array): void;
  copy(dst: Ptr, src: Ptr, bytes: number): void;
  copy2d(dst: Ptr, dstOffset: number, dstPitch: number, src: Ptr, srcOffset: number, srcPitch: number, width: number, height: number): void;
  memsetZero(ptr: Ptr, bytes: number): void;
  synchronize(): void;
  gemmBackend(): string;
  setGemmBuiltin(builtin: boolean): string;
  liveAllocations(): number;
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, a: Ptr, b: Ptr, beta: number, out: Ptr, builtin?: boolean): void;
  unary(op: number, x: Ptr, out: Ptr, n: number): void;
  binary(op: number, a: Ptr, aStrides: number[], b: Ptr, bStrides: number[], out: Ptr, shape: number[]): void;
  axpby(alpha: number, x: Ptr, beta: number, y: Ptr, n: number): void;
  fill(out: Ptr, n: number, value: number, isInt: boolean): void;
  transpose2d(x: Ptr, out: Ptr, rows: number, cols: number): void;
  reduceSum(x: Ptr, out: Ptr, outer: number, len: number, inner: number): void;
  softmaxRows(x: Ptr, out: Ptr, rows: number, cols: number): void;
  logsumexpRows(x: Ptr, out: Ptr, rows: number, cols: number): void;
  l2NormalizeRows(x: Ptr, out: Ptr, norms: Ptr | null, rows: number, cols: number, eps: number): void;
  argReduceRows(x: Ptr, out: Ptr, rows: number, cols: number, isMax: boolean): void;
  clampNorms(norms: Ptr, n: number, eps: number, clamped: Ptr, mask: Ptr): void;
  infoNceLogits(s: Ptr, mask: Ptr | null, b: number, temperature: number, out: Ptr): void;
  infoNceLoss(lseR: Ptr, lseC: Ptr, l: Ptr, b: number, out: Ptr): void;
  infoNceGrad(pr: Ptr, pc: Ptr, dy: Ptr, b: number, temperature: number, out: Ptr): void;
  gatherRows(table: Ptr, rows: number, dim: number, indices: Ptr, n: number, out: Ptr, argName: string, padded?: boolean): void;
  scatterAddRows(target: Ptr, rows: number, dim: number, indices: Ptr, n: number, source: Ptr, atomic: boolean, argName: string): void;
  sgdUpdate(param: Ptr, grad: Ptr, velocity: Ptr | null, n: number, lr: number, momentum: number, weightDecay: number, nesterov: boolean): void;
  adamUpdate(
    param: Ptr,
    grad: Ptr,
    m: Ptr,
    v: Ptr,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
  nearest(
    x: Ptr,
    N: number,
    D: number,
    codebook: Ptr,
    K: number,
    k: number,
    metric: NearestMetric,
    outIdx: Ptr,
    outDist: Ptr,
    tf32: boolean,
    candidates: number,
  ): void;
  kmeansUpdate(x: Ptr, N: number, D: number, assignments: Ptr, K: number, centroids: Ptr, counts: Ptr): void;
  clusterSums(x: Ptr, N: number, D: number, assignments: Ptr, K: number, counts: Ptr, sums: Ptr): void;
  centroidsFromSums(sums: Ptr, counts: Ptr, K: number, D: number, centroids: Ptr): void;
  splitEmptyClusters(centroids: Ptr, counts: Ptr, K: number, D: number, rng: Ptr, splits: Ptr, n: number): void;
  dsquaredRound(distances: Ptr, minDist: Ptr, chosen: Ptr, N: number, round: Ptr, R: number, rng: Ptr, m: number, out: Ptr): void;
  sumF64(x: Ptr, n: number, square: boolean, out: Ptr, slot: number): void;
  emaF64Update(state: Ptr, x: Ptr, n: number, decay: number): void;
  vqEmaUpdate(codebook: Ptr, emaCounts: Ptr, emaSums: Ptr, counts: Ptr, sums: Ptr, K: number, D: number, decay: number, eps: number): void;
  deadCodeRestart(
    codebook: Ptr,
    usage: Ptr,
    K: number,
    D: number,
    residual: Ptr,
    n: number,
    rng: Ptr,
    restarts: Ptr,
    threshold: number,
    emaCounts: Ptr | null,
    emaSums: Ptr | null,
  ): void;
  f32ToF64(x: Ptr, n: number, out: Ptr): void;
  rvqLevelForward(residual: Ptr, codebook: Ptr, K: number, d: number, codes: Ptr, n: number, quantized: Ptr, next: Ptr): number;
  vqScatterAddScaled(grad: Ptr, K: number, d: number, codes: Ptr, n: number, rows: Ptr, scale: number): void;
  rvqSteBackward(gradOut: Ptr | null, rows: Ptr | null, levels: number, nd: number, scale: number, gradX: Ptr): void;
  vqCodeSums(x: Ptr, n: number, d: number, codes: Ptr, K: number, counts: Ptr, sums: Ptr): void;
  dropSelf(indices: Ptr, n: number, k: number, out: Ptr): void;
  coalescePlan(indices: Ptr, n: number, rows: number, skipNegative: boolean, argName: string): { count: number; plan: number };
  coalesceReduce(
    plan: number,
    count: number,
    source: Ptr,
    sourceRows: number,
    dim: number,
    n: number,
    srcRow: Ptr | null,
    weights: Ptr | null,
    outIndices: Ptr,
    outValues: Ptr,
  ): void;
  bagWeights(offsets: Ptr, nbags: number, nv: number, weights: Ptr | null, mean: boolean, bagOf: Ptr, scale: Ptr): void;
  bagPool(
    table: Ptr,
    rows: number,
    dim: number,
    values: Ptr,
    nv: number,
    offsets: Ptr,
    nbags: number,
    weights: Ptr | null,
    mean: boolean,
    out: Ptr,
    argName: string,
  ): void;
  sparseAdam(
    param: Ptr,
    m: Ptr,
    v: Ptr,
    rows: number,
    dim: number,
    indices: Ptr,
    n: number,
    grad: Ptr,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
  rowwiseAdagrad(param: Ptr, state: Ptr, rows: number, dim: number, indices: Ptr, n: number, grad: Ptr, lr: number, eps: number, weightDecay: number): void;
  weightedPool(w: Ptr, k: Ptr, out: Ptr, B: number, M: number, H: number, D: number): void;
  weightedPoolBackward(w: Ptr, k: Ptr, dout: Ptr, dw: Ptr | null, dk: Ptr | null, B: number, M: number, H: number, D: number): void;
}

/** Result of the probe: the addon when a device was found, else why not. */
export interface CudaProbe {
  addon: CudaAddon | null;
  path: string | null;
  reason: string;
}

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where the addon may be, in order. */
export function addonCandidates(): string[] {
  const env = process.env.QARM_CUDA_ADDON;
  return [
    ...(env ? [env] : []),
    join(packageRoot, 'build-cuda', 'Release', 'qarm_cuda.node'),
    join(packageRoot, 'build-cuda', 'qarm_cuda.node'),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'qarm_cuda.node'),
  ];
}

function wrap(raw: Record<string, unknown>): CudaAddon {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(raw)) {
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]) => {
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        throw fromNativeError(e);
      }
    };
  }
  return out as unknown as CudaAddon;
}

/** Loads the addon and counts devices; never throws. `requireDevice: false` returns the addon even with 0 devices (tests). */
export function probeCuda(requireDevice = true): CudaProbe {
  if (process.env.QARM_DISABLE_CUDA === '1') return { addon: null, path: null, reason: 'disabled by QARM_DISABLE_CUDA=1' };
  const path = addonCandidates().find((p) => existsSync(p)) ?? null;
  if (!path) {
    return { addon: null, path: null, reason: 'the CUDA addon is not built (run `npm run build:cuda` where nvcc is installed)' };
  }
  let addon: CudaAddon;
  try {
    addon = wrap(createRequire(import.meta.url)(path) as Record<string, unknown>);
  } catch (e) {
    return { addon: null, path, reason: `the CUDA addon at ${path} failed to load: ${(e as Error).message}` };
  }
  let count = 0;
  let why: string;
  try {
    const r = addon.deviceCount();
    count = r.count;
    why = r.reason;
  } catch (e) {
    why = (e as Error).message;
  }
  if (count > 0 || !requireDevice) return { addon, path, reason: count > 0 ? '' : `no CUDA device found (${why})` };
  return { addon: null, path, reason: `no CUDA device found (${why})` };
}
