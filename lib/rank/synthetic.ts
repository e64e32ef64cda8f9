/**
 * A synthetic ranking task whose label depends only on whether the target's level-1 code
 * appears among the level-1 codes of the user's history — the signal QARM's target-aware
 * cross features expose. Item ids carry no information (each item is rarely seen), so a
 * model without the cross features (or code-aware history) cannot beat chance.
 */
import { Generator } from '../tensor/random.js';
import type { ItemFeatures, RankSamples } from './types.js';

export interface SyntheticOptions {
  numItems?: number;
  numUsers?: number;
  /** Codes per RQ level [[32, 16]]. */
  codebookSizes?: number[];
  maxHistory?: number;
  seed?: number;
}

/** Item table with random RQ codes, and sample sets with P(label = 1) = ½. */
export function synthetic(n: number, opts: SyntheticOptions = {}): { items: ItemFeatures; samples: RankSamples } {
  const { numItems = 20000, numUsers = 2000, codebookSizes = [32, 16], maxHistory: H = 20, seed = 0 } = opts;
  const g = new Generator(seed);
  const L = codebookSizes.length;
  const codes = new Int32Array(numItems * L);
  for (let i = 0; i < numItems; i++) for (let l = 0; l < L; l++) codes[i * L + l] = g.int(codebookSizes[l]);
  const byCode: number[][] = Array.from({ length: codebookSizes[0] }, () => []);
  for (let i = 0; i < numItems; i++) byCode[codes[i * L]].push(i);
  const s: RankSamples = {
    size: n,
    maxHistory: H,
    user: new Int32Array(n),
    item: new Int32Array(n),
    label: new Float32Array(n),
    history: new Int32Array(n * H).fill(-1),
    historyLength: new Int32Array(n),
  };
  for (let k = 0; k < n; k++) {
    s.user[k] = g.int(numUsers);
    const len = 1 + g.int(Math.min(H, 8));
    s.historyLength[k] = len;
    const present = new Set<number>();
    for (let h = 0; h < len; h++) {
      const it = g.int(numItems);
      s.history[k * H + h] = it;
      present.add(codes[it * L]);
    }
    const positive = g.uniform() < 0.5;
    const pool = [...Array(codebookSizes[0]).keys()].filter((c) => present.has(c) === positive);
    const c = pool[g.int(pool.length)];
    const cands = byCode[c];
    s.item[k] = cands.length ? cands[g.int(cands.length)] : g.int(numItems);
    s.label[k] = present.has(codes[s.item[k] * L]) ? 1 : 0;
  }
  return { items: { numItems, rq: { codes, levels: L, codebookSize: codebookSizes } }, samples: s };
}
