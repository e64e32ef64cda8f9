// qarm's commands under mpirun (issue 17, step 4): `mpirun -np 2 node dist/cli.js <command>` runs
// data-parallel with no other flag and gives the one-process result within float tolerance; only
// rank 0 writes. Each rank gets its own --out (rank<r>, from Open MPI's OMPI_COMM_WORLD_RANK), so
// a rank that wrote anything would leave a folder behind. Needs Open MPI's mpirun (Debian:
// apt-get install openmpi-bin); without it the suite skips and says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

function mpirunMissing() {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'mpirun not found (apt-get install openmpi-bin)';
  if (!/Open MPI|OpenRTE/i.test(r.stdout + r.stderr)) return `mpirun is not Open MPI's: ${r.stdout.split('\n')[0]}`;
  return null;
}

function cleanEnv(tmp) {
  const env = { ...process.env, QARM_CACHE_DIR: join(tmp, 'cache') };
  for (const k of ['QARM_DIST', 'QARM_MPI_LIB', 'QARM_DIST_CHUNK_BYTES']) delete env[k];
  return env;
}

/** `qarm <args> --out <outBase>/one` in one process. */
function one(tmp, args, outBase) {
  return spawnSync(process.execPath, [CLI, ...args, '--out', join(outBase, 'one')], { encoding: 'utf8', env: cleanEnv(tmp), timeout: 300000 });
}

/** `mpirun -np <np> qarm <args> --out <outBase>/rank<r>`: every rank its own --out. */
function mpi(tmp, np, args, outBase) {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return spawnSync(
    'mpirun',
    ['--allow-run-as-root', '--oversubscribe', '-np', String(np), 'sh', '-c', `exec ${quoted} --out '${outBase}/rank'"$OMPI_COMM_WORLD_RANK"`],
    { encoding: 'utf8', env: cleanEnv(tmp), timeout: 300000 },
  );
}

const json = (dir, f) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

describe('qarm commands under mpirun (data-parallel, rank 0 writes)', function () {
  this.timeout(600000);
  const skip = mpirunMissing();
  let tmp;

  before(function () {
    if (skip) {
      console.warn(`    qarm commands under mpirun skipped: ${skip}`);
      this.skip();
    }
    tmp = mkdtempSync(join(tmpdir(), 'qarm-climpi-'));
  });
  after(() => tmp && rmSync(tmp, { recursive: true, force: true }));

  // Measured (commit of this test): validation AUC 0.5347268591 (1 process) vs 0.5347267954
  // (2 ranks), a difference of 6.4e-8; test AUC 1.1e-8 apart.
  it('`qarm train` on 2 ranks = one process (validation AUC within 0.002); only rank 0 writes; worldSize 2', () => {
    const args = ['train', '--quick', '--variant', 'qarm', '--seed', '2', '--no-progress'];
    const base = join(tmp, 'train');
    const a = one(tmp, args, base);
    assert.equal(a.status, 0, a.stderr);
    const b = mpi(tmp, 2, args, base);
    assert.equal(b.status, 0, `mpirun failed (${b.status}, ${b.signal}):\n${b.stdout}\n${b.stderr}`);
    const [dOne, d0] = [join(base, 'one'), join(base, 'rank0')];
    assert.ok(!existsSync(join(base, 'rank1')), 'rank 1 created its --out folder');
    assert.deepEqual(readdirSync(d0).sort(), readdirSync(dOne).sort(), 'rank 0 writes what one process writes');
    assert.equal((b.stdout.match(/wrote .*results\.json/g) ?? []).length, 1, 'only rank 0 prints');
    for (const f of ['results.json', 'model.json', 'config.json']) {
      assert.equal(json(dOne, f).worldSize, 1, `one process: ${f}`);
      assert.equal(json(d0, f).worldSize, 2, `2 ranks: ${f}`);
    }
    const [r1, r2] = [json(dOne, 'results.json'), json(d0, 'results.json')];
    const va = r1.variants.qarm.validation.all.auc.mean;
    const vb = r2.variants.qarm.validation.all.auc.mean;
    const ta = r1.variants.qarm.all.auc.mean;
    const tb = r2.variants.qarm.all.auc.mean;
    console.log(
      `      validation AUC: 1 process ${va}, 2 ranks ${vb} (|diff| ${Math.abs(va - vb).toExponential(2)}); test AUC |diff| ${Math.abs(ta - tb).toExponential(2)}`,
    );
    assert.ok(Math.abs(va - vb) <= 0.002, `validation AUC ${va} vs ${vb}`);
    assert.ok(Math.abs(ta - tb) <= 0.002, `test AUC ${ta} vs ${tb}`);
    assert.deepEqual(r2.variants.qarm.bestEpochs, r1.variants.qarm.bestEpochs);
    // The item tables are built identically on every rank (same data, same seeds).
    for (const f of ['qarm-items-rq.npy', 'qarm-items-vq.npy']) assert.ok(readFileSync(join(d0, f)).equals(readFileSync(join(dOne, f))), f);
  });
});
