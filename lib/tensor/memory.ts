/**
 * Live-tensor accounting and `tidy` scopes, as in tfjs: tensors created inside `tidy(fn)`
 * are disposed when it returns, except the ones it returns or `keep()`s.
 */
import type { Device } from './dtype.js';

/** Anything `tidy` can dispose. @internal */
export interface Trackable {
  readonly id: number;
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Trackable>[] = [];
const kept = new WeakSet<Trackable>();
let liveTensors = 0;
const liveBytes: Record<Device, number> = { cpu: 0, cuda: 0 };

/** @internal */
export function trackTensor(t: Trackable): void {
  liveTensors++;
  const s = scopes[scopes.length - 1];
  if (s) s.add(t);
}
/** @internal */
export function untrackTensor(t: Trackable): void {
  liveTensors--;
  const s = scopes[scopes.length - 1];
  if (s) s.delete(t);
}
/** @internal */
export function countBytes(device: Device, delta: number): void {
  liveBytes[device] += delta;
}

/** Counts of live (not yet disposed) tensors and the bytes their storages hold. */
export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  bytesByDevice: Record<Device, number>;
}

/** How many tensors are alive and how many bytes they hold. */
export function memory(): MemoryInfo {
  return {
    numTensors: liveTensors,
    numBytes: liveBytes.cpu + liveBytes.cuda,
    bytesByDevice: { ...liveBytes },
  };
}

/** Excludes `t` from disposal by every enclosing `tidy`. Returns `t`. */
export function keep<T extends Trackable>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Trackable>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ('dispose' in value && 'id' in value && 'isDisposed' in value) {
    out.add(value as Trackable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those reachable from its result
 * (tensors, arrays, maps and plain objects of them) and those passed to `keep()`.
 * Returned tensors move to the enclosing scope. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Trackable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // A throwing fn must not leak what it created before the error.
    scopes.pop();
    for (const t of scope) if (!kept.has(t) && !t.isDisposed) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new TypeError('tidy(fn): fn must be synchronous; await outside the tidy scope');
  }
  const survivors = new Set<Trackable>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) {
      if (parent && !kept.has(t)) parent.add(t);
      continue;
    }
    if (!t.isDisposed) t.dispose();
  }
  return result;
}
