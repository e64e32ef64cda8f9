/**
 * The MPI transport: loads MPI through the addon (native/dist/mpi_loader.cc dlopens the library
 * at run time) and ends it when the process exits. lib/dist is the one layer besides lib/tensor
 * that reaches the addon, and only here (`npm run lint`).
 * @internal
 */
import { native } from '../tensor/native.js';
import { IOError } from '../errors.js';
import type { BackendChoice } from './env.js';
import type { Transport } from './transport.js';

declare module '../tensor/native.js' {
  interface NativeAddon {
    mpiInit(library: string): { rank: number; size: number; library: string; version: string; ownsInit: boolean };
    mpiAllgatherv(send: Uint8Array, recv: Uint8Array, counts: Int32Array, displs: Int32Array): void;
    mpiBcast(buf: Uint8Array, root: number): void;
    mpiFinalize(): void;
    mpiAbort(code: number): void;
  }
}

/** The MPI transport, with what MPI reported about itself. */
export interface MpiTransport extends Transport {
  readonly library: string;
  readonly version: string;
}

/**
 * Initialises MPI (once per process) and returns the transport. On exit, a clean process
 * finalizes MPI; a failing one (non-zero exit code, uncaught error) calls MPI_Abort instead, so
 * the other ranks are ended rather than left waiting in a collective for a rank that is gone.
 */
export function openMpi(choice: BackendChoice): MpiTransport {
  let info: ReturnType<typeof native.mpiInit>;
  try {
    info = native.mpiInit(choice.library);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new IOError(
      `MPI was requested (${choice.reason}) but cannot be used: ${why}. Install Open MPI ` +
        `(Debian/Ubuntu: apt-get install openmpi-bin) or set QARM_MPI_LIB to its libmpi.so.40; ` +
        `QARM_DIST=local runs as one process without MPI.`,
      'QARM_MPI_LIB',
    );
  }
  process.once('exit', (code) => {
    if (code === 0) native.mpiFinalize();
    else native.mpiAbort(Math.min(Math.max(code | 0, 1), 255));
  });
  const rank = info.rank;
  return {
    backend: 'mpi',
    rank,
    size: info.size,
    library: info.library,
    version: info.version,
    allgatherv(send, recv, counts, displs) {
      native.mpiAllgatherv(send, recv, counts, displs);
    },
    bcast(buf, root) {
      native.mpiBcast(buf, root);
    },
  };
}
