/**
 * `align()`: content embeddings → behaviour pairs → trained projector → aligned embeddings, for a
 * dataset folder or for embeddings and pairs you bring. `qarm align` (lib/pipeline/align_command.ts)
 * writes its output to files.
 */
import { IndexError, ValueError } from '../errors.js';
import type { Dataset, Interaction } from '../data/dataset.js';
import { encodeTexts, fuseEmbeddings, type EncodeOptions } from '../data/encoders.js';
import type { Tensor } from '../tensor/tensor.js';
import { trainAligner, type AlignerOptions, type AlignerResult } from './aligner.js';
import { ALIGN_DEFAULTS } from './defaults.js';
import { eventsBetween, minePairs, type ItemPairs, type MinePairsOptions, type Miner } from './pairs.js';

/** Options of {@link align} (those of the trainer plus data handling). */
export interface AlignOptions extends Omit<AlignerOptions, 'validation'> {
  /** Content encoders for item text (dataset input only). */
  encoders?: EncodeOptions;
  /** Pair mining (dataset input only): miners, top-N, cap. */
  mining?: MinePairsOptions;
  /**
   * Training pairs come from events strictly before this time (Unix seconds). Default: the time
   * below which 90% of the events lie.
   */
  trainUntil?: number;
  /** Validation pairs come from events in [trainUntil, validUntil) (default: all later events). */
  validUntil?: number;
  /**
   * Explicit training events (dataset input), instead of those before `trainUntil`: for splits
   * that are not one cut in time (the per-user split of `qarm run`). Pairs are mined from them
   * in their given order. Give `validationEvents` with it; `trainUntil`/`validUntil` must then
   * be left out.
   */
  trainEvents?: readonly Interaction[];
  /** Explicit early-stopping events, with `trainEvents` (may be empty: no early stopping). */
  validationEvents?: readonly Interaction[];
  /**
   * Which validation pairs drive early stopping (and the choice of `contentMix`): `'all'`
   * (default) = every validation pair, cold ones included, i.e. what retrieval is asked to do;
   * `'new'` = pairs not already mined from training, which stops earlier (less fitting of the
   * training behaviour graph). Training longer helps warm pairs and hurts cold ones; with the
   * content mixed back into the retrieval space (`contentMix`) cold pairs keep their content
   * neighbourhood, so the default stops on all pairs (bench/results/alignment.md measures both).
   */
  earlyStopOn?: 'new' | 'all';
  /** Validation pairs for `{ embeddings, pairs }` input. */
  validation?: ItemPairs;
}

/** Result of {@link align}. */
export interface AlignOutput extends AlignerResult {
  /** The frozen content embeddings that were aligned, float32 `[items, D]`. */
  content: Tensor;
  /** Training pairs. */
  pairs: ItemPairs;
  /** Early-stopping pairs (null when none). */
  validation: ItemPairs | null;
  /** Pair counts: per miner, the union, and validation. */
  pairCounts: Record<string, number>;
  /** Content modalities used and encoder wall seconds. */
  encoder: { modalities: string[]; seconds: number; cached: string[] };
  /** The split used (dataset input split in time; absent with explicit events). */
  split?: { trainUntil: number; validUntil: number };
}

/** Keys of unordered pairs. */
export function pairKeys(p: ItemPairs, n: number): Set<number> {
  const s = new Set<number>();
  for (let k = 0; k < p.a.length; k++) s.add(Math.min(p.a[k], p.b[k]) * n + Math.max(p.a[k], p.b[k]));
  return s;
}

/** Pairs of `p` for which `keep(a, b)` holds. */
export function filterPairs(p: ItemPairs, keep: (a: number, b: number) => boolean): ItemPairs {
  const idx: number[] = [];
  for (let k = 0; k < p.a.length; k++) if (keep(p.a[k], p.b[k])) idx.push(k);
  return { a: Int32Array.from(idx, (k) => p.a[k]), b: Int32Array.from(idx, (k) => p.b[k]), score: Float32Array.from(idx, (k) => p.score[k]) };
}

/**
 * The content embedding of a dataset: its `.npy` modalities (alphabetical) and the text
 * encoders, fused by concatenating L2-normalised parts.
 */
export async function contentEmbeddings(
  ds: Dataset,
  opts: EncodeOptions = {},
): Promise<{ content: Tensor; modalities: string[]; seconds: number; cached: string[] }> {
  const names = Object.keys(ds.embeddings).sort();
  const parts = names.map((m) => ds.embeddings[m]);
  const t0 = performance.now();
  let cached: string[] = [];
  const hasText = ds.items.some((it) => it.text.trim() !== '');
  if (hasText && !(opts.modalities && opts.modalities.length === 0)) {
    const enc = await encodeTexts(
      ds.items.map((it) => it.text),
      opts,
    );
    for (const m of enc.modalities) {
      parts.push(enc.parts[m]);
      names.push(m);
    }
    cached = enc.cached;
    enc.embedding.dispose();
  }
  if (parts.length === 0) throw new ValueError(`dataset '${ds.name}' has neither item text nor .npy embeddings to align`, 'dataset');
  return { content: fuseEmbeddings(parts), modalities: names, seconds: (performance.now() - t0) / 1000, cached };
}

