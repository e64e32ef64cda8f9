/**
 * The evaluation protocol of `qarm run`: from a purchase log to training, validation and test
 * samples with no leakage.
 *
 * - Events are (user, item, time of the user's FIRST purchase of that item): re-buying an item
 *   the user already owns says little about recommendation.
 * - Each user's timeline is cut into training, validation and test periods
 *   (lib/pipeline/protocol_split.ts): one global cut in time (`split.mode: 'time'`, dates or
 *   event-count quantiles) or per user, leave-last-out (`'per-user'`: each user's last events are
 *   test, the ones before validation). Under the per-user split the periods are per user, not
 *   per calendar: other users' training events may be later in time than a test event, so
 *   training behaviour (pairs, popularity, co-occurrence) can come from after a test request.
 *   That is the literature's protocol (TIGER, LETTER); the time split has no such overlap.
 * - Training positives are all training-period events; validation/test positives are the
 *   period's events of users with at least one training event (a user the model never saw
 *   cannot be ranked fairly by any variant).
 * - Each positive gets `negatives` items sampled with a fixed seed from the items with an
 *   interaction in the same period (of any user), excluding every item the user interacted with
 *   at or before the request time, in any period, the request's own basket included. The same
 *   rule in training, validation and test: a target the user already owns is never a negative,
 *   while items the user buys only later may be.
 * - Samples come in *requests*: one (user, basket) with its positives and their negatives. A
 *   request's history is the user's last ≤ `historyLength` events strictly before the basket's
 *   time (so nothing from the same invoice), oldest first. Requests are the GAUC groups: every
 *   sample of a request shares user and history, which is what makes an id-only model score
 *   exactly 0.5 GAUC on cold items (they are all the same unknown id to it).
 * - Warm items / known users are those with a training-period event; vocabularies are built
 *   from them alone, everything else maps to id 0 (out of vocabulary).
 * - `trainUserFraction` < 1 drops the training-period events of the other users (the
 *   data-efficiency curve): fewer training samples, fewer warm items (an item only those users
 *   bought becomes cold), a smaller user vocabulary. Which users may have validation/test
 *   samples is still decided on all training events, so validation and test stay identical and
 *   curves over the fraction compare like with like; a dropped user is then an unknown id.
 */
import { Generator } from '../tensor/random.js';
import { IndexError, ShapeError, ValueError } from '../errors.js';
import { globalCuts, iso, periodOf, perUserCuts, perUserShares, resolveSplit, type ResolvedSplit, type SplitOptions, type UserCuts } from './protocol_split.js';

/** A raw purchase log in columnar form, users and items as dense indices. */
export interface InteractionLog {
  numUsers: number;
  numItems: number;
  user: Int32Array;
  item: Int32Array;
  /** Unix seconds. */
  time: Float64Array;
  /**
   * Basket / invoice index, or -1 where unknown (then the (user, time) pair is the basket). An item
   * bought in several baskets at the user's first instant for it is one event, in the first of
   * them: the unknown basket, then the smallest index.
   */
  basket: Int32Array;
}

/** Options of {@link buildProtocol}; all optional. */
export interface ProtocolOptions {
  split?: SplitOptions;
  /** Negatives per positive (default 4). */
  negatives?: number;
  /** History length (default 50). */
  historyLength?: number;
  /** Seed of the negative sampler (fixed across variants and training seeds; default 17). */
  seed?: number;
  /** Keep this fraction of users (seeded), for quick runs (default 1). */
  userFraction?: number;
  /**
   * Share of the users with training events whose training-period events are used (seeded, in
   * (0, 1], default 1): the data-efficiency curve. Validation and test samples (requests,
   * histories, negatives) are exactly those of fraction 1; only training samples, warm items,
   * vocabularies and `trainInteractions` shrink. The same seed nests the kept sets: a user kept
   * at fraction f is kept at every larger fraction.
   */
  trainUserFraction?: number;
}

/**
 * One split's samples. Sample i belongs to request `group[i]`, whose history is `hist[histOffsets[g] .. histOffsets[g+1])`.
 * Requests come in (user, time, basket) order (the unknown basket first at an instant); within a
 * request, each positive (by item index) is followed by its negatives.
 */
export interface SampleSet {
  size: number;
  /** Global user index per sample. */
  user: Int32Array;
  /** Global item index of the target per sample. */
  item: Int32Array;
  label: Float32Array;
  /** Request index per sample (the GAUC group). */
  group: Int32Array;
  numGroups: number;
  /** [numGroups + 1] offsets into `hist`. */
  histOffsets: Int32Array;
  /** Global item indices of history events, oldest first within each request (at one instant: by basket, then item). */
  hist: Int32Array;
  /** Request time (unix seconds) per request. */
  groupTime: Float64Array;
  /** Number of positive samples. */
  positives: number;
}

