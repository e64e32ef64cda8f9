/**
 * stats.json of `qarm quantize`, the same document whether one process or N MPI ranks fitted
 * the codes (lib/pipeline/commands.ts, lib/pipeline/quantize_dist.ts).
 */
import { join } from 'node:path';
import type { CodeStats } from '../quant/vq_codes.js';
import { writeJson } from './io.js';

/** The flags stats.json records. */
export interface QuantizeStatsFlags {
  input: string;
  levels: number;
  codebookSize: number;
  iterations: number;
  seed: number;
}

/** What the VQ part of stats.json holds (absent without VQ codes). */
export interface QuantizeVqStats {
  k: number;
  poolSize: number;
}

/** Writes `<out>/stats.json` for `n` rows of `dim` columns; `t0` is the command's start (ms). */
export function writeQuantizeStats(
  out: string,
  worldSize: number,
  o: QuantizeStatsFlags,
  shape: { n: number; dim: number },
  st: CodeStats,
  relativeErrorAfterFit: number[],
  vq: QuantizeVqStats | undefined,
  t0: number,
): void {
  writeJson(join(out, 'stats.json'), {
    worldSize,
    input: o.input,
    rows: shape.n,
    dim: shape.dim,
    rq: { numLevels: o.levels, codebookSize: o.codebookSize, iterations: o.iterations, seed: o.seed, ...st, relativeErrorAfterFit },
    vq,
    seconds: (Date.now() - t0) / 1000,
    files: [
      'rq_codes.npy (int32 [N, levels])',
      'rq.safetensors (codebooks; RQKMeans.load)',
      ...(vq ? ['vq_codes.npy (int32 [N, k], row numbers of the input)', 'vq.safetensors (VQ pool: embeddings and row numbers)'] : []),
      'stats.json',
    ],
  });
}