function quantileTime(ds: Dataset, q: number): number {
  const ev = ds.interactions;
  return ev[Math.min(ev.length - 1, Math.floor(q * ev.length))].time;
}

/** The training and validation events of dataset input: explicit, or split at `trainUntil`/`validUntil`. */
function alignEvents(
  ds: Dataset,
  opts: AlignOptions,
): { train: readonly Interaction[]; valid: readonly Interaction[]; split?: { trainUntil: number; validUntil: number } } {
  const explicit = opts.trainEvents !== undefined || opts.validationEvents !== undefined;
  if (explicit) {
    if (opts.trainEvents === undefined || opts.validationEvents === undefined) {
      const missing = opts.trainEvents === undefined ? 'trainEvents' : 'validationEvents';
      throw new ValueError(`${missing}: give trainEvents and validationEvents together`, missing);
    }
    if (opts.trainUntil !== undefined || opts.validUntil !== undefined) {
      throw new ValueError('trainUntil: not used with explicit trainEvents/validationEvents; leave it out', 'trainUntil');
    }
    if (opts.trainEvents.length === 0) throw new ValueError('trainEvents: no training events', 'trainEvents');
    const n = ds.items.length;
    for (const [name, ev] of [
      ['trainEvents', opts.trainEvents],
      ['validationEvents', opts.validationEvents],
    ] as const) {
      for (let k = 0; k < ev.length; k++) {
        if (!(ev[k].item >= 0 && ev[k].item < n)) throw new IndexError(`${name}: event ${k} names item ${ev[k].item}, outside [0, ${n})`, name);
      }
    }
    return { train: opts.trainEvents, valid: opts.validationEvents };
  }
  const trainUntil = opts.trainUntil ?? quantileTime(ds, 0.9);
  const validUntil = opts.validUntil ?? Infinity;
  const train = eventsBetween(ds.interactions, -Infinity, trainUntil);
  if (train.length === 0) throw new ValueError(`no events before trainUntil ${trainUntil}`, 'trainUntil');
  return { train, valid: eventsBetween(ds.interactions, trainUntil, validUntil), split: { trainUntil, validUntil } };
}

function isDataset(x: unknown): x is Dataset {
  return typeof x === 'object' && x !== null && Array.isArray((x as Dataset).interactions) && Array.isArray((x as Dataset).items);
}

/**
 * Aligns item embeddings to behaviour.
 * - `align(dataset, opts)`: encodes item text (plus any `.npy` modalities), mines training pairs
 *   from events before `trainUntil` and validation pairs from `[trainUntil, validUntil)` (or from
 *   explicit `trainEvents` / `validationEvents`), trains.
 * - `align({ embeddings, pairs, validation? }, opts)`: trains on what you give.
 */
export async function align(input: Dataset | { embeddings: Tensor; pairs: ItemPairs; validation?: ItemPairs }, opts: AlignOptions = {}): Promise<AlignOutput> {
  if (isDataset(input)) {
    const ds = input;
    if (ds.interactions.length === 0) throw new ValueError(`dataset '${ds.name}' has no interactions`, 'dataset');
    const enc = await contentEmbeddings(ds, opts.encoders);
    const n = ds.items.length;
    const { train, valid, split } = alignEvents(ds, opts);
    const mined = minePairs(train, n, opts.mining);
    let validation: ItemPairs | null = null;
    if (valid.length > 0) {
      const v = minePairs(valid, n, opts.mining).pairs;
      const seen = pairKeys(mined.pairs, n);
      validation = (opts.earlyStopOn ?? ALIGN_DEFAULTS.earlyStopOn) === 'new' ? filterPairs(v, (a, b) => !seen.has(Math.min(a, b) * n + Math.max(a, b))) : v;
    }
    const pairCounts: Record<string, number> = {};
    for (const [m, p] of Object.entries(mined.byMiner) as [Miner, ItemPairs][]) pairCounts[m] = p.a.length;
    pairCounts.union = mined.pairs.a.length;
    pairCounts.validation = validation ? validation.a.length : 0;
    const res = trainAligner(enc.content, mined.pairs, { ...opts, validation: validation ?? undefined });
    return {
      ...res,
      content: enc.content,
      pairs: mined.pairs,
      validation,
      pairCounts,
      encoder: { modalities: enc.modalities, seconds: enc.seconds, cached: enc.cached },
      ...(split ? { split } : {}),
    };
  }
  const { embeddings, pairs, validation } = input as { embeddings: Tensor; pairs: ItemPairs; validation?: ItemPairs };
  if (!embeddings || !pairs) throw new ValueError("align(): argument 'input' must be a Dataset or { embeddings, pairs }", 'input');
  const val = validation ?? opts.validation ?? null;
  const res = trainAligner(embeddings, pairs, { ...opts, validation: val ?? undefined });
  return {
    ...res,
    content: embeddings,
    pairs,
    validation: val,
    pairCounts: { union: pairs.a.length, validation: val ? val.a.length : 0 },
    encoder: { modalities: ['input'], seconds: 0, cached: [] },
  };
}
