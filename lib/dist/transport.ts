/**
 * The byte-moving layer under the collectives: MPI (mpi_transport.ts) or this process alone.
 * Collectives never see which one they run on.
 * @internal
 */

/** What the collectives need from a transport; counts and offsets are in bytes. */
export interface Transport {
  readonly backend: 'mpi' | 'local';
  readonly rank: number;
  readonly size: number;
  /** Rank r's `counts[r]` bytes land at `recv[displs[r]]` on every rank; `send` holds this rank's. */
  allgatherv(send: Uint8Array, recv: Uint8Array, counts: Int32Array, displs: Int32Array): void;
  /** The root's `buf` overwrites every other rank's (same length on all ranks). */
  bcast(buf: Uint8Array, root: number): void;
}

/** One process: rank 0 of 1; gathering is a copy and broadcasting a no-op. Loads nothing native. */
export const localTransport: Transport = {
  backend: 'local',
  rank: 0,
  size: 1,
  allgatherv(send, recv, counts, displs) {
    recv.set(send.subarray(0, counts[0]), displs[0]);
  },
  bcast() {},
};
