// The `qarm` CLI: `run --quick` end to end (structure and sanity of the outputs, not values),
// and one clear error line (no stack trace) for bad folders, configs and output paths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'qarm-cli-'));

function qarm(args, opts = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300000, ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exactly one error line, no stack frames. */
function assertCleanError(r, pattern) {
  assert.notEqual(r.code, 0, 'non-zero exit');
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.err}`);
  assert.match(lines[0], /^qarm: error: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}

describe('qarm CLI', function () {
  this.timeout(300000);

  it('prints help for the program and every subcommand', () => {
    const top = qarm(['--help']);
    assert.equal(top.code, 0);
    for (const c of ['run', 'align', 'quantize', 'train', 'eval']) {
      assert.match(top.out, new RegExp(`\\b${c}\\b`));
      const sub = qarm([c, '--help']);
      assert.equal(sub.code, 0, `${c} --help`);
      assert.match(sub.out, /Usage: qarm /);
    }
  });

  it('rejects a missing --data folder, a folder without data files, and a file', () => {
    assertCleanError(qarm(['run', '--quick', '--data', join(tmp, 'nope'), '--out', join(tmp, 'o1')]), /does not exist/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    assertCleanError(qarm(['run', '--quick', '--data', empty, '--out', join(tmp, 'o2')]), /items\.csv|interactions\.csv/);
    const file = join(tmp, 'file.txt');
    writeFileSync(file, 'x');
    assertCleanError(qarm(['run', '--quick', '--data', file, '--out', join(tmp, 'o3')]), /not a folder/);
  });

  it('rejects bad configs with the offending key', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ranker: { lr: 'fast' } }));
    assertCleanError(qarm(['run', '--quick', '--config', bad, '--out', join(tmp, 'o4')]), /ranker\.lr/);
    writeFileSync(bad, JSON.stringify({ ranker: { itemIdDropout: 1 } }));
    assertCleanError(qarm(['run', '--quick', '--config', bad, '--out', join(tmp, 'o4')]), /ranker\.itemIdDropout/);
    writeFileSync(bad, JSON.stringify({ rnaker: {} }));
    assertCleanError(qarm(['run', '--config', bad]), /rnaker/);
    writeFileSync(bad, '{ not json');
    assertCleanError(qarm(['run', '--config', bad]), /not valid JSON/);
    writeFileSync(bad, JSON.stringify({ variants: ['id', 'magic'] }));
    assertCleanError(qarm(['run', '--config', bad]), /magic/);
    assertCleanError(qarm(['run', '--config', join(tmp, 'missing.json')]), /cannot read config/);
  });

  it('rejects an unwritable --out and bad flags', () => {
    const file = join(tmp, 'plain-file');
    writeFileSync(file, 'x');
    assertCleanError(qarm(['run', '--quick', '--out', join(file, 'sub')]), /cannot write to output folder/);
    const r = qarm(['run', '--seeds', 'abc']);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.err, /\n\s+at /);
    for (const bad of ['0', '1.5', '1,,0.5', 'half', '-0.5']) {
      const f = qarm(['run', '--quick', '--train-fraction', bad, '--out', join(tmp, 'o5')]);
      assert.notEqual(f.code, 0, bad);
      assert.match(f.err, /fractions in \(0, 1\]/, bad);
      assert.doesNotMatch(f.err, /\n\s+at /);
    }
  });

  it('quantizes an embeddings file into RQ and VQ codes', () => {
    const out = join(tmp, 'codes');
    // A small float32 .npy written by hand: 40 rows x 6.
    const n = 40,
      d = 6;
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = header + ' '.repeat(pad) + '\n';
    const buf = Buffer.alloc(10 + h.length + 4 * n * d);
    buf.write('\x93NUMPY', 0, 'latin1');
    buf[6] = 1;
    buf[7] = 0;
    buf.writeUInt16LE(h.length, 8);
    buf.write(h, 10, 'latin1');
    for (let i = 0; i < n * d; i++) buf.writeFloatLE(Math.sin(i * 1.7) + (i % d), 10 + h.length + 4 * i);
    const file = join(tmp, 'emb.npy');
    writeFileSync(file, buf);
    const r = qarm(['quantize', '--input', file, '--out', out, '--levels', '2', '--codebook-size', '4', '--vq-k', '3', '--no-progress']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /level 1: used \d+\/4/);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8'));
    assert.equal(stats.rq.levels.length, 2);
    assert.equal(stats.worldSize, 1);
    assert.ok(existsSync(join(out, 'rq_codes.npy')) && existsSync(join(out, 'vq_codes.npy')));
    assertCleanError(qarm(['quantize', '--input', join(tmp, 'none.npy')]), /does not exist/);
  });

  it('runs `qarm run --quick` end to end: results.json with every variant, slice and metric in range, and report.html', () => {
    const out = join(tmp, 'quick');
    const t0 = Date.now();
    const r = qarm(['run', '--quick', '--out', out], { env: { ...process.env, QARM_CACHE_DIR: join(tmp, 'cache') } });
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    for (const v of ['id', 'id+content', 'id+aligned', 'id+rq-raw', 'qarm']) {
      for (const s of ['all', 'warm', 'longtail', 'cold']) {
        for (const m of ['auc', 'gauc', 'logloss']) {
          const st = res.variants[v][s][m];
          assert.equal(st.values.length, res.seeds.length, `${v}.${s}.${m}`);
          const lo = m === 'logloss' ? 0 : 0.3,
            hi = m === 'logloss' ? 2 : 1;
          assert.ok(st.mean >= lo && st.mean <= hi, `${v}.${s}.${m} = ${st.mean}`);
          assert.ok(st.std >= 0);
        }
      }
    }
    // The sanity check of the protocol: id knows nothing about cold items.
    for (const g of res.variants.id.cold.gauc.values) assert.equal(g, 0.5);
    assert.ok(res.wallSeconds > 0 && res.wallSeconds <= (Date.now() - t0) / 1000 + 1);
    assert.ok(res.codes.length >= 1 && res.codes[0].utilisation.length >= 1);
    assert.ok(res.config && res.config.quick === true);
    assert.equal(res.worldSize, 1);
    // The long-tail slice is a part of the warm one, and paired differences are per-seed qarm − variant.
    assert.ok(
      res.testSamples.longtail > 0 && res.testSamples.longtail < res.testSamples.warm && res.testSamples.warm + res.testSamples.cold === res.testSamples.all,
      JSON.stringify(res.testSamples),
    );
    assert.deepEqual(
      Object.keys(res.paired).sort(),
      Object.keys(res.variants)
        .filter((v) => v !== 'qarm')
        .sort(),
    );
    assert.ok(Object.keys(res.paired).length >= 4);
    for (const v of Object.keys(res.paired))
      for (const s of ['all', 'warm', 'longtail', 'cold'])
        for (const m of ['auc', 'gauc']) {
          const d = res.variants.qarm[s][m].values.map((x, k) => x - res.variants[v][s][m].values[k]);
          assert.deepEqual(res.paired[v][s][m].values, d, `${v}.${s}.${m}`);
          assert.ok(Math.abs(res.paired[v][s][m].mean - (d[0] + d[1]) / 2) < 1e-12);
          assert.ok(Math.abs(res.paired[v][s][m].std - Math.abs(d[0] - d[1]) / Math.SQRT2) < 1e-12, 'two seeds: std = |d1 − d2| / √2');
        }
    assert.match(r.out, /\| qarm − variant \(auc, per seed\) \| all \| warm \| longtail \| cold \|/);
    assert.equal(res.curve, undefined, 'no curve unless asked');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /qarm run/);
    assert.doesNotMatch(html, /<script/);
    assert.match(r.out, /\| qarm \|/);
    // `qarm eval` reads a run folder back.
    const ev = qarm(['eval', '--model', out, '--split', 'validation']);
    assert.equal(ev.code, 0, ev.err);
    assert.equal(ev.out.trim().split('\n').length, 2 + res.config.variants.length);
    assertCleanError(qarm(['eval', '--model', join(tmp, 'nowhere')]), /no results\.json/);
  });

  it('`qarm run --quick --train-fraction 1,0.5`: a data-efficiency curve whose full point is the main run', () => {
    const out = join(tmp, 'curve');
    const r = qarm(['run', '--quick', '--variants', 'id,id+aligned,qarm', '--train-fraction', '0.5,1', '--out', out], {
      env: { ...process.env, QARM_CACHE_DIR: join(tmp, 'cache') },
    });
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(res.worldSize, 1);
    assert.deepEqual(
      res.curve.map((c) => c.fraction),
      [1, 0.5],
      'descending',
    );
    const [full, half] = res.curve;
    const slices = ['all', 'warm', 'longtail', 'cold'];
    for (const v of ['id', 'id+aligned', 'qarm'])
      for (const s of slices) assert.deepEqual(full.variants[v][s].auc, res.variants[v][s].auc, `fraction 1 = main run: ${v}.${s}`);
    assert.deepEqual(full.testSamples, res.testSamples);
    // Half the training users: fewer training samples and warm items, the same test samples,
    // more of them cold.
    assert.ok(half.trainSamples < full.trainSamples && half.trainSamples > 0.3 * full.trainSamples, `${half.trainSamples} vs ${full.trainSamples}`);
    assert.ok(half.warmItems < full.warmItems);
    assert.equal(half.testSamples.all, full.testSamples.all);
    assert.ok(half.testSamples.cold > full.testSamples.cold);
    for (const v of ['id', 'id+aligned', 'qarm'])
      for (const s of slices) {
        const st = half.variants[v][s].auc;
        assert.equal(st.values.length, 2);
        assert.ok(st.mean > 0.3 && st.mean < 1, `${v}.${s} ${st.mean}`);
      }
    assert.notDeepEqual(half.variants.qarm.all.auc.values, full.variants.qarm.all.auc.values);
    for (const v of ['id', 'id+aligned'])
      for (const s of slices) {
        assert.deepEqual(
          half.paired[v][s].auc.values,
          half.variants.qarm[s].auc.values.map((x, k) => x - half.variants[v][s].auc.values[k]),
        );
      }
    assert.ok(half.seconds > 0 && res.timings.curve >= half.seconds && full.seconds === 0);
    assert.match(r.out, /\| 0\.5 \| qarm \|/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const at = html.indexOf('<h2>Data efficiency');
    assert.ok(at > 0);
    assert.equal((html.slice(at, html.indexOf('<h2>', at + 4)).match(/<svg /g) ?? []).length, 3);
  });

  it('`qarm eval` scores a `qarm train` checkpoint afresh and matches the metrics of the training run', () => {
    const out = join(tmp, 'trained');
    const env = { env: { ...process.env, QARM_CACHE_DIR: join(tmp, 'cache') } };
    const r = qarm(['train', '--quick', '--variant', 'qarm', '--seed', '2', '--out', out], env);
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(join(out, 'model.json')) && existsSync(join(out, 'qarm-items-rq.npy')));
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const ev = qarm(['eval', '--model', out, '--split', 'test'], env);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, /from the saved checkpoints/);
    const row = ev.out
      .split('\n')
      .find((l) => l.startsWith('| qarm |'))
      .split('|')
      .map((c) => c.trim());
    // Columns: all auc, all gauc, all logloss, warm ..., longtail ..., cold ...
    assert.equal(row[2], `${res.variants.qarm.all.auc.mean.toFixed(4)} ± 0.0000`);
    assert.equal(row[8], `${res.variants.qarm.longtail.auc.mean.toFixed(4)} ± 0.0000`);
    assert.equal(row[11], `${res.variants.qarm.cold.auc.mean.toFixed(4)} ± 0.0000`);
    assert.equal(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).worldSize, 1);
  });
});
