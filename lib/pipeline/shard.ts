/**
 * Which shard of a catalogue this process encodes: `--shard-index`/`--num-shards`, or the task
 * index a job array gives every task (Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`; Slurm
 * arrays: `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`), so one command line serves every
 * task. Shard i of n holds the contiguous rows [floor(i·N/n), floor((i+1)·N/n)), so the shards'
 * outputs concatenated in index order are the whole catalogue's.
 */
import { ValueError } from '../errors.js';

/** A resolved shard: this task's index, the number of shards and where they came from. */
export interface ShardSpec {
  index: number;
  count: number;
  /** `flags`, `JOB_COMPLETION_INDEX`, `SLURM_ARRAY_TASK_ID`, `mpi` (the rank under mpirun), or `default` (one shard). */
  source: string;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v.trim())) throw new ValueError(`environment variable ${name}='${v}' is not a non-negative integer`, name);
  return Number(v.trim());
}

/** The task index and count a job array exports, if any (Kubernetes first, then Slurm). */
function fromEnv(env: NodeJS.ProcessEnv): { index: number; count?: number; source: string } | undefined {
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  // Kubernetes does not export the completion count: it has to come from --num-shards.
  if (k8s !== undefined) return { index: k8s, source: 'JOB_COMPLETION_INDEX' };
  const id = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (id === undefined) return undefined;
  // Arrays need not start at 0 (`--array=1-8`) and may step (`--array=0-14:2`).
  const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const offset = id - min;
  if (offset < 0 || step < 1 || offset % step !== 0) {
    throw new ValueError(`SLURM_ARRAY_TASK_ID=${id} is not on the array's grid (min ${min}, step ${step}); pass --shard-index and --num-shards`, 'shardIndex');
  }
  return { index: offset / step, count: envInt(env, 'SLURM_ARRAY_TASK_COUNT'), source: 'SLURM_ARRAY_TASK_ID' };
}

/**
 * Resolves the shard of this task: the flags win; each one missing comes from the job array's
 * environment; with neither, the whole input is one shard.
 * @throws ValueError naming the flag or variable for a count that cannot be found, an index
 *   outside [0, count) or a non-integer value.
 */
export function resolveShard(flags: { shardIndex?: number; numShards?: number }, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  for (const [k, v] of [
    ['shardIndex', flags.shardIndex],
    ['numShards', flags.numShards],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < (k === 'numShards' ? 1 : 0))) {
      throw new ValueError(
        `--${k === 'numShards' ? 'num-shards' : 'shard-index'} must be ${k === 'numShards' ? 'a positive' : 'a non-negative'} integer, got ${v}`,
        k,
      );
    }
  }
  const e = flags.shardIndex === undefined || flags.numShards === undefined ? fromEnv(env) : undefined;
  const index = flags.shardIndex ?? e?.index;
  const count = flags.numShards ?? e?.count;
  if (index === undefined && count === undefined) return { index: 0, count: 1, source: 'default' };
  if (count === undefined) {
    const why = e && flags.shardIndex === undefined ? `${e.source}=${index} is set but the number of shards is not` : '--shard-index is given without it';
    throw new ValueError(`--num-shards is required: ${why}`, 'numShards');
  }
  const idx = index ?? 0;
  if (index === undefined && count > 1)
    throw new ValueError(`--shard-index is required with --num-shards ${count} (or run as a Kubernetes Indexed Job / Slurm array task)`, 'shardIndex');
  if (idx >= count)
    throw new ValueError(
      `shard index ${idx}${e && flags.shardIndex === undefined ? ` (from ${e.source})` : ''} must be smaller than the number of shards ${count}`,
      'shardIndex',
    );
  return { index: idx, count, source: flags.shardIndex !== undefined ? 'flags' : (e?.source ?? 'flags') };
}

/** Rows [start, end) of shard `index` of `count` over `n` rows (sizes differ by at most one). */
export function shardRows(n: number, index: number, count: number): [number, number] {
  return [Math.floor((index * n) / count), Math.floor(((index + 1) * n) / count)];
}

/** `name-00003-of-00008.ext`: sorts in shard order, names the total so a missing part shows. */
export function shardFileName(name: string, ext: string, s: Pick<ShardSpec, 'index' | 'count'>): string {
  const pad = (v: number): string => String(v).padStart(5, '0');
  return `${name}-${pad(s.index)}-of-${pad(s.count)}.${ext}`;
}
