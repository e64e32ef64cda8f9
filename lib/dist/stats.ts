/**
 * Bytes this rank passed to and got from other ranks, per collective, for sizing distributed
 * runs.
 * @internal
 */

/** The collectives counted apart. */
export type DistCallKind = 'allReduce' | 'allGather' | 'broadcast' | 'barrier';

/**
 * One collective's totals on this rank since the start (or `dist.resetStats()`). Counts the
 * logical payload, header included: what this rank contributes to the other ranks and what it
 * gets from them. MPI's own algorithm may move more over the wire (trees, rings, forwarding),
 * and a one-process run moves nothing.
 */
export interface DistCallStats {
  /** Calls made, failed ones included. */
  calls: number;
  /** Bytes of this rank's own data that went to other ranks (each counted once, not once per receiver). */
  bytesSent: number;
  /** Bytes this rank got from other ranks. */
  bytesReceived: number;
}

/** {@link DistCallStats} for each collective. */
export type DistStats = Record<DistCallKind, DistCallStats>;

const KINDS: readonly DistCallKind[] = ['allReduce', 'allGather', 'broadcast', 'barrier'];

function zero(): DistStats {
  return Object.fromEntries(KINDS.map((k) => [k, { calls: 0, bytesSent: 0, bytesReceived: 0 }])) as DistStats;
}

let totals = zero();

export function countCall(kind: DistCallKind): void {
  totals[kind].calls++;
}

export function countBytes(kind: DistCallKind, sent: number, received: number): void {
  totals[kind].bytesSent += sent;
  totals[kind].bytesReceived += received;
}

/** A copy of the totals. */
export function stats(): DistStats {
  return Object.fromEntries(KINDS.map((k) => [k, { ...totals[k] }])) as DistStats;
}

/** Sets every total back to zero. */
export function resetStats(): void {
  totals = zero();
}
