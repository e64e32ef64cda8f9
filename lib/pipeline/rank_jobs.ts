/**
 * Runs the run's ranker trainings — every (variant, seed) pair — either one after another in
 * this thread, or spread over worker threads.
 *
 * Why workers: one training is a long chain of small kernels (batch 1024, d = 16) with much
 * single-threaded JS between native calls, so two trainings side by side, each with one kernel
 * thread, keep both cores busier: on a 2-core machine two workers take about half the time of
 * one (docs/decisions.md, "Ranking workers"), so `qarm run` defaults to two where there are two cores.
 * The trainings are independent, so every job's result is bit-identical to the
 * sequential run (kernels do not depend on the thread count, and each job's randomness comes
 * from its own seed).
 *
 * The samples and item tables are copied once into SharedArrayBuffers that every worker reads.
 */
import { Worker } from 'node:worker_threads';
import type { ItemFeatures, RankSamples } from '../rank/types.js';
import type { RankCommunicator } from '../rank/trainer.js';
import { numThreads, setNumThreads } from '../tensor/runtime.js';
import type { RunConfig } from './config.js';
import type { Progress, Task } from './progress.js';
import type { SeedRun } from './results.js';
import { trainVariant, type RankContext } from './train_variant.js';
import type { VariantSpec } from './variants.js';

/** One training: a variant with one seed. */
export interface RankJob {
  id: number;
  spec: VariantSpec;
  seed: number;
  ranker: RunConfig['ranker'];
  checkpointPath?: string;
  /** Placement of the embedding tables under `dist` (trainRanker's `tableSharding`); not a result setting, so not in the config. */
  tableSharding?: 'replicated' | 'row';
}

/** A {@link RankContext} whose item tables are precomputed per variant (cloneable). */
export type SharedRankContext = Omit<RankContext, 'items'> & { items: Record<string, ItemFeatures> };

/** @internal Messages to a worker. */
export type ToWorker = { type: 'init'; ctx: SharedRankContext; threads: number } | { type: 'job'; job: RankJob };
/** @internal Messages from a worker. */
export type FromWorker =
  | { type: 'progress'; job: number; done: number; status?: string }
  | { type: 'done'; job: number; status?: string }
  | { type: 'log'; message: string }
  | { type: 'result'; job: number; run: SeedRun }
  | { type: 'error'; job: number; message: string };

type Typed = Int32Array | Float32Array | Uint8Array;

function shared<T extends Typed>(a: T): T {
  const C = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new C(new SharedArrayBuffer(a.length * C.BYTES_PER_ELEMENT));
  out.set(a as never);
  return out;
}

function sharedSamples(s: RankSamples): RankSamples {
  return {
    ...s,
    user: shared(s.user),
    item: shared(s.item),
    label: shared(s.label),
    history: shared(s.history),
    historyLength: shared(s.historyLength),
    group: s.group ? shared(s.group) : undefined,
  };
}

function sharedItems(f: ItemFeatures): ItemFeatures {
  return {
    numItems: f.numItems,
    ...(f.rq ? { rq: { ...f.rq, codes: shared(f.rq.codes) } } : {}),
    ...(f.vq ? { vq: { ...f.vq, codes: shared(f.vq.codes) } } : {}),
    ...(f.dense ? { dense: { ...f.dense, values: shared(f.dense.values) } } : {}),
  };
}

/**
 * Young-generation size of a ranking worker (V8's default is 3 x 16 MiB semi-space). A training
 * step allocates hundreds of short-lived tensor wrappers and typed arrays, and at the default a
 * worker spent about a fifth of its time in GC; 192 MiB (64 MiB semi-spaces) cuts that, while
 * larger sizes were slower again (the young generation outgrows the caches). The measurements
 * are in docs/decisions.md, "Ranking workers and the young generation". GC settings never
 * change results.
 */
const YOUNG_GENERATION_MB = 192;

/** Relative cost of a variant's training, for scheduling the longest jobs first. */
function weight(s: VariantSpec): number {
  return 1 + (s.rq ? 2 : 0) + (s.vq ? 0.5 : 0) + (s.dense ? 0.3 : 0) + (s.cross ? 0.5 : 0);
}

/**
 * Trains every job; results come back in job order. `workers` ≤ 0 runs them here one by one;
 * otherwise that many worker threads (one included: a worker gets the larger young generation
 * above, which this thread cannot), each with `threadsPerWorker` kernel threads, take the jobs
 * longest first. `dist` (with `workers` ≤ 0 only: MPI is called from this thread): every job
 * trains data-parallel with the job's ranks.
 */
export async function runRankJobs(
  jobs: RankJob[],
  ctx: RankContext,
  specs: VariantSpec[],
  progress: Progress,
  workers: number,
  threadsPerWorker: number,
  dist?: RankCommunicator,
): Promise<SeedRun[]> {
  if (dist && workers > 0) throw new Error('runRankJobs: dist needs workers <= 0 (MPI is called from the thread that initialised it)');
  if (workers <= 0 || jobs.length === 0) {
    const out: SeedRun[] = [];
    for (const j of jobs) out.push(await trainVariant(j.spec, ctx, j.ranker, j.seed, progress, j.checkpointPath, dist, j.tableSharding));
    return out;
  }
  const items: Record<string, ItemFeatures> = {};
  for (const s of specs) items[s.name] = sharedItems(ctx.items(s));
  const sctx: SharedRankContext = {
    numUsers: ctx.numUsers,
    numWarm: ctx.numWarm,
    train: sharedSamples(ctx.train),
    validation: sharedSamples(ctx.validation),
    test: sharedSamples(ctx.test),
    warmValidation: shared(ctx.warmValidation),
    warmTest: shared(ctx.warmTest),
    items,
    codeFeatures: ctx.codeFeatures,
  };
  const queue = jobs.slice().sort((a, b) => weight(b.spec) - weight(a.spec) || a.id - b.id);
  const results = new Array<SeedRun | undefined>(jobs.length);
  const tasks = new Map<number, Task>();
  const before = numThreads();
  setNumThreads(threadsPerWorker); // the kernel pool is per process: size it for the workers
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let pending = jobs.length;
      let failed = false;
      const next = (w: Worker): void => {
        const job = queue.shift();
        if (!job) return;
        const batches = Math.ceil(ctx.train.size / job.ranker.batchSize);
        tasks.set(job.id, progress.task(`${job.spec.name} seed ${job.seed}`, job.ranker.maxEpochs * batches));
        w.postMessage({ type: 'job', job } satisfies ToWorker);
      };
      const n = Math.min(workers, jobs.length);
      for (let i = 0; i < n; i++) {
        const w = new Worker(new URL('./rank_worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
        pool.push(w);
        w.on('message', (m: FromWorker) => {
          if (failed) return;
          if (m.type === 'log') progress.log(m.message);
          else if (m.type === 'progress') tasks.get(m.job)?.update(m.done, m.status);
          else if (m.type === 'done') tasks.get(m.job)?.done(m.status);
          else if (m.type === 'error') {
            failed = true;
            reject(new Error(m.message));
          } else {
            results[m.job] = m.run;
            if (--pending === 0) resolve();
            else next(w);
          }
        });
        w.on('error', (e) => {
          failed = true;
          reject(e);
        });
        w.on('exit', (code) => {
          if (!failed && pending > 0) {
            failed = true;
            reject(new Error(`a ranking worker exited early (code ${code})`));
          }
        });
        w.postMessage({ type: 'init', ctx: sctx, threads: threadsPerWorker } satisfies ToWorker);
        next(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
    setNumThreads(before);
  }
  return results as SeedRun[];
}
