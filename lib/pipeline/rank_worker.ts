/**
 * Worker thread of {@link runRankJobs}: receives the shared ranking context once, then trains
 * one (variant, seed) job per message and posts back its {@link SeedRun}. Progress goes back as
 * messages; the main thread owns the console.
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import '../tensor/index.js'; // registers the CPU (and CUDA) kernels: a worker starts with no backend
import { setNumThreads } from '../tensor/runtime.js';
import { trainVariant, type RankContext } from './train_variant.js';
import type { Progress } from './progress.js';
import type { RankJob, SharedRankContext, ToWorker, FromWorker } from './rank_jobs.js';

const port = parentPort!;
let ctx: RankContext | null = null;

function post(m: FromWorker): void {
  port.postMessage(m);
}

function progressFor(job: number): Progress {
  return {
    log: (message) => post({ type: 'log', message }),
    task: () => ({
      update: (done, status) => post({ type: 'progress', job, done, status }),
      done: (status) => post({ type: 'done', job, status }),
    }),
  };
}

function context(s: SharedRankContext): RankContext {
  return { ...s, items: (spec) => s.items[spec.name] };
}

async function run(job: RankJob): Promise<void> {
  try {
    const r = await trainVariant(job.spec, ctx!, job.ranker, job.seed, progressFor(job.id), job.checkpointPath);
    post({ type: 'result', job: job.id, run: r });
  } catch (e) {
    post({ type: 'error', job: job.id, message: e instanceof Error ? e.message : String(e) });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    setNumThreads(m.threads);
    ctx = context(m.ctx);
  } else if (m.type === 'job') {
    void run(m.job);
  }
});
