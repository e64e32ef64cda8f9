/**
 * allReduce, allGather, broadcast and barrier over a transport. MPI only moves bytes here; the
 * sums are ours, done in rank order 0, 1, …, N-1 for every element, so a result never depends on
 * which rank's data arrived first, on the MPI algorithm or on the chunk size.
 * @internal
 */
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.js';
import { bytesOf, ctorOf, describe, dtypeCode, dtypeName, type DistArray, type ReduceArray } from './arrays.js';
import { exchangeHeaders, type Context, type Header } from './header.js';
import { countBytes, countCall } from './stats.js';

const INT_MAX = 2 ** 31 - 1;

/** The chunk one rank contributes per MPI call, capped so N chunks still fit MPI's int offsets. */
function chunkFor(ctx: Context): number {
  return Math.max(1, Math.min(ctx.chunkBytes, Math.floor(INT_MAX / ctx.transport.size)));
}

/** Same dtype on every rank, and a supported one, or the same DTypeError everywhere. */
function checkDtypes(all: Header[], rank: number, x: unknown, allowed: string): number {
  const bad = all.findIndex((h) => h.dtype === 0);
  if (bad >= 0) {
    const who = bad === rank ? `this rank (${rank}) passed ${describe(x)}` : `rank ${bad} passed something else`;
    throw new DTypeError(`argument 'x' must be ${allowed} on every rank; ${who}`, 'x');
  }
  if (all.some((h) => h.dtype !== all[0].dtype)) {
    const list = all.map((h, r) => `rank ${r} ${dtypeName(h.dtype)}`).join(', ');
    throw new DTypeError(`argument 'x' has different dtypes across ranks (${list})`, 'x');
  }
  return all[0].dtype;
}

const REDUCE_TYPES = 'a Float32Array, Float64Array or Int32Array';
const GATHER_TYPES = 'a Float32Array, Float64Array, Int32Array or Uint8Array';

/**
 * Element-wise sum over ranks into `out` (which may be `x`). Each round gathers the same slice of
 * every rank's array and adds it in rank order: float64 in float64, float32 in float64 rounded
 * once to float32, int32 exactly (checked against the int32 range before anything is written).
 */
export function allReduceInto(ctx: Context, x: ReduceArray, inPlace: boolean): ReduceArray {
  countCall('allReduce');
  const { transport } = ctx;
  const code = dtypeCode(x, true);
  const n = code ? x.length : 0;
  const all = exchangeHeaders(ctx, { kind: 'allReduce', dtype: code, length: n, root: NaN });
  const dtype = checkDtypes(all, transport.rank, x, REDUCE_TYPES);
  if (all.some((h) => h.length !== n)) {
    const list = all.map((h, r) => `rank ${r} has ${h.length}`).join(', ');
    throw new ShapeError(`argument 'x' must have the same length on every rank (${list})`, 'x');
  }
  const Ctor = ctorOf(dtype);
  const out = (inPlace ? x : new Ctor(n)) as ReduceArray;
  const size = transport.size;
  if (size === 1) {
    if (!inPlace) out.set(x);
    return out;
  }
  const bpe = x.BYTES_PER_ELEMENT;
  const per = Math.min(n, Math.max(1, Math.floor(chunkFor(ctx) / bpe)));
  const temp = new Uint8Array(size * per * bpe);
  const counts = new Int32Array(size);
  const displs = new Int32Array(size);
  const src = bytesOf(x);
  // int32 sums are all kept until the range check passes, so an overflow changes nothing.
  const acc = dtype === 2 ? null : new Float64Array(dtype === 3 ? n : per);
  for (let off = 0; off < n; off += per) {
    const c = Math.min(per, n - off);
    const cb = c * bpe;
    for (let r = 0; r < size; r++) {
      counts[r] = cb;
      displs[r] = r * cb;
    }
    transport.allgatherv(src.subarray(off * bpe, off * bpe + cb), temp, counts, displs);
    countBytes('allReduce', cb, (size - 1) * cb);
    const parts = Array.from({ length: size }, (_, r) => new Ctor(temp.buffer, r * cb, c));
    if (acc === null) {
      const o = out as Float64Array;
      const p0 = parts[0];
      for (let j = 0; j < c; j++) o[off + j] = p0[j];
      for (let r = 1; r < size; r++) {
        const p = parts[r];
        for (let j = 0; j < c; j++) o[off + j] += p[j];
      }
    } else {
      const base = dtype === 3 ? off : 0;
      const p0 = parts[0];
      for (let j = 0; j < c; j++) acc[base + j] = p0[j];
      for (let r = 1; r < size; r++) {
        const p = parts[r];
        for (let j = 0; j < c; j++) acc[base + j] += p[j];
      }
      if (dtype === 1) {
        const o = out as Float32Array;
        for (let j = 0; j < c; j++) o[off + j] = acc[j];
      }
    }
  }
  if (dtype === 3 && acc) {
    for (let i = 0; i < n; i++) {
      if (acc[i] > INT_MAX || acc[i] < -INT_MAX - 1) {
        throw new ValueError(`argument 'x': the int32 sum at index ${i} is ${acc[i]}, outside the int32 range`, 'x');
      }
    }
    (out as Int32Array).set(acc);
  }
  return out;
}

