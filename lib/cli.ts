#!/usr/bin/env node
/**
 * The `qarm` command line: `run` (the whole experiment), `align`, `quantize`, `train`, `eval`.
 * Argument parsing only; the work is in lib/pipeline/commands.ts. Every failure ends as one
 * `qarm: error: ...` line on stderr and a non-zero exit (set QARM_DEBUG=1 for the stack).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import './index.js'; // registers the CPU kernels (side effect of lib/tensor)
import { VARIANTS } from './pipeline/results.js';
import { runCommand, alignCommand, quantizeCommand, trainCommand, evalCommand } from './pipeline/commands.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

/** `--seeds 3` → [1,2,3]; `--seeds 4,7,9` → [4,7,9]. */
function seedList(v: string): number[] {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1) throw new InvalidArgumentError('--seeds must be at least 1');
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((s) => !/^-?\d+$/.test(s)))
    throw new InvalidArgumentError('use a count (3) or a comma-separated list of integer seeds (1,2,3)');
  return parts.map(Number);
}

/** `--train-fraction 1,0.5,0.25`: shares of training users in (0, 1]. */
function fractionList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (!parts.length || parts.some((s) => s === '') || out.some((x) => !(x > 0 && x <= 1)))
    throw new InvalidArgumentError('use a comma-separated list of fractions in (0, 1], e.g. 1,0.5,0.25,0.1');
  return out;
}

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const common = {
  data: () =>
    new Option(
      '--data <dir>',
      'dataset folder (interactions and items as .csv, .csv.gz or .parquet, optional <modality>.npy); default: the bundled Online Retail data',
    ),
  out: (d: string) => new Option('--out <dir>', 'output folder').default(d),
  config: () => new Option('--config <file>', 'JSON configuration file (see README, "Configuration")'),
  threads: () => new Option('--threads <n>', 'CPU threads (default: all cores)').argParser(positiveInt('--threads')),
  workers: () =>
    new Option('--workers <n>', 'ranker trainings run side by side on worker threads (default 2, or 1 on a single core)').argParser(positiveInt('--workers')),
  progress: () => new Option('--no-progress', 'no progress bars or log lines'),
};

export function buildProgram(): Command {
  const program = new Command('qarm')
    .description('QARM: align multimodal item embeddings to behaviour, quantise them into trainable codes, rank with them')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description(
      `the end-to-end experiment: protocol -> content -> pairs -> align -> VQ/RQ codes -> rank ${VARIANTS.length} variants x seeds -> results.json, report.html`,
    )
    .addOption(common.data())
    .addOption(common.out('qarm-out'))
    .addOption(common.config())
    .option('--seeds <n|list>', 'number of seeds or a list (default 3)', seedList)
    .option('--variants <list>', `comma-separated variants (${VARIANTS.join(',')})`, list)
    .option('--ablations', 'also run the ablations (alignment off, VQ only, RQ only, no cross features)')
    .option('--quick', 'small smoke run (a tenth of the users, tiny models; seconds, not a result)')
    .option(
      '--train-fraction <list>',
      'data-efficiency curve: rerun aligner, codes and ranker on each share of the training users (e.g. 1,0.5,0.25,0.1); same validation and test',
      fractionList,
    )
    .addOption(common.threads())
    .addOption(common.workers())
    .addOption(common.progress())
    .action(async (o) => runCommand(o));

  program
    .command('align')
    .description('mine item pairs from the training period and train the contrastive aligner; writes aligned.npy and align.json')
    .addOption(common.data())
    .addOption(common.out('qarm-align'))
    .addOption(common.config())
    .option('--quick', 'a short smoke run')
    .addOption(common.threads())
    .addOption(common.progress())
    .action(async (o) => alignCommand(o));

  program
    .command('quantize')
    .description(
      "embeddings .npy -> RQ codes (residual k-means) and VQ codes (top-K pool neighbours), their codebooks and a stats summary; with --codebooks, one shard's codes from saved codebooks",
    )
    .requiredOption('--input <file>', 'float32 [N, D] embeddings (.npy)')
    .addOption(common.out('qarm-codes'))
    .option('--levels <n>', 'RQ levels', positiveInt('--levels'), 3)
    .option('--codebook-size <n>', 'codes per RQ level', positiveInt('--codebook-size'), 64)
    .option('--iterations <n>', 'k-means iterations per level', positiveInt('--iterations'), 20)
    .option('--vq-k <n>', 'VQ code length: nearest pool items per item (0 = no VQ codes)', (v) => (v === '0' ? 0 : positiveInt('--vq-k')(v)), 25)
    .option('--pool <file>', 'int32 or float32 .npy of 0/1 per row: rows allowed in the VQ pool (default: all rows)')
    .option('--seed <n>', 'seed', (v) => Number(v), 7)
    .option(
      '--codebooks <paths...>',
      'encode with saved codebooks, fitting nothing: rq.safetensors / vq.safetensors files or a qarm quantize output folder; writes this shard\'s codes (see README, "Encoding a catalogue in shards")',
    )
    .option(
      '--shard-index <i>',
      'with --codebooks: which shard of --input to encode (default: $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID, else 0)',
      nonNegativeInt('--shard-index'),
    )
    .option('--num-shards <n>', 'with --codebooks: number of shards (default: $SLURM_ARRAY_TASK_COUNT, else 1)', positiveInt('--num-shards'))
    .addOption(common.threads())
    .addOption(common.progress())
    .action(async (o, cmd: Command) => {
      const explicitFlags = Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli');
      return quantizeCommand({ ...o, explicitFlags });
    });

  program
    .command('train')
    .description('train one ranker variant with early stopping on validation AUC; saves the model and its metrics')
    .addOption(common.data())
    .addOption(common.out('qarm-model'))
    .addOption(common.config())
    .option('--variant <name>', 'id | id+content | id+aligned | id+rq-raw | qarm', 'qarm')
    .option('--seed <n>', 'training seed', (v) => Number(v), 1)
    .option('--quick', 'small smoke run')
    .addOption(
      new Option('--table-sharding <mode>', "under mpirun: 'row' gives each rank a contiguous slice of every embedding table's rows (same results)")
        .choices(['replicated', 'row'])
        .default('replicated'),
    )
    .addOption(common.threads())
    .addOption(common.progress())
    .action(async (o) => trainCommand(o));

  program
    .command('eval')
    .description('evaluate a model saved by `qarm train` on the test split (all / warm / cold)')
    .requiredOption('--model <dir>', 'output folder of `qarm train`')
    .option('--split <name>', 'validation | test', 'test')
    .addOption(common.threads())
    .addOption(common.progress())
    .action(async (o) => evalCommand(o));

  return program;
}

function fail(e: unknown): never {
  if (e instanceof CommanderError) process.exit(e.exitCode); // commander printed its message
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`qarm: error: ${msg.split('\n')[0]}\n`);
  if (process.env.QARM_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
buildProgram().parseAsync(process.argv).catch(fail);
