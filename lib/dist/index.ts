/**
 * Collectives across the processes of an MPI job: `dist.rank`, `dist.worldSize`,
 * `dist.allReduce`, `dist.allGather`, `dist.broadcast`, `dist.barrier`.
 *
 * Outside an MPI launcher the process is rank 0 of a world of 1 and every collective is the
 * identity (a copy), with no native MPI code loaded. Under `mpirun`/`srun` with more than one
 * process, or with `QARM_DIST=mpi`, the first call loads Open MPI's library at run time
 * (`QARM_MPI_LIB`, else `libmpi.so.40`). `QARM_DIST=local` forces the fallback.
 *
 * Every rank must make the same collective calls in the same order. The ranks exchange a small
 * header first, so bad or mismatched arguments (dtype, length, root) throw the same typed error
 * on every rank instead of leaving some ranks waiting. Sums are done by qarm in rank order, so
 * results are bit-identical from run to run whatever the MPI algorithm or network timing.
 */
import { ValueError } from '../errors.js';
import type { DistArray, ReduceArray } from './arrays.js';
import { allGatherParts, allReduceInto, barrierAll, broadcastFrom } from './collectives.js';
import { chooseBackend } from './env.js';
import type { Context } from './header.js';
import { openMpi } from './mpi_transport.js';
import { resetStats, stats, type DistCallKind, type DistCallStats, type DistStats } from './stats.js';
import { localTransport } from './transport.js';

export type { DistArray, ReduceArray, DistCallKind, DistCallStats, DistStats };

/** Largest slice of one rank's data a single MPI call carries, unless `QARM_DIST_CHUNK_BYTES` says otherwise. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

/** What {@link Communicator.info} reports. */
export interface DistInfo {
  /** `mpi`, or `local` for the one-process fallback. */
  backend: 'mpi' | 'local';
  /** This process's rank, 0 ≤ rank < worldSize. */
  rank: number;
  /** Number of processes in the job. */
  worldSize: number;
  /** Why this backend (e.g. `OMPI_COMM_WORLD_SIZE=2`, `QARM_DIST=mpi`). */
  reason: string;
  /** The MPI library that was loaded (MPI only). */
  library?: string;
  /** MPI_Get_library_version's text (MPI only). */
  version?: string;
}

let ctx: Context | undefined;
let infoCache: DistInfo | undefined;
let failure: unknown;

function chunkFromEnv(): number {
  const v = process.env.QARM_DIST_CHUNK_BYTES;
  if (v === undefined || v === '') return DEFAULT_CHUNK_BYTES;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValueError(`QARM_DIST_CHUNK_BYTES must be a positive integer, got '${v}'`, 'QARM_DIST_CHUNK_BYTES');
  }
  return n;
}

/** The context, set up on first use; a failed setup throws the same error on every later call. */
function context(): Context {
  if (ctx) return ctx;
  if (failure !== undefined) throw failure;
  try {
    const choice = chooseBackend();
    const chunkBytes = chunkFromEnv();
    if (choice.mode === 'mpi') {
      const t = openMpi(choice);
      infoCache = { backend: 'mpi', rank: t.rank, worldSize: t.size, reason: choice.reason, library: t.library, version: t.version };
      ctx = { transport: t, chunkBytes, seq: 0 };
    } else {
      infoCache = { backend: 'local', rank: 0, worldSize: 1, reason: choice.reason };
      ctx = { transport: localTransport, chunkBytes, seq: 0 };
    }
    return ctx;
  } catch (e) {
    failure = e;
    throw e;
  }
}

/**
 * The process's view of the job. Use the shared instance {@link dist}; its methods do not use
 * `this`, so they may be passed around on their own.
 */
export class Communicator {
  /** This process's rank in the job (0 without MPI). */
  get rank(): number {
    return context().transport.rank;
  }

  /** Number of processes in the job (1 without MPI). */
  get worldSize(): number {
    return context().transport.size;
  }

  /** `mpi` or `local` (the one-process fallback). */
  get backend(): 'mpi' | 'local' {
    return context().transport.backend;
  }

  /**
   * Sets up the backend now rather than at the first collective, and says what it is. Throws
   * `IOError` (argument `QARM_MPI_LIB`) when MPI is requested but its library cannot be loaded,
   * `ValueError` for a bad `QARM_DIST` or `QARM_DIST_CHUNK_BYTES`.
   */
  info(): DistInfo {
    context();
    return { ...(infoCache as DistInfo) };
  }

  /**
   * Element-wise sum of `x` over all ranks, as a new array of the same type on every rank.
   * Ranks are added in order 0, 1, …, N-1 for every element: float64 in float64, float32 in
   * float64 and rounded once to float32, int32 exactly (`ValueError` if a sum leaves the int32
   * range). The result is the same bytes on every rank and in every run.
   * @param x - this rank's contribution; same dtype and length on every rank (`DTypeError` /
   *   `ShapeError` naming `x` on every rank otherwise)
   */
  allReduce<T extends ReduceArray>(x: T): T {
    return allReduceInto(context(), x, false) as T;
  }

  /**
   * {@link Communicator.allReduce} written back into `x` (no second array of its size), which
   * is returned. On an error `x` is unchanged unless MPI itself failed part-way.
   * @param x - this rank's contribution, replaced by the sum
   */
  allReduceInPlace<T extends ReduceArray>(x: T): T {
    return allReduceInto(context(), x, true) as T;
  }

  /**
   * Every rank's array, in rank order: element r is rank r's `x`. Lengths may differ between
   * ranks; the dtype must not (`DTypeError` naming `x`). The parts are views into one buffer
   * laid out rank after rank, so `new Float32Array(parts[0].buffer)` is the concatenation.
   * @param x - this rank's data: Float32Array, Float64Array, Int32Array or Uint8Array
   */
  allGather<T extends DistArray>(x: T): T[] {
    return allGatherParts(context(), x) as T[];
  }

  /**
   * Rank `root`'s array on every rank, as a new array (on the root too). Other ranks pass an
   * array of the same type, whose contents and length are ignored (an empty one will do).
   * @param x - the data on the root; a placeholder of the same type elsewhere
   * @param root - the sending rank, the same on every rank (`IndexError` naming `root` outside
   *   [0, worldSize), `ValueError` if the ranks disagree)
   */
  broadcast<T extends DistArray>(x: T, root = 0): T {
    return broadcastFrom(context(), x, root) as T;
  }

  /** Returns once every rank has entered the barrier. */
  barrier(): void {
    barrierAll(context());
  }

  /**
   * Payload bytes this rank sent and received, and calls made, per collective since the start
   * or the last {@link Communicator.resetStats} (see {@link DistCallStats} for what counts).
   */
  stats(): DistStats {
    return stats();
  }

  /** Sets the counters of {@link Communicator.stats} back to zero. */
  resetStats(): void {
    resetStats();
  }
}

/** The collectives of this process; see {@link Communicator}. */
export const dist = new Communicator();