/**
 * Every rank's array, in rank order; lengths may differ, the dtype may not. The parts are views
 * into one buffer, laid out rank after rank.
 */
export function allGatherParts(ctx: Context, x: DistArray): DistArray[] {
  countCall('allGather');
  const { transport } = ctx;
  const code = dtypeCode(x, false);
  const n = code ? x.length : 0;
  const all = exchangeHeaders(ctx, { kind: 'allGather', dtype: code, length: n, root: NaN });
  const dtype = checkDtypes(all, transport.rank, x, GATHER_TYPES);
  const Ctor = ctorOf(dtype);
  const bpe = Ctor.BYTES_PER_ELEMENT;
  const size = transport.size;
  const sizes = all.map((h) => h.length * bpe);
  const offsets: number[] = [];
  let total = 0;
  for (const b of sizes) {
    offsets.push(total);
    total += b;
  }
  const buffer = new ArrayBuffer(total);
  const parts = all.map((h, r) => new Ctor(buffer, offsets[r], h.length) as DistArray);
  if (size === 1) {
    parts[0].set(x);
    return parts;
  }
  const outBytes = new Uint8Array(buffer);
  const own = bytesOf(x);
  const me = transport.rank;
  const chunk = chunkFor(ctx);
  const largest = Math.max(...sizes);
  const temp = new Uint8Array(size * Math.min(chunk, largest));
  const counts = new Int32Array(size);
  const displs = new Int32Array(size);
  for (let k = 0; k < largest; k += chunk) {
    let d = 0;
    for (let r = 0; r < size; r++) {
      counts[r] = Math.max(0, Math.min(chunk, sizes[r] - k));
      displs[r] = d;
      d += counts[r];
    }
    transport.allgatherv(own.subarray(Math.min(k, own.length), Math.min(k + chunk, own.length)), temp, counts, displs);
    countBytes('allGather', counts[me], d - counts[me]);
    for (let r = 0; r < size; r++) {
      if (counts[r] > 0) outBytes.set(temp.subarray(displs[r], displs[r] + counts[r]), offsets[r] + k);
    }
  }
  return parts;
}

/** The root's array on every rank (a new array everywhere; other ranks' lengths are ignored). */
export function broadcastFrom(ctx: Context, x: DistArray, root: number): DistArray {
  countCall('broadcast');
  const { transport } = ctx;
  const code = dtypeCode(x, false);
  const n = code ? x.length : 0;
  const rootCode = typeof root === 'number' ? root : NaN;
  const all = exchangeHeaders(ctx, { kind: 'broadcast', dtype: code, length: n, root: rootCode });
  const size = transport.size;
  const badRoot = all.findIndex((h) => !Number.isInteger(h.root) || h.root < 0 || h.root >= size);
  if (badRoot >= 0) {
    const shown = badRoot === transport.rank ? String(root) : String(all[badRoot].root);
    throw new IndexError(`argument 'root' = ${shown} (on rank ${badRoot}) must be an integer in [0, ${size}), the world size`, 'root');
  }
  if (all.some((h) => h.root !== all[0].root)) {
    const list = all.map((h, r) => `rank ${r}: ${h.root}`).join(', ');
    throw new ValueError(`argument 'root' must be the same on every rank (${list})`, 'root');
  }
  const dtype = checkDtypes(all, transport.rank, x, GATHER_TYPES);
  const from = all[0].root;
  const Ctor = ctorOf(dtype);
  const out = new Ctor(all[from].length) as DistArray;
  if (transport.rank === from) out.set(x);
  if (size === 1) return out;
  const view = bytesOf(out);
  const chunk = chunkFor(ctx);
  for (let off = 0; off < view.length; off += chunk) transport.bcast(view.subarray(off, off + chunk), from);
  if (transport.rank === from) countBytes('broadcast', view.length, 0);
  else countBytes('broadcast', 0, view.length);
  return out;
}

/**
 * Returns once every rank has called it: the header exchange is the synchronisation, since no
 * rank can finish gathering before every rank has contributed.
 */
export function barrierAll(ctx: Context): void {
  countCall('barrier');
  exchangeHeaders(ctx, { kind: 'barrier', dtype: 0, length: 0, root: NaN });
}
