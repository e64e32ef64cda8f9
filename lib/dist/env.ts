/**
 * Which transport this process uses: MPI, or one process on its own. Read from the environment
 * only, so that every rank of a job decides the same way.
 * @internal
 */
import { ValueError } from '../errors.js';

/** Open MPI's library name (the ABI native/dist/mpi_loader.cc targets). */
export const DEFAULT_MPI_LIBRARY = 'libmpi.so.40';

/** The decision and why it was made (the why goes into the error when MPI cannot load). */
export interface BackendChoice {
  /** `mpi` when MPI is required, `local` for the one-process fallback. */
  mode: 'mpi' | 'local';
  /** What asked for it, e.g. `QARM_DIST=mpi` or `OMPI_COMM_WORLD_SIZE=2`. */
  reason: string;
  /** The name or path to dlopen: `QARM_MPI_LIB`, else {@link DEFAULT_MPI_LIBRARY}. */
  library: string;
}

/** Launcher variables that give the job's size (Open MPI's mpirun, PMI-1/PMI-2 launchers, Slurm). */
const SIZE_VARS = ['OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'PMIX_SIZE'];

function intVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

/**
 * Decides the backend from `env`: `QARM_DIST=mpi` or `local` forces it; otherwise a launcher's
 * variables with a job size above one (mpirun, srun) mean MPI. A job of one process needs no MPI,
 * so `mpirun -np 1` and a plain `node` both get the fallback.
 */
export function chooseBackend(env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const library = env.QARM_MPI_LIB || DEFAULT_MPI_LIBRARY;
  const forced = (env.QARM_DIST ?? '').trim().toLowerCase();
  if (forced === 'mpi') return { mode: 'mpi', reason: 'QARM_DIST=mpi', library };
  if (forced === 'local') return { mode: 'local', reason: 'QARM_DIST=local', library };
  if (forced !== '') {
    throw new ValueError(`QARM_DIST must be 'mpi' or 'local' (or unset), got '${env.QARM_DIST}'`, 'QARM_DIST');
  }
  for (const name of SIZE_VARS) {
    const n = intVar(env, name);
    if (n !== undefined && n > 1) return { mode: 'mpi', reason: `${name}=${n}`, library };
  }
  // PMIx (srun --mpi=pmix, Open MPI 5's prterun) names the rank; a rank above 0 implies a job of
  // several, and Slurm gives the size of the step.
  const pmixRank = intVar(env, 'PMIX_RANK');
  if (pmixRank !== undefined) {
    if (pmixRank > 0) return { mode: 'mpi', reason: `PMIX_RANK=${pmixRank}`, library };
    const tasks = intVar(env, 'SLURM_STEP_NUM_TASKS') ?? intVar(env, 'SLURM_NTASKS');
    if (tasks !== undefined && tasks > 1) return { mode: 'mpi', reason: `PMIX_RANK with ${tasks} Slurm tasks`, library };
  }
  return { mode: 'local', reason: 'no MPI launcher in the environment', library };
}
