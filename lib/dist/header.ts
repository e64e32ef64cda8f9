/**
 * Every collective starts by gathering one small header from each rank (what call, dtype,
 * length, root, call number, chunk size). All ranks then hold the same table, so a mismatch is
 * found, and the same typed error thrown, on every rank at once: a rank with a bad argument
 * still takes part instead of leaving the others waiting in MPI.
 * @internal
 */
import { ValueError } from '../errors.js';
import { bytesOf } from './arrays.js';
import { countBytes, type DistCallKind } from './stats.js';
import type { Transport } from './transport.js';

/** The transport with the per-process state every rank must keep in step. */
export interface Context {
  transport: Transport;
  /** Largest slice of one rank's bytes one MPI call carries (`QARM_DIST_CHUNK_BYTES`). */
  chunkBytes: number;
  /** Collectives started so far in this process. */
  seq: number;
}

/** One rank's header. `root` is NaN where the call has none or it is not a number. */
export interface Header {
  kind: DistCallKind;
  dtype: number;
  length: number;
  root: number;
  seq: number;
  chunk: number;
}

const KINDS: readonly DistCallKind[] = ['allReduce', 'allGather', 'broadcast', 'barrier'];
const FIELDS = 6;
/** Bytes of one rank's header. */
export const HEADER_BYTES = FIELDS * 8;

/**
 * Gathers every rank's header (in rank order) and checks that all ranks are in the same call
 * with the same chunk size.
 */
export function exchangeHeaders(ctx: Context, mine: Omit<Header, 'seq' | 'chunk'>): Header[] {
  const { transport } = ctx;
  const n = transport.size;
  const send = Float64Array.of(KINDS.indexOf(mine.kind), mine.dtype, mine.length, mine.root, ctx.seq, ctx.chunkBytes);
  const recv = new Float64Array(n * FIELDS);
  const counts = new Int32Array(n).fill(HEADER_BYTES);
  const displs = Int32Array.from({ length: n }, (_, r) => r * HEADER_BYTES);
  ctx.seq++;
  transport.allgatherv(bytesOf(send), bytesOf(recv), counts, displs);
  countBytes(mine.kind, n > 1 ? HEADER_BYTES : 0, (n - 1) * HEADER_BYTES);
  const all: Header[] = [];
  for (let r = 0; r < n; r++) {
    const f = recv.subarray(r * FIELDS, (r + 1) * FIELDS);
    all.push({ kind: KINDS[f[0]] ?? mine.kind, dtype: f[1], length: f[2], root: f[3], seq: f[4], chunk: f[5] });
  }
  const here = all[transport.rank];
  if (all.some((h) => h.kind !== here.kind || h.seq !== here.seq)) {
    const where = all.map((h, r) => `rank ${r} in ${h.kind} (call ${h.seq + 1})`).join(', ');
    throw new ValueError(`ranks are out of step: ${where}; every rank must make the same collective calls in the same order`);
  }
  if (all.some((h) => h.chunk !== here.chunk)) {
    const where = all.map((h, r) => `rank ${r}: ${h.chunk}`).join(', ');
    throw new ValueError(`QARM_DIST_CHUNK_BYTES differs across ranks (${where}); set it the same on every rank`, 'QARM_DIST_CHUNK_BYTES');
  }
  return all;
}