/** Everything the rest of the pipeline needs from the protocol. */
export interface Protocol {
  split: ResolvedSplit;
  options: Required<Omit<ProtocolOptions, 'split'>>;
  numUsers: number;
  numItems: number;
  /** 1 where the item has a training-period event. */
  warm: Uint8Array;
  /** Item → id-feature index (1..numWarmItems), 0 for cold items. */
  itemVocab: Int32Array;
  numWarmItems: number;
  /** User → id-feature index (1..numTrainUsers), 0 for users without training events. */
  userVocab: Int32Array;
  numTrainUsers: number;
  /** 1 for users kept by `userFraction` (all users by default). */
  keptUsers: Uint8Array;
  /** 1 for kept users whose training-period events are used (`trainUserFraction`). */
  trainKeptUsers: Uint8Array;
  /** Per item: its training events (first purchases in the training period, the training positives). */
  trainCount: Int32Array;
  /** Per-user cut times; {@link Protocol.periodOf} reads them. */
  cuts: UserCuts;
  /** Period (0 training, 1 validation, 2 test) of user `u`'s interaction at time `t`. */
  periodOf: (u: number, t: number) => 0 | 1 | 2;
  /**
   * Indices (into the input log, ascending) of the kept users' raw interactions (repeat
   * purchases included) per period; training holds only `trainKeptUsers`' interactions. What the
   * aligner mines pairs from, and the recall table's held-out test events.
   */
  periodInteractions: [Int32Array, Int32Array, Int32Array];
  /** `periodInteractions[0]`: the training-period raw purchases, for pair mining. */
  trainInteractions: Int32Array;
  train: SampleSet;
  validation: SampleSet;
  test: SampleSet;
  /** Counts for the report. */
  stats: ProtocolStats;
}

export interface ProtocolStats {
  interactions: number;
  events: number;
  /** First-purchase events per period: training counts `trainUserFraction`'s users only, validation and test every kept user's. */
  eventsPerPeriod: [number, number, number];
  users: number;
  trainUsers: number;
  items: number;
  warmItems: number;
  coldItemsInTest: number;
  /** Users with both a training and a test event (eligibility decided before trainUserFraction). */
  trainTestUsers: number;
  splitMode: 'time' | 'per-user';
  /** ISO cut dates in time mode; `'per-user'` in per-user mode. */
  splitDates: { trainEnd: string; testStart: string };
  /** Problems worth a line in the log (`qarm run` prints them). */
  warnings: string[];
}

const PERIODS = 3;
/** Below this many users with training and test events the stats carry a warning. */
const MIN_TRAIN_TEST_USERS = 100;

