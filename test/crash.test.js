// Crash safety: a training run killed with SIGKILL while it writes a checkpoint, then resumed,
// ends with exactly the metrics of an uninterrupted run with the same seed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert } from './helpers.js';

const child = new URL('./support/crash-train.mjs', import.meta.url).pathname;

function runToEnd(checkpoint) {
  const r = spawnSync(process.execPath, [child, checkpoint], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** The epoch a ranker checkpoint holds (its JSON header follows 'QARMCKP1' and a u32 length). */
function checkpointEpoch(file) {
  const buf = readFileSync(file);
  assert.equal(buf.toString('latin1', 0, 8), 'QARMCKP1');
  return JSON.parse(buf.toString('utf8', 12, 12 + buf.readUInt32LE(8))).epoch;
}

/** Starts a run and SIGKILLs it as soon as it starts writing its second checkpoint. */
function killDuringSecondCheckpoint(dir, checkpoint) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, checkpoint], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const watcher = watch(dir, (_event, name) => {
      // A temp file while the first checkpoint already exists: the second write is under way.
      // (The first checkpoint's rename also reports its temp name, which is gone by then.)
      if (!killed && name && name.endsWith('.tmp') && existsSync(checkpoint) && existsSync(join(dir, name))) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('exit', (code, signal) => {
      watcher.close();
      if (signal === 'SIGKILL') resolve({ midWrite: readdirSync(dir).some((f) => f.endsWith('.tmp')) });
      else reject(new Error(`child was not killed (exit ${code}): ${stderr}`));
    });
  });
}

describe('crash safety', function () {
  this.timeout(300000);

  it('SIGKILL during checkpointing, then resume, gives the uninterrupted metrics', async () => {
    const { trained, ...reference } = runToEnd('-');
    assert.deepEqual(trained, [0, 1, 2, 3]);
    let midWrite = false;
    for (let attempt = 0; attempt < 3 && !midWrite; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'qarm-crash-'));
      try {
        const checkpoint = join(dir, 'ranker.ckpt');
        ({ midWrite } = await killDuringSecondCheckpoint(dir, checkpoint));
        // Training is deterministic, so equal metrics alone would also come from a run that
        // ignored the checkpoint and retrained: the resumed process must train exactly the
        // epochs after the one the surviving checkpoint holds.
        const saved = checkpointEpoch(checkpoint);
        assert.ok(saved >= 0 && saved < 3, `checkpoint holds epoch ${saved}`);
        const { trained, ...resumed } = runToEnd(checkpoint);
        assert.deepEqual(
          trained,
          [1, 2, 3].filter((e) => e > saved),
          `resumed from epoch ${saved}`,
        );
        assert.deepEqual(resumed, reference, 'resumed run differs from the uninterrupted one');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(midWrite, 'never managed to kill the run in the middle of a checkpoint write');
  });
});
