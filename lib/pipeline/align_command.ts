/**
 * `qarm align`'s work: align a dataset folder with lib/align and write the results to files.
 * The CLI command (lib/pipeline/commands.ts, `alignCommand`) adds the run's protocol split.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ValueError } from '../errors.js';
import { loadDataset } from '../data/dataset.js';
import { writeNpy } from '../data/npy.js';
import { writeSafetensors } from '../data/safetensors.js';
import { writeFileAtomic } from '../data/atomic.js';
import { align, type AlignOptions } from '../align/align.js';

/** Options of {@link runAlignCommand} (`qarm align`). */
export interface AlignCommandOptions extends AlignOptions {
  /** Dataset folder (default: the bundled Online Retail data). */
  data?: string;
  /** Output folder (created). */
  out: string;
}

/**
 * `qarm align --data DIR --out DIR`: aligns a dataset folder and writes to `out`
 * - `aligned.npy`  float32 [items, dims · M] (M projectors in the ensemble), rows follow the
 *   dataset's items.csv,
 * - `content.npy`  the fused frozen content embeddings that were aligned,
 * - `retrieval.npy`  the mixed retrieval space `[√w · aligned, √(1−w) · content]` (only when the
 *   validation pairs chose w < 1),
 * - `projector.safetensors`  the projector weights (`member<k>.` prefixes for an ensemble),
 * - `pairs.csv`  training pairs (item ids, score),
 * - `align.json`  `worldSize` (ranks that shared the work), options, pair counts, split,
 *   history, wall times.
 * With `dist` of more than one rank (every rank calls this with the same options) the aligner
 * trains data-parallel and rank 0 alone writes the files. Returns the `align.json` contents
 * (on every rank).
 */
export async function runAlignCommand(opts: AlignCommandOptions): Promise<Record<string, unknown>> {
  if (!opts || typeof opts.out !== 'string' || opts.out === '') throw new ValueError("argument 'out' must be a folder path", 'out');
  const { bundledDatasetDir } = await import('../data/dataset.js');
  const dir = opts.data ?? bundledDatasetDir();
  const t0 = performance.now();
  const ds = await loadDataset(dir);
  const loadSeconds = (performance.now() - t0) / 1000;
  const res = await align(ds, opts);
  const worldSize = opts.dist && opts.dist.worldSize > 1 ? opts.dist.worldSize : 1;
  const { log: _log, encoders: _enc, dist: _dist, ...plain } = opts;
  const report = {
    worldSize,
    dataset: { dir, name: ds.name, users: ds.users.length, items: ds.items.length, interactions: ds.interactions.length },
    options: plain,
    split: res.split,
    pairCounts: res.pairCounts,
    encoder: res.encoder,
    bestEpoch: res.bestEpoch,
    bestValidation: res.bestValidation,
    mixWeight: res.mixWeight,
    history: res.history,
    seconds: { load: loadSeconds, encoder: res.encoder.seconds, align: res.seconds },
    files: ['aligned.npy', 'content.npy', ...(res.retrieval ? ['retrieval.npy'] : []), 'projector.safetensors', 'pairs.csv', 'align.json'],
  };
  // Under dist every rank holds the same result; rank 0 alone writes it.
  if (opts.dist && opts.dist.rank !== 0) return report;
  mkdirSync(opts.out, { recursive: true });
  writeNpy(join(opts.out, 'aligned.npy'), res.embeddings);
  writeNpy(join(opts.out, 'content.npy'), res.content);
  if (res.retrieval) writeNpy(join(opts.out, 'retrieval.npy'), res.retrieval);
  writeSafetensors(
    join(opts.out, 'projector.safetensors'),
    // Ensemble members' weights under `member<k>.` (a single projector keeps its plain names).
    Object.fromEntries(res.models.flatMap((m, k) => m.namedParameters(res.models.length > 1 ? `member${k}.` : ''))),
    { dataset: ds.name, dims: String(res.embeddings.shape[1]), members: String(res.models.length) },
  );
  const lines = ['a,b,score'];
  const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  for (let k = 0; k < res.pairs.a.length; k++) lines.push(`${q(ds.items[res.pairs.a[k]].id)},${q(ds.items[res.pairs.b[k]].id)},${res.pairs.score[k]}`);
  writeFileAtomic(join(opts.out, 'pairs.csv'), Buffer.from(lines.join('\n') + '\n'));
  writeFileAtomic(join(opts.out, 'align.json'), Buffer.from(JSON.stringify(report, (_k, v) => (v === Infinity ? null : v), 2) + '\n'));
  return report;
}