/** Builds the protocol's samples from a purchase log. Deterministic given the options. */
export function buildProtocol(log: InteractionLog, opts: ProtocolOptions = {}): Protocol {
  const n = checkLog(log);
  const options = {
    negatives: opts.negatives ?? 4,
    historyLength: opts.historyLength ?? 50,
    seed: opts.seed ?? 17,
    userFraction: opts.userFraction ?? 1,
    trainUserFraction: opts.trainUserFraction ?? 1,
  };
  if (!Number.isInteger(options.negatives) || options.negatives < 0)
    throw new ValueError(`negatives: expected an integer >= 0, got ${options.negatives}`, 'negatives');
  if (!Number.isInteger(options.historyLength) || options.historyLength < 1)
    throw new ValueError(`historyLength: expected an integer >= 1, got ${options.historyLength}`, 'historyLength');
  if (!(options.userFraction > 0 && options.userFraction <= 1))
    throw new ValueError(`userFraction: must be in (0, 1], got ${options.userFraction}`, 'userFraction');
  if (!(options.trainUserFraction > 0 && options.trainUserFraction <= 1))
    throw new ValueError(`trainUserFraction: must be in (0, 1], got ${options.trainUserFraction}`, 'trainUserFraction');
  if (n === 0) throw new ValueError('interactions: the log is empty', 'interactions');

  // Optional user subsample (quick runs).
  const keepUser = new Uint8Array(log.numUsers).fill(1);
  if (options.userFraction < 1) {
    const g = new Generator(options.seed ^ 0x5eed);
    for (let u = 0; u < log.numUsers; u++) keepUser[u] = g.uniform() < options.userFraction ? 1 : 0;
  }

  // Users whose training events are used: one uniform draw per user (independent of
  // `userFraction`'s stream), so smaller fractions keep subsets of larger ones.
  const trainKeep = Uint8Array.from(keepUser);
  if (options.trainUserFraction < 1) {
    const g = new Generator(options.seed ^ 0x7a1f);
    for (let u = 0; u < log.numUsers; u++) if (g.uniform() >= options.trainUserFraction) trainKeep[u] = 0;
  }

  let first = Infinity,
    last = -Infinity;
  for (let i = 0; i < n; i++) {
    if (!keepUser[log.user[i]]) continue;
    const t = log.time[i];
    if (t < first) first = t;
    if (t > last) last = t;
  }
  if (!Number.isFinite(first)) throw new ValueError('userFraction: no user left after subsampling', 'userFraction');

  // Basket keys: the explicit basket, else one negative key per distinct time (with the user, the
  // (user, time) pair). Keys are compared only between events at one time (sort, first-purchase
  // ties, basket grouping: any negative key sorts an unknown basket first) and across times (the
  // history's same-invoice rule), so each distinct time needs its own key that no explicit basket
  // id can equal; -1 - floor(time) was neither for fractional times (100.2 and 100.7 shared a key,
  // hiding the earlier event from the later request's history) nor for negative ones (time -6
  // gave key 5, merging it with basket 5 at that time).
  const keys = new Float64Array(n);
  const timeKey = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (log.basket[i] >= 0) {
      keys[i] = log.basket[i];
      continue;
    }
    let k = timeKey.get(log.time[i]);
    if (k === undefined) timeKey.set(log.time[i], (k = -1 - timeKey.size));
    keys[i] = k;
  }
  const basketKey = (i: number): number => keys[i];

  // 1. First purchase per (user, item): earliest time, ties to the earlier basket key.
  const firstIdx = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (!keepUser[log.user[i]]) continue;
    const key = log.user[i] * log.numItems + log.item[i];
    const j = firstIdx.get(key);
    if (j === undefined || log.time[i] < log.time[j] || (log.time[i] === log.time[j] && basketKey(i) < basketKey(j))) firstIdx.set(key, i);
  }
  const events = Int32Array.from(firstIdx.values());
  // Sort events by (user, time, basket, item).
  events.sort((a, b) => log.user[a] - log.user[b] || log.time[a] - log.time[b] || basketKey(a) - basketKey(b) || log.item[a] - log.item[b]);

  // 2. Per-user cut times (one global cut in time mode), decided on all kept users' events so
  // that trainUserFraction cannot move anybody's validation or test period.
  const splitOpts = opts.split ?? {};
  let split: ResolvedSplit;
  let cuts: UserCuts;
  if (splitOpts.mode === 'per-user') {
    const shares = perUserShares(splitOpts);
    split = { mode: 'per-user', trainEnd: NaN, testStart: NaN, source: 'per-user', validationShare: shares.validation, testShare: shares.test };
    cuts = perUserCuts(log.numUsers, events, log.user, log.time, shares);
  } else {
    const times = Float64Array.from(events, (e) => log.time[e]).sort();
    split = resolveSplit(splitOpts, times, first, last);
    cuts = globalCuts(log.numUsers, split);
  }
  const period = (i: number): number => periodOf(cuts, log.user[i], log.time[i]);

  // 3. Period membership, warm items, training users.
  // `trainUser` (eligible for validation/test) is decided on every kept user's training events;
  // warm items, the user vocabulary and training samples only on `trainKeep` users'.
  const warm = new Uint8Array(log.numItems);
  const trainCount = new Int32Array(log.numItems);
  const trainUser = new Uint8Array(log.numUsers);
  const testUser = new Uint8Array(log.numUsers);
  const vocabUser = new Uint8Array(log.numUsers);
  const eventsPerPeriod: [number, number, number] = [0, 0, 0];
  for (const e of events) {
    const p = period(e);
    const u = log.user[e];
    if (p === 2) testUser[u] = 1;
    if (p === 0) {
      trainUser[u] = 1;
      if (!trainKeep[u]) continue;
      warm[log.item[e]] = 1;
      trainCount[log.item[e]]++;
      vocabUser[u] = 1;
    }
    eventsPerPeriod[p]++;
  }

  // 4. Raw interactions per period (training: trainKeep users only) and the items sold in each,
  // the negative pools.
  const periodIdx: number[][] = [[], [], []];
  const soldMask = [new Uint8Array(log.numItems), new Uint8Array(log.numItems), new Uint8Array(log.numItems)];
  for (let i = 0; i < n; i++) {
    const u = log.user[i];
    if (!keepUser[u]) continue;
    const p = period(i);
    if (p === 0 && !trainKeep[u]) continue;
    periodIdx[p].push(i);
    soldMask[p][log.item[i]] = 1;
  }
  const sold = soldMask.map((m) => {
    const out: number[] = [];
    for (let i = 0; i < m.length; i++) if (m[i]) out.push(i);
    return Int32Array.from(out);
  });

  // 5. Vocabularies from the training period only.
  const itemVocab = new Int32Array(log.numItems);
  let numWarmItems = 0;
  for (let i = 0; i < log.numItems; i++) if (warm[i]) itemVocab[i] = ++numWarmItems;
  const userVocab = new Int32Array(log.numUsers);
  let numTrainUsers = 0;
  for (let u = 0; u < log.numUsers; u++) if (vocabUser[u]) userVocab[u] = ++numTrainUsers;

  // 6. Requests and samples per period.
  const builders = [0, 1, 2].map(() => new SetBuilder());
  const gens = [0, 1, 2].map((p) => new Generator(options.seed * PERIODS + p));
  const H = options.historyLength;
  let start = 0;
  while (start < events.length) {
    const u = log.user[events[start]];
    let end = start;
    while (end < events.length && log.user[events[end]] === u) end++;
    // Items the user owns by the current request: first purchases at or before its time (any
    // period, the request's own basket and other baskets at the same instant included). The same
    // rule in every period, so "the target is already owned" never decides a label.
    const owned = new Set<number>();
    let o = start;
    // Walk the user's events basket by basket.
    let b = start;
    while (b < end) {
      const t = log.time[events[b]];
      const bk = basketKey(events[b]);
      let be = b;
      while (be < end && log.time[events[be]] === t && basketKey(events[be]) === bk) be++;
      while (o < end && log.time[events[o]] <= t) owned.add(log.item[events[o++]]);
      const p = period(events[b]);
      if (p === 0 ? trainKeep[u] : trainUser[u]) {
        // History: events strictly earlier in time (so never the same invoice), newest H.
        const hist: number[] = [];
        for (let j = b - 1; j >= start && hist.length < H; j--) {
          const e = events[j];
          if (log.time[e] < t && basketKey(e) !== bk) hist.push(log.item[e]);
        }
        hist.reverse();
        const builder = builders[p];
        const g = builder.openGroup(hist, t);
        for (let j = b; j < be; j++) {
          const item = log.item[events[j]];
          builder.add(u, item, 1, g);
          for (const neg of sampleNegatives(gens[p], sold[p], owned, options.negatives)) builder.add(u, neg, 0, g);
        }
      }
      b = be;
    }
    start = end;
  }
  const [train, validation, test] = builders.map((bd) => bd.finish());

  let coldItemsInTest = 0;
  const seenCold = new Uint8Array(log.numItems);
  for (let i = 0; i < test.size; i++) {
    const it = test.item[i];
    if (!warm[it] && !seenCold[it]) {
      seenCold[it] = 1;
      coldItemsInTest++;
    }
  }
  let usersKept = 0,
    trainTestUsers = 0;
  for (let u = 0; u < log.numUsers; u++) {
    usersKept += keepUser[u];
    trainTestUsers += trainUser[u] & testUser[u];
  }
  const warnings: string[] = [];
  if (trainTestUsers < MIN_TRAIN_TEST_USERS) {
    warnings.push(
      `only ${trainTestUsers} users have both training and test events (fewer than ${MIN_TRAIN_TEST_USERS}): test metrics will be noisy` +
        (split.mode === 'time' ? "; protocol.split.mode 'per-user' gives every user with 3+ events a test period" : ''),
    );
  }
  const periodInteractions = periodIdx.map((a) => Int32Array.from(a)) as [Int32Array, Int32Array, Int32Array];
  return {
    split,
    options,
    numUsers: log.numUsers,
    numItems: log.numItems,
    warm,
    itemVocab,
    numWarmItems,
    userVocab,
    numTrainUsers,
    keptUsers: keepUser,
    trainKeptUsers: trainKeep,
    trainCount,
    cuts,
    periodOf: (u: number, t: number) => periodOf(cuts, u, t),
    periodInteractions,
    trainInteractions: periodInteractions[0],
    train,
    validation,
    test,
    stats: {
      interactions: n,
      events: eventsPerPeriod[0] + eventsPerPeriod[1] + eventsPerPeriod[2],
      eventsPerPeriod,
      users: usersKept,
      trainUsers: numTrainUsers,
      items: log.numItems,
      warmItems: numWarmItems,
      coldItemsInTest,
      trainTestUsers,
      splitMode: split.mode,
      splitDates: split.mode === 'time' ? { trainEnd: iso(split.trainEnd), testStart: iso(split.testStart) } : { trainEnd: 'per-user', testStart: 'per-user' },
      warnings,
    },
  };
}

