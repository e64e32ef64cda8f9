/**
 * Where the timeline is cut into training, validation and test periods.
 *
 * The bundled Online Retail data uses fixed dates (train before 2011-09-01, validation
 * 2011-09-01 .. 2011-10-14, test from 2011-10-15, all UTC). Any other dataset defaults to the
 * same *fractions of its time span*, so a dataset covering another year is split at the same
 * relative points.
 */
import { ValueError } from '../errors.js';

/** A point in time: unix seconds, or an ISO-8601 date/time string (UTC if no zone is given). */
export type TimePoint = number | string;

/** User-facing split options; every field is optional. */
export interface SplitOptions {
  /** First instant of the validation period (training is strictly before it). */
  trainEnd?: TimePoint;
  /** First instant of the test period (validation is strictly before it). */
  testStart?: TimePoint;
  /** Used when `trainEnd` is not given: fraction of the time span where training ends. */
  trainFraction?: number;
  /** Used when `testStart` is not given: fraction of the time span where the test starts. */
  testFraction?: number;
}

/** The resolved split, in unix seconds. */
export interface ResolvedSplit {
  trainEnd: number;
  testStart: number;
  /** How each bound was chosen, for the report. */
  source: 'dates' | 'fractions';
}

/** The bundled dataset's span and dates, from which the default fractions are derived. */
export const BUNDLED_SPLIT = {
  first: Date.UTC(2010, 11, 1, 8, 26) / 1000,
  last: Date.UTC(2011, 11, 9, 12, 50) / 1000,
  trainEnd: Date.UTC(2011, 8, 1) / 1000,
  testStart: Date.UTC(2011, 9, 15) / 1000,
} as const;

/** Default fractions of the time span (≈ 0.7325 and 0.8503), equal to the bundled dates. */
export const DEFAULT_FRACTIONS = {
  train: (BUNDLED_SPLIT.trainEnd - BUNDLED_SPLIT.first) / (BUNDLED_SPLIT.last - BUNDLED_SPLIT.first),
  test: (BUNDLED_SPLIT.testStart - BUNDLED_SPLIT.first) / (BUNDLED_SPLIT.last - BUNDLED_SPLIT.first),
} as const;

/** Parses a time point to unix seconds, naming `argument` on failure. */
export function parseTimePoint(t: TimePoint, argument: string): number {
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new ValueError(`${argument}: expected a finite unix time, got ${t}`, argument);
    return t;
  }
  const s = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`);
  if (!Number.isFinite(ms)) throw new ValueError(`${argument}: cannot parse date '${t}' (use ISO-8601, e.g. 2011-09-01)`, argument);
  return ms / 1000;
}

/** Resolves the split for a timeline spanning [first, last] (unix seconds). */
export function resolveSplit(opts: SplitOptions, first: number, last: number): ResolvedSplit {
  const span = last - first;
  const frac = (f: number | undefined, dflt: number, name: string): number => {
    const v = f ?? dflt;
    if (!(v > 0 && v < 1)) throw new ValueError(`split.${name}: must be in (0, 1), got ${v}`, `split.${name}`);
    return first + v * span;
  };
  const trainEnd = opts.trainEnd !== undefined ? parseTimePoint(opts.trainEnd, 'split.trainEnd') : frac(opts.trainFraction, DEFAULT_FRACTIONS.train, 'trainFraction');
  const testStart = opts.testStart !== undefined ? parseTimePoint(opts.testStart, 'split.testStart') : frac(opts.testFraction, DEFAULT_FRACTIONS.test, 'testFraction');
  if (!(trainEnd < testStart)) {
    throw new ValueError(`split: trainEnd (${iso(trainEnd)}) must be before testStart (${iso(testStart)})`, 'split');
  }
  if (!(trainEnd > first) || !(testStart <= last)) {
    throw new ValueError(
      `split: periods fall outside the data (${iso(first)} .. ${iso(last)}); trainEnd ${iso(trainEnd)}, testStart ${iso(testStart)}`,
      'split',
    );
  }
  const source = opts.trainEnd !== undefined && opts.testStart !== undefined ? 'dates' : 'fractions';
  return { trainEnd, testStart, source };
}

/** ISO string of a unix time, for messages and reports. */
export function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t * 1000).toISOString() : String(t);
}
