/**
 * Where each user's timeline is cut into training, validation and test periods.
 *
 * Two modes (`split.mode`):
 * - `'time'` (default): one cut for everybody. The bundled Online Retail data uses fixed dates
 *   (train before 2011-09-01, validation 2011-09-01 .. 2011-10-14, test from 2011-10-15, all
 *   UTC; `qarm run` fills them in). Any other dataset defaults to *event-count quantiles*: the
 *   cuts fall where the given fractions of the first-purchase events lie (not fractions of the
 *   time span, which leave almost no test users on data whose users are active in bursts). The
 *   default fractions are the bundled data's own event shares, so on the bundled data they give
 *   exactly the fixed dates' periods.
 * - `'per-user'`: leave-last-out, as in the semantic-ID literature (TIGER, LETTER). Each user's
 *   last `testShare` of first-purchase events (at least one) are test, the `validationShare`
 *   before them validation (at least one as well), the rest training; users with fewer than 3
 *   events train only. See {@link perUserCuts} for how baskets are kept whole.
 *
 * Both modes resolve to per-user cut times, so any raw interaction (a repeat purchase too) gets
 * its period the same way: {@link periodOf}.
 */
import { ValueError } from '../errors.js';

/** A point in time: unix seconds, or an ISO-8601 date/time string (UTC if no zone is given). */
export type TimePoint = number | string;

/** User-facing split options; every field is optional. */
export interface SplitOptions {
  /** `'time'` (default): one cut for all users; `'per-user'`: each user's last events. */
  mode?: 'time' | 'per-user';
  /** Time mode: first instant of the validation period (training is strictly before it). */
  trainEnd?: TimePoint;
  /** Time mode: first instant of the test period (validation is strictly before it). */
  testStart?: TimePoint;
  /** Time mode, when `trainEnd` is not given: share of the events before the validation period. */
  trainFraction?: number;
  /** Time mode, when `testStart` is not given: share of the events before the test period. */
  testFraction?: number;
  /** Per-user mode: share of each user's events in validation (default 0.1, at least one event). */
  validationShare?: number;
  /** Per-user mode: share of each user's events in test (default 0.2, at least one event). */
  testShare?: number;
}

/** The resolved split. Time mode: the global cut in unix seconds; per-user mode: NaN there. */
export interface ResolvedSplit {
  mode: 'time' | 'per-user';
  trainEnd: number;
  testStart: number;
  /** How the cut was chosen, for the report. */
  source: 'dates' | 'fractions' | 'per-user';
  /** Per-user mode: the shares used. */
  validationShare?: number;
  testShare?: number;
}

/** Per-user cut times: user u's period of time t is {@link periodOf}(cuts, u, t). */
export interface UserCuts {
  /** First instant of the user's validation period (+Infinity: the user trains only). */
  trainEnd: Float64Array;
  /** First instant of the user's test period. */
  testStart: Float64Array;
}

/** The bundled dataset's span and fixed split dates (unix seconds). */
export const BUNDLED_SPLIT = {
  first: Date.UTC(2010, 11, 1, 8, 26) / 1000,
  last: Date.UTC(2011, 11, 9, 12, 50) / 1000,
  trainEnd: Date.UTC(2011, 8, 1) / 1000,
  testStart: Date.UTC(2011, 9, 15) / 1000,
} as const;

/**
 * The bundled data's shares of first-purchase events before 2011-09-01 (162,430 of 266,226) and
 * before 2011-10-15 (203,537), measured on data/online-retail; the default event fractions.
 */
export const DEFAULT_FRACTIONS = {
  train: 162430 / 266226,
  test: 203537 / 266226,
} as const;

/** Default shares of the per-user split. */
export const DEFAULT_SHARES = { validation: 0.1, test: 0.2 } as const;

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

/**
 * Resolves a time-mode split. `eventTimes`: the first-purchase events' times sorted ascending
 * (the quantiles are taken over them); `first`/`last`: the raw log's time range (dates must fall
 * inside it). A fraction f cuts at the time of the event of rank round(f · events) (the last
 * event when that rank is past the end), so the training period holds the events strictly before
 * it (fewer than f · events when times tie).
 */
export function resolveSplit(opts: SplitOptions, eventTimes: Float64Array, first = eventTimes[0], last = eventTimes[eventTimes.length - 1]): ResolvedSplit {
  if (opts.mode === 'per-user') throw new ValueError("split.mode: resolveSplit handles the 'time' mode; use perUserCuts for 'per-user'", 'split.mode');
  for (const k of ['validationShare', 'testShare'] as const) {
    if (opts[k] !== undefined) throw new ValueError(`split.${k}: only used with split.mode 'per-user'`, `split.${k}`);
  }
  const E = eventTimes.length;
  if (E === 0) throw new ValueError('split: no events to split', 'split');
  const quantile = (f: number | undefined, dflt: number, name: string): number => {
    const v = f ?? dflt;
    if (!(v > 0 && v < 1)) throw new ValueError(`split.${name}: must be in (0, 1), got ${v}`, `split.${name}`);
    return eventTimes[Math.min(E - 1, Math.max(0, Math.round(v * E)))];
  };
  const trainEnd =
    opts.trainEnd !== undefined ? parseTimePoint(opts.trainEnd, 'split.trainEnd') : quantile(opts.trainFraction, DEFAULT_FRACTIONS.train, 'trainFraction');
  const testStart =
    opts.testStart !== undefined ? parseTimePoint(opts.testStart, 'split.testStart') : quantile(opts.testFraction, DEFAULT_FRACTIONS.test, 'testFraction');
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
  return { mode: 'time', trainEnd, testStart, source };
}