/** Up to `k` distinct items from `pool` not in `exclude`, drawn uniformly with `g`. */
function sampleNegatives(g: Generator, pool: Int32Array, exclude: Set<number>, k: number): number[] {
  const out: number[] = [];
  if (k === 0) return out;
  const chosen = new Set<number>();
  // Rejection sampling is fast when the user bought a small share of the pool; fall back to
  // enumerating the allowed items when it keeps missing.
  for (let tries = 0; out.length < k && tries < 20 * k; tries++) {
    const it = pool[g.int(pool.length)];
    if (exclude.has(it) || chosen.has(it)) continue;
    chosen.add(it);
    out.push(it);
  }
  if (out.length < k) {
    const allowed: number[] = [];
    for (const it of pool) if (!exclude.has(it) && !chosen.has(it)) allowed.push(it);
    while (out.length < k && allowed.length > 0) {
      const j = g.int(allowed.length);
      out.push(allowed[j]);
      allowed[j] = allowed[allowed.length - 1];
      allowed.pop();
    }
  }
  return out;
}

/** Accumulates one split's samples into growable columns. */
class SetBuilder {
  private user: number[] = [];
  private item: number[] = [];
  private label: number[] = [];
  private group: number[] = [];
  private histOffsets: number[] = [0];
  private hist: number[] = [];
  private groupTime: number[] = [];
  private positives = 0;

