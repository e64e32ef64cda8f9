// qarm's commands under mpirun (issue 17, step 4): `mpirun -np 2 node dist/cli.js <command>` runs
// data-parallel with no other flag and gives the one-process result within float tolerance; only
// rank 0 writes. Each rank gets its own --out (rank<r>, from Open MPI's OMPI_COMM_WORLD_RANK), so
// a rank that wrote anything would leave a folder behind. Needs Open MPI's mpirun (Debian:
// apt-get install openmpi-bin); without it the suite skips and says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as q from '../dist/index.js';
import { mpirunMissing } from './support/mpirun.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

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

/**
 * Runs `qarm <args>` as one process and on 2 ranks (outputs under `base`/one and `base`/rank<r>),
 * checks that both succeed, that rank 0 alone writes (the same files one process writes) and,
 * with `printed`, prints it once. Returns the two output folders.
 */
function oneAndTwoRanks(tmp, args, base, printed) {
  const a = one(tmp, args, base);
  assert.equal(a.status, 0, a.stderr);
  const b = mpi(tmp, 2, args, base);
  assert.equal(b.status, 0, `mpirun failed (${b.status}, ${b.signal}):\n${b.stdout}\n${b.stderr}`);
  const [dOne, d0] = [join(base, 'one'), join(base, 'rank0')];
  assert.ok(!existsSync(join(base, 'rank1')), 'rank 1 created its --out folder');
  assert.deepEqual(readdirSync(d0).sort(), readdirSync(dOne).sort(), 'rank 0 writes what one process writes');
  if (printed) assert.equal((b.stdout.match(printed) ?? []).length, 1, 'only rank 0 prints');
  return { dOne, d0 };
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
    const { dOne, d0 } = oneAndTwoRanks(tmp, args, join(tmp, 'train'), /wrote .*results\.json/g);
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
    // The aligner is data-parallel too, but with --quick it keeps its seeded epoch-0 weights (they
    // score best), so the codes and item tables are the one-process bytes.
    for (const f of ['qarm-items-rq.npy', 'qarm-items-vq.npy']) assert.ok(readFileSync(join(d0, f)).equals(readFileSync(join(dOne, f))), f);
  });

  // Row-wise sharded tables give the replicated run's bits: the same metrics and the same
  // checkpoint tensors (the header differs only in the epochs' wall times).
  it('`qarm train --table-sharding row` on 2 ranks = replicated on 2 ranks: same metrics, same checkpoint tensors', () => {
    const args = ['train', '--quick', '--variant', 'qarm', '--seed', '2', '--no-progress'];
    const base = join(tmp, 'train');
    if (!existsSync(join(base, 'rank0', 'results.json'))) {
      const b = mpi(tmp, 2, args, base);
      assert.equal(b.status, 0, `mpirun failed (${b.status}, ${b.signal}):\n${b.stdout}\n${b.stderr}`);
    }
    const rowBase = join(tmp, 'train-row');
    const r = mpi(tmp, 2, [...args, '--table-sharding', 'row'], rowBase);
    assert.equal(r.status, 0, `mpirun failed (${r.status}, ${r.signal}):\n${r.stdout}\n${r.stderr}`);
    const [rep, row] = [join(base, 'rank0'), join(rowBase, 'rank0')];
    assert.ok(!existsSync(join(rowBase, 'rank1')), 'rank 1 created its --out folder');
    const metrics = (d) => {
      // Wall times aside (trainSeconds, each epoch's seconds).
      return JSON.parse(JSON.stringify(json(d, 'results.json').variants.qarm, (k, x) => (k === 'trainSeconds' || k === 'seconds' ? undefined : x)));
    };
    assert.deepEqual(metrics(row), metrics(rep));
    const body = (d) => {
      const b = readFileSync(join(d, 'qarm-seed2.ckpt'));
      return b.subarray(12 + b.readUInt32LE(8));
    };
    assert.ok(body(row).equals(body(rep)), 'checkpoint tensors differ');
  });

  // Measured (commit of this test): RQ and VQ codes 100 % equal (the files byte-identical),
  // codebooks bit-identical (largest relative difference 0); stats' relative errors 5e-14 apart (relative).
  it('`qarm quantize` on 2 ranks (each its shard of the rows) = one process: codes, codebooks, VQ pool; only rank 0 writes', () => {
    const n = 1501;
    const d = 16;
    let s = 12345;
    const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = Math.sin((i % 23) * 7 + j) + 0.3 * (rnd() - 0.5);
    const emb = join(tmp, 'emb.npy');
    const mask = join(tmp, 'pool.npy');
    q.writeNpy(emb, q.tensor(x, [n, d]));
    q.writeNpy(
      mask,
      q.Tensor.fromArray(
        Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1)),
        [n],
        'int32',
      ),
    );
    const args = ['quantize', '--input', emb, '--levels', '3', '--codebook-size', '32', '--vq-k', '5', '--pool', mask, '--no-progress'];
    const { dOne, d0 } = oneAndTwoRanks(tmp, args, join(tmp, 'quantize'));
    const [s1, s2] = [json(dOne, 'stats.json'), json(d0, 'stats.json')];
    assert.equal(s1.worldSize, 1);
    assert.equal(s2.worldSize, 2);
    const figures = [];
    for (const f of ['rq_codes.npy', 'vq_codes.npy']) {
      const [ca, cb] = [q.readNpy(join(dOne, f)), q.readNpy(join(d0, f))];
      assert.deepEqual(cb.shape, ca.shape, f);
      const [ia, ib] = [ca.i32(), cb.i32()];
      const k = ca.shape[1];
      let same = 0;
      for (let i = 0; i < n; i++) if (ia.subarray(i * k, (i + 1) * k).every((v, j) => v === ib[i * k + j])) same++;
      figures.push(`${f} ${((100 * same) / n).toFixed(2)} % of items equal`);
      assert.ok(same >= 0.999 * n, `${f}: ${same} of ${n} items have the one-process codes`);
    }
    const [ra, rb] = [q.RQKMeans.load(join(dOne, 'rq.safetensors')), q.RQKMeans.load(join(d0, 'rq.safetensors'))];
    let rel = 0;
    ra.codebooks.forEach((c, l) => {
      const [u, v] = [c.f32(), rb.codebooks[l].f32()];
      for (let i = 0; i < u.length; i++) rel = Math.max(rel, Math.abs(u[i] - v[i]) / Math.max(Math.abs(u[i]), 1e-6));
    });
    figures.push(`codebooks ${rel.toExponential(2)} relative`);
    assert.ok(rel <= 1e-5, `codebooks ${rel} relative apart`);
    const [pa, pb] = [q.readSafetensors(join(dOne, 'vq.safetensors')), q.readSafetensors(join(d0, 'vq.safetensors'))];
    for (const t of ['pool', 'rows']) assert.deepEqual(Array.from(pb.tensors[t].toTypedArray()), Array.from(pa.tensors[t].toTypedArray()), `vq pool ${t}`);
    s1.rq.levels.forEach((l, i) => {
      const m = s2.rq.levels[i];
      assert.deepEqual({ ...m, relativeError: 0 }, { ...l, relativeError: 0 }, `level ${i} stats`);
      assert.ok(Math.abs(m.relativeError - l.relativeError) <= 1e-9 * l.relativeError, `level ${i} relative error`);
    });
    console.log(`      ${figures.join('; ')}`);
  });

  // A config that makes the quick aligner train past epoch 0 (with --quick alone the untrained
  // projector scores best and the kept weights are the seeded ones, equal whatever the ranks do).
  const alignConfig = () => {
    const f = join(tmp, 'align-config.json');
    if (!existsSync(f)) writeFileSync(f, JSON.stringify({ align: { epochs: 3, patience: 3, lr: 0.005 } }));
    return f;
  };

  /** Largest |a − b| of two .npy files of float32. */
  const npyDiff = (a, b) => {
    const [x, y] = [q.readNpy(a), q.readNpy(b)];
    assert.deepEqual(y.shape, x.shape, b);
    const [u, v] = [x.f32(), y.f32()];
    let m = 0;
    for (let i = 0; i < u.length; i++) m = Math.max(m, Math.abs(u[i] - v[i]));
    return m;
  };

  // Measured (commit of this test): the same best epoch and validation Recall@50 in every epoch,
  // training losses 5.8e-9 apart (relative), aligned.npy 4.0e-7 and retrieval.npy 3.6e-7 apart.
  it('`qarm align` on 2 ranks (data-parallel aligner) = one process: align.json, aligned.npy within float tolerance; only rank 0 writes; worldSize 2', () => {
    const args = ['align', '--quick', '--config', alignConfig(), '--no-progress'];
    const { dOne, d0 } = oneAndTwoRanks(tmp, args, join(tmp, 'align'), /wrote .*aligned\.npy/g);
    const [j1, j2] = [json(dOne, 'align.json'), json(d0, 'align.json')];
    assert.equal(j1.worldSize, 1);
    assert.equal(j2.worldSize, 2);
    assert.ok(j1.bestEpoch > 0, `the aligner kept epoch ${j1.bestEpoch}: nothing was trained`);
    assert.equal(j2.bestEpoch, j1.bestEpoch);
    assert.equal(j2.mixWeight, j1.mixWeight);
    assert.deepEqual(j2.pairCounts, j1.pairCounts);
    assert.ok(Math.abs(j2.bestValidation - j1.bestValidation) <= 1e-5, `best validation ${j2.bestValidation} vs ${j1.bestValidation}`);
    assert.equal(j2.history.length, j1.history.length);
    let loss = 0;
    j1.history.forEach((h, e) => {
      const g = j2.history[e];
      assert.ok(Math.abs(g.validation - h.validation) <= 1e-5, `epoch ${h.epoch}: validation ${g.validation} vs ${h.validation}`);
      loss = Math.max(loss, Math.abs(g.loss - h.loss) / Math.abs(h.loss));
    });
    assert.ok(loss <= 1e-5, `training loss ${loss} apart (relative)`);
    assert.ok(readFileSync(join(d0, 'content.npy')).equals(readFileSync(join(dOne, 'content.npy'))), 'content.npy');
    const figures = [`losses ${loss.toExponential(1)} relative`];
    for (const f of ['aligned.npy', ...(existsSync(join(dOne, 'retrieval.npy')) ? ['retrieval.npy'] : [])]) {
      const d = npyDiff(join(dOne, f), join(d0, f));
      figures.push(`${f} ${d.toExponential(1)}`);
      assert.ok(d <= 1e-5, `${f}: ${d} apart`);
    }
    console.log(`      ${figures.join('; ')}`);
  });

  // Measured (commit of this test): the same aligner best epoch (1); test AUC of every variant
  // and slice at most 3.2e-5 apart (the aligner's last bits can move a code; the rankers' own
  // difference is about 1e-8, see `qarm train` above).
  it('`qarm run --quick` on 2 ranks (aligner and rankers data-parallel) = one process within tolerance; only rank 0 writes; worldSize 2', () => {
    const args = ['run', '--quick', '--config', alignConfig(), '--no-progress'];
    const { dOne, d0 } = oneAndTwoRanks(tmp, args, join(tmp, 'run'), /wrote .*results\.json/g);
    const [r1, r2] = [json(dOne, 'results.json'), json(d0, 'results.json')];
    assert.equal(r1.worldSize, 1);
    assert.equal(r2.worldSize, 2);
    assert.equal(r2.alignment.bestEpoch, r1.alignment.bestEpoch);
    assert.ok(r1.alignment.bestEpoch > 0, 'the aligner trained');
    let worst = 0;
    for (const [v, m] of Object.entries(r1.variants)) {
      for (const slice of ['all', 'warm', 'longtail', 'cold']) {
        const [x, y] = [m[slice].auc.mean, r2.variants[v][slice].auc.mean];
        if (Number.isFinite(x)) worst = Math.max(worst, Math.abs(x - y));
        assert.ok(!Number.isFinite(x) || Math.abs(x - y) <= 0.002, `${v} ${slice} AUC ${y} vs ${x}`);
      }
    }
    console.log(`      largest test AUC difference over variants and slices: ${worst.toExponential(2)}`);
  });

  it('`qarm quantize --codebooks` under mpirun: rank r encodes shard r of N, and the shards concatenate to the one-process codes', () => {
    // The codebooks (RQ and the VQ pool) and codes of the one-process fit of the quantize test above.
    const fitted = join(tmp, 'quantize', 'one');
    assert.ok(existsSync(join(fitted, 'rq.safetensors')), 'needs the quantize test above');
    const emb = join(tmp, 'emb.npy');
    const out = join(tmp, 'encode-mpi');
    const args = ['quantize', '--input', emb, '--codebooks', join(fitted, 'rq.safetensors'), join(fitted, 'vq.safetensors'), '--no-progress', '--out', out];
    const r = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', '3', process.execPath, CLI, ...args], {
      encoding: 'utf8',
      env: cleanEnv(tmp),
      timeout: 300000,
    });
    assert.equal(r.status, 0, `mpirun failed (${r.status}, ${r.signal}):\n${r.stdout}\n${r.stderr}`);
    for (const name of ['rq_codes', 'vq_codes']) {
      const whole = q.readNpy(join(fitted, `${name}.npy`));
      const parts = [0, 1, 2].map((k) => q.readNpy(join(out, `${name}-0000${k}-of-00003.npy`)));
      assert.deepEqual(
        parts.map((t) => t.shape[0]),
        [500, 500, 501],
      );
      const joined = parts.flatMap((t) => Array.from(t.i32()));
      assert.deepEqual(joined, Array.from(whole.i32()), `${name}: the 3 ranks' shards = the one-process codes`);
    }
    for (let k = 0; k < 3; k++) {
      const meta = json(out, `shard-0000${k}-of-00003.json`);
      assert.equal(meta.worldSize, 3);
      assert.deepEqual(meta.shard, { index: k, count: 3, source: 'mpi' });
    }
    // A shard named twice (flags and the rank) is refused on every rank, before anything is written.
    const twice = join(tmp, 'encode-mpi-twice');
    const bad = [...args.slice(0, -1), twice, '--shard-index', '0', '--num-shards', '2'];
    const t = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', '2', process.execPath, CLI, ...bad], {
      encoding: 'utf8',
      env: cleanEnv(tmp),
      timeout: 300000,
    });
    assert.notEqual(t.status, 0, `ran with both:\n${t.stdout}`);
    assert.match(t.stderr, /--shard-index\/--num-shards names a shard, but under mpirun each of the 2 ranks encodes its own shard/);
    assert.ok(!existsSync(twice), `a rank wrote ${twice}`);
  });
});
