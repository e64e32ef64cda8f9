/**
 * The agreement every data-parallel trainer (ranker, aligner) makes before its first step: each
 * rank checks its own inputs, then one small allGather compares the outcome, the settings and
 * fingerprints of the data. Doing it up front is what keeps a mistake on one rank from leaving
 * the others blocked in a later collective.
 * @internal
 */
import { ValueError } from '../errors.js';
import { fmix32 } from '../tensor/hash.js';
import type { Communicator } from './index.js';

/**
 * A 32-bit fingerprint of `arrays` (their bits and lengths, in order), starting from `seed`: two
 * ranks holding the same data get the same number.
 */
export function fingerprintArrays(seed: number, arrays: readonly (Int32Array | Float32Array | undefined)[]): number {
  let h = seed >>> 0;
  for (const a of arrays) {
    if (!a) continue;
    const v = a instanceof Int32Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < v.length; i++) h = fmix32((h ^ v[i]) >>> 0);
    h = fmix32((h ^ v.length) >>> 0);
  }
  return h >>> 0;
}

/**
 * Runs `check` (the trainer's option checks) on this rank, then agrees with the other ranks
 * (one small allGather) that every rank passed valid options, the same `settings` and the same
 * data. A problem anywhere throws on every rank (the rank at fault its own error, the others a
 * ValueError naming it), so no rank is left waiting in a later collective.
 */
export function agreeOnTraining<T>(comm: Pick<Communicator, 'allGather'>, check: () => T, settings: () => Record<string, number>): T {
  let local: unknown = null;
  let result: T | undefined;
  let values: Record<string, number> = {};
  try {
    result = check();
    values = settings();
  } catch (e) {
    local = e;
  }
  const keys = Object.keys(values);
  const mine = Float64Array.from([local === null ? 1 : 0, keys.length, ...keys.map((k) => values[k])]);
  const all = comm.allGather(mine);
  if (local !== null) throw local;
  const bad = all.findIndex((h) => h[0] !== 1);
  if (bad >= 0) throw new ValueError(`rank ${bad} passed an invalid model, data or options to data-parallel training (see its error)`, 'dist');
  keys.forEach((key, i) => {
    const v = all[0][2 + i];
    if (all.some((h) => h[1] !== keys.length || !Object.is(h[2 + i], v))) {
      const list = all.map((h, r) => `rank ${r}: ${h[2 + i]}`).join(', ');
      throw new ValueError(`'${key}' must be the same on every rank of data-parallel training (${list})`, key);
    }
  });
  return result as T;
}