  openGroup(hist: number[], t: number): number {
    for (const h of hist) this.hist.push(h);
    this.histOffsets.push(this.hist.length);
    this.groupTime.push(t);
    return this.groupTime.length - 1;
  }

  add(u: number, item: number, label: number, g: number): void {
    this.user.push(u);
    this.item.push(item);
    this.label.push(label);
    this.group.push(g);
    if (label) this.positives++;
  }

  finish(): SampleSet {
    return {
      size: this.user.length,
      user: Int32Array.from(this.user),
      item: Int32Array.from(this.item),
      label: Float32Array.from(this.label),
      group: Int32Array.from(this.group),
      numGroups: this.groupTime.length,
      histOffsets: Int32Array.from(this.histOffsets),
      hist: Int32Array.from(this.hist),
      groupTime: Float64Array.from(this.groupTime),
      positives: this.positives,
    };
  }
}

function checkLog(log: InteractionLog): number {
  const n = log.user.length;
  for (const [name, a] of [
    ['item', log.item],
    ['time', log.time],
    ['basket', log.basket],
  ] as const) {
    if (a.length !== n) throw new ShapeError(`${name}: expected ${n} entries (as many as user), got ${a.length}`, name);
  }
  if (!Number.isInteger(log.numUsers) || log.numUsers < 0) throw new ValueError(`numUsers: expected an integer >= 0, got ${log.numUsers}`, 'numUsers');
  if (!Number.isInteger(log.numItems) || log.numItems < 0) throw new ValueError(`numItems: expected an integer >= 0, got ${log.numItems}`, 'numItems');
  for (let i = 0; i < n; i++) {
    if (!(log.user[i] >= 0 && log.user[i] < log.numUsers)) throw new IndexError(`user: entry ${i} is ${log.user[i]}, outside [0, ${log.numUsers})`, 'user');
    if (!(log.item[i] >= 0 && log.item[i] < log.numItems)) throw new IndexError(`item: entry ${i} is ${log.item[i]}, outside [0, ${log.numItems})`, 'item');
    if (!Number.isFinite(log.time[i])) throw new ValueError(`time: entry ${i} is not finite`, 'time');
  }
  return n;
}

/** Per-sample slice masks: 'all', 'warm' (target has a training event), 'cold'. */
export function sliceMask(set: SampleSet, warm: Uint8Array, slice: 'all' | 'warm' | 'cold'): Uint8Array {
  const m = new Uint8Array(set.size);
  for (let i = 0; i < set.size; i++) m[i] = slice === 'all' ? 1 : (warm[set.item[i]] === 1) === (slice === 'warm') ? 1 : 0;
  return m;
}