/** Checks the per-user options and returns the shares. */
export function perUserShares(opts: SplitOptions): { validation: number; test: number } {
  for (const k of ['trainEnd', 'testStart', 'trainFraction', 'testFraction'] as const) {
    if (opts[k] !== undefined) throw new ValueError(`split.${k}: not used with split.mode 'per-user' (set validationShare / testShare)`, `split.${k}`);
  }
  const validation = opts.validationShare ?? DEFAULT_SHARES.validation;
  const test = opts.testShare ?? DEFAULT_SHARES.test;
  if (!(validation > 0 && validation < 1)) throw new ValueError(`split.validationShare: must be in (0, 1), got ${validation}`, 'split.validationShare');
  if (!(test > 0 && test < 1)) throw new ValueError(`split.testShare: must be in (0, 1), got ${test}`, 'split.testShare');
  if (!(validation + test < 1)) throw new ValueError(`split: validationShare + testShare must be below 1, got ${validation + test}`, 'split');
  return { validation, test };
}

/**
 * Per-user leave-last-out cuts. `times` are one user's first-purchase event times sorted
 * ascending (m of them). Target sizes: test = max(1, round(testShare · m)), validation =
 * max(1, round(validationShare · m)). A cut can only fall between two *different* times, so
 * events sharing a timestamp (a basket: same user, time and basket key, or several baskets at
 * one instant) always land in the same period: each cut snaps to the nearest allowed position,
 * ties to the later one (the later period gets the fewer events); the test cut first, leaving
 * room for at least one validation and one training time before it, then the validation cut
 * before it. Users with fewer than 3 events or fewer than 3 distinct times train only
 * (both cuts +Infinity).
 */
export function userCut(times: ArrayLike<number>, shares: { validation: number; test: number }): [number, number] {
  const m = times.length;
  const none: [number, number] = [Infinity, Infinity];
  if (m < 3) return none;
  // Allowed cut positions k (events [0, k) before the cut): where the time changes.
  const allowed: number[] = [];
  for (let k = 1; k < m; k++) if (times[k] !== times[k - 1]) allowed.push(k);
  if (allowed.length < 2) return none;
  const nearest = (target: number, lo: number, hi: number): number => {
    let best = -1;
    for (const k of allowed) {
      if (k < lo || k > hi) continue;
      if (best < 0 || Math.abs(k - target) <= Math.abs(best - target)) best = k;
    }
    return best;
  };
  const nTest = Math.max(1, Math.round(shares.test * m));
  // The test cut leaves at least one allowed position before it (for the validation cut).
  const testCut = nearest(m - nTest, allowed[1], m - 1);
  const nVal = Math.max(1, Math.round(shares.validation * m));
  const valCut = nearest(testCut - nVal, 1, testCut - 1);
  return [times[valCut], times[testCut]];
}

/**
 * Cuts for every user. `user`/`time` index events sorted by (user, time); users without events,
 * or for whom `active` is 0, train only.
 */
export function perUserCuts(
  numUsers: number,
  events: Int32Array,
  user: Int32Array,
  time: Float64Array,
  shares: { validation: number; test: number },
): UserCuts {
  const trainEnd = new Float64Array(numUsers).fill(Infinity);
  const testStart = new Float64Array(numUsers).fill(Infinity);
  let start = 0;
  while (start < events.length) {
    const u = user[events[start]];
    let end = start;
    while (end < events.length && user[events[end]] === u) end++;
    const times = new Float64Array(end - start);
    for (let j = start; j < end; j++) times[j - start] = time[events[j]];
    [trainEnd[u], testStart[u]] = userCut(times, shares);
    start = end;
  }
  return { trainEnd, testStart };
}

/** The same cut for every user (time mode). */
export function globalCuts(numUsers: number, split: ResolvedSplit): UserCuts {
  return { trainEnd: new Float64Array(numUsers).fill(split.trainEnd), testStart: new Float64Array(numUsers).fill(split.testStart) };
}

/** Period of user `u`'s interaction at time `t`: 0 training, 1 validation, 2 test. */
export function periodOf(cuts: UserCuts, u: number, t: number): 0 | 1 | 2 {
  return t < cuts.trainEnd[u] ? 0 : t < cuts.testStart[u] ? 1 : 2;
}

/** ISO string of a unix time, for messages and reports. */
export function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t * 1000).toISOString() : String(t);
}
