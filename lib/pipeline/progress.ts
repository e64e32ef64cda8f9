/**
 * Progress reporting for long steps: a cli-progress bar when stderr is a terminal, plain
 * timestamped log lines otherwise (CI logs, pipes), nothing when quiet.
 */
import cliProgress from 'cli-progress';

/** One long step with a known amount of work. */
export interface Task {
  /** Sets the amount done (absolute) and an optional short status text. */
  update(done: number, status?: string): void;
  /** Ends the task with a final status line. */
  done(status?: string): void;
}

/** What the pipeline reports to. */
export interface Progress {
  /** A one-line message. */
  log(message: string): void;
  /** Starts a task of `total` units. */
  task(name: string, total: number): Task;
}

/** Discards everything. */
export const silentProgress: Progress = {
  log() {},
  task() {
    return { update() {}, done() {} };
  },
};

/** Options of {@link consoleProgress}. */
export interface ConsoleProgressOptions {
  /** Force bars on/off (default: bars iff `stream.isTTY`). */
  bars?: boolean;
  stream?: NodeJS.WriteStream;
}

/** Progress on stderr: bars on a TTY, else log lines at 0/25/50/75/100 % of each task. */
export function consoleProgress(opts: ConsoleProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const bars = opts.bars ?? Boolean(stream.isTTY);
  const t0 = Date.now();
  const stamp = (): string => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
  const line = (m: string): void => {
    stream.write(`${stamp()} ${m}\n`);
  };
  return {
    log: line,
    task(name: string, total: number): Task {
      if (bars) {
        const bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${name.padEnd(28).slice(0, 28)} [{bar}] {percentage}% | {value}/{total} | {status}`,
            barsize: 24,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, total), 0, { status: '' });
        return {
          update(done, status = '') {
            bar.update(Math.min(done, total), { status });
          },
          done(status = '') {
            bar.update(total, { status });
            bar.stop();
            line(`${name}: done${status ? ` (${status})` : ''}`);
          },
        };
      }
      let nextQuarter = 1;
      const start = Date.now();
      line(`${name}: started (${total} steps)`);
      return {
        update(done, status = '') {
          if (total <= 0) return;
          while (nextQuarter < 4 && done >= (nextQuarter * total) / 4) {
            line(`${name}: ${nextQuarter * 25}%${status ? ` ${status}` : ''}`);
            nextQuarter++;
          }
        },
        done(status = '') {
          line(`${name}: done in ${((Date.now() - start) / 1000).toFixed(1)} s${status ? ` (${status})` : ''}`);
        },
      };
    },
  };
}
