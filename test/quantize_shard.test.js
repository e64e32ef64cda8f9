// Sharded code assignment (`qarm quantize --codebooks`): shards concatenated in index order give
// exactly the codes of one `qarm quantize` process; job-array shard resolution; row-range
// reads of .npy files; and every bad codebook file or mismatched input rejected by name.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, truncateSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { q, assert, randArray } from './helpers.js';
import { resolveShard, shardRows, shardFileName } from '../dist/pipeline/shard.js';
import { loadCodebooks } from '../dist/pipeline/codebooks.js';
import { encodeShardCommand } from '../dist/pipeline/encode_shard.js';
import { readNpyRows, readNpyHeader } from '../dist/data/npy_rows.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
function qarm(args, env = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(JOB_COMPLETION_INDEX|SLURM_ARRAY_)/.test(k)));
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120000, env: { ...clean, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function cleanError(r, pattern) {
  assert.notEqual(r.code, 0, 'non-zero exit');
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /^qarm: error: /);
  assert.match(lines[0], pattern);
}
function rejects(f, Cls, argument, pattern) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.equal(e.argument, argument, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}
const ints = (file) => Array.from(q.readNpy(file).i32());

let root, emb, whole;
const N = 1001,
  D = 13,
  K = 4;

describe('qarm quantize --codebooks: sharded code assignment', function () {
  this.timeout(120000);
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'qarm-shard-'));
    // Clustered rows (so codes are not decided by float noise) plus duplicates: rows 7 and 8
    // equal row 6, so VQ self-exclusion and tie order are exercised.
    const x = randArray(N * D, 5, 0.05);
    const centres = randArray(9 * D, 6);
    for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) x[i * D + j] += centres[(i % 9) * D + j];
    for (const r of [7, 8]) x.copyWithin(r * D, 6 * D, 7 * D);
    emb = join(root, 'emb.npy');
    q.writeNpy(emb, q.tensor(x, [N, D]));
    const pool = q.Tensor.fromArray(
      Int32Array.from({ length: N }, (_, i) => (i % 4 === 1 ? 0 : 1)),
      [N],
      'int32',
    );
    q.writeNpy(join(root, 'pool.npy'), pool);
    whole = join(root, 'whole');
    const r = qarm([
      'quantize',
      '--input',
      emb,
      '--pool',
      join(root, 'pool.npy'),
      '--out',
      whole,
      '--levels',
      '3',
      '--codebook-size',
      '8',
      '--vq-k',
      String(K),
      '--no-progress',
    ]);
    assert.equal(r.code, 0, r.err);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  function concat(dir, name, count) {
    const out = [];
    for (let i = 0; i < count; i++) out.push(...ints(join(dir, shardFileName(name, 'npy', { index: i, count }))));
    return out;
  }

  it('two shards (flags) concatenated equal the one-process codes exactly; offsets let the parts be placed', () => {
    const dir = join(root, 'two');
    for (const i of [0, 1]) {
      const r = qarm(['quantize', '--codebooks', whole, '--input', emb, '--out', dir, '--shard-index', String(i), '--num-shards', '2']);
      assert.equal(r.code, 0, r.err);
    }
    const rq = ints(join(whole, 'rq_codes.npy'));
    const vq = ints(join(whole, 'vq_codes.npy'));
    assert.equal(rq.length, N * 3);
    assert.deepEqual(concat(dir, 'rq_codes', 2), rq);
    assert.deepEqual(concat(dir, 'vq_codes', 2), vq);
    const meta = [0, 1].map((i) => JSON.parse(readFileSync(join(dir, shardFileName('shard', 'json', { index: i, count: 2 })), 'utf8')));
    assert.deepEqual(
      meta.map((m) => [m.rowOffset, m.rows, m.inputRows, m.shard.source]),
      [
        [0, 500, N, 'flags'],
        [500, 501, N, 'flags'],
      ],
    );
    // Each row's VQ code names input rows of the pool, never the row itself.
    for (let i = 0; i < N; i++)
      for (let j = 0; j < K; j++) {
        const c = vq[i * K + j];
        assert.ok(c !== i && c % 4 !== 1, `row ${i} code ${c}`);
      }
  });

  it('Slurm array tasks (ids 1..3) and Kubernetes indexes resolve from the environment to the same codes', () => {
    const dir = join(root, 'slurm');
    for (const id of [1, 2, 3]) {
      const r = qarm(['quantize', '--codebooks', join(whole, 'rq.safetensors'), join(whole, 'vq.safetensors'), '--input', emb, '--out', dir], {
        SLURM_ARRAY_TASK_ID: String(id),
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_COUNT: '3',
      });
      assert.equal(r.code, 0, r.err);
    }
    assert.deepEqual(concat(dir, 'rq_codes', 3), ints(join(whole, 'rq_codes.npy')));
    assert.deepEqual(concat(dir, 'vq_codes', 3), ints(join(whole, 'vq_codes.npy')));
    const k8s = join(root, 'k8s');
    for (const i of [0, 1, 2, 3, 4, 5, 6]) {
      encodeShardCommand({ input: emb, out: k8s, codebooks: [join(whole, 'rq.safetensors')], numShards: 7 }, { JOB_COMPLETION_INDEX: String(i) });
    }
    assert.deepEqual(concat(k8s, 'rq_codes', 7), ints(join(whole, 'rq_codes.npy')));
    const m = JSON.parse(readFileSync(join(k8s, 'shard-00006-of-00007.json'), 'utf8'));
    assert.deepEqual([m.rowOffset, m.rows, m.shard.source, m.codebooks.vq], [858, 143, 'JOB_COMPLETION_INDEX', undefined]);
  });

  it('more shards than rows: empty shards are written as [0, L] and the rest still concatenate', () => {
    const small = join(root, 'small.npy');
    q.writeNpy(small, q.tensor(randArray(3 * D, 9), [3, D]));
    const lib = join(root, 'small-codes');
    assert.equal(qarm(['quantize', '--input', small, '--out', lib, '--levels', '2', '--codebook-size', '2', '--vq-k', '1', '--no-progress']).code, 0);
    const dir = join(root, 'small-shards');
    const offsets = [];
    for (let i = 0; i < 5; i++) offsets.push(encodeShardCommand({ input: small, out: dir, codebooks: [lib], shardIndex: i, numShards: 5 }, {}));
    assert.deepEqual(
      offsets.map((o) => [o.rowOffset, o.rows]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
        [2, 1],
      ],
    );
    assert.deepEqual(q.readNpy(join(dir, 'rq_codes-00000-of-00005.npy')).shape, [0, 2]);
    assert.deepEqual(concat(dir, 'rq_codes', 5), ints(join(lib, 'rq_codes.npy')));
    assert.deepEqual(concat(dir, 'vq_codes', 5), ints(join(lib, 'vq_codes.npy')));
  });

  it('resolves the shard from flags, JOB_COMPLETION_INDEX and SLURM_ARRAY_* with flags first', () => {
    assert.deepEqual(resolveShard({}, {}), { index: 0, count: 1, source: 'default' });
    assert.deepEqual(resolveShard({ shardIndex: 2, numShards: 3 }, { JOB_COMPLETION_INDEX: '0' }), { index: 2, count: 3, source: 'flags' });
    assert.deepEqual(resolveShard({ numShards: 8 }, { JOB_COMPLETION_INDEX: '5' }), { index: 5, count: 8, source: 'JOB_COMPLETION_INDEX' });
    assert.deepEqual(resolveShard({}, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '5' }), { index: 4, count: 5, source: 'SLURM_ARRAY_TASK_ID' });
    assert.deepEqual(resolveShard({}, { SLURM_ARRAY_TASK_ID: '14', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_STEP: '4', SLURM_ARRAY_TASK_COUNT: '4' }), {
      index: 3,
      count: 4,
      source: 'SLURM_ARRAY_TASK_ID',
    });
    assert.deepEqual(resolveShard({ numShards: 1 }, {}), { index: 0, count: 1, source: 'flags' });
    rejects(() => resolveShard({}, { JOB_COMPLETION_INDEX: '3' }), q.ValueError, 'numShards', /--num-shards is required: JOB_COMPLETION_INDEX=3/);
    rejects(() => resolveShard({ shardIndex: 1 }, {}), q.ValueError, 'numShards', /--num-shards is required/);
    rejects(() => resolveShard({ numShards: 4 }, {}), q.ValueError, 'shardIndex', /--shard-index is required/);
    rejects(
      () => resolveShard({ numShards: 4 }, { JOB_COMPLETION_INDEX: '4' }),
      q.ValueError,
      'shardIndex',
      /shard index 4 \(from JOB_COMPLETION_INDEX\) must be smaller than .* 4/,
    );
    rejects(() => resolveShard({}, { JOB_COMPLETION_INDEX: 'x' }), q.ValueError, 'JOB_COMPLETION_INDEX', /not a non-negative integer/);
    rejects(
      () => resolveShard({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '4' }),
      q.ValueError,
      'shardIndex',
      /not on the array's grid/,
    );
    rejects(() => resolveShard({ shardIndex: 0, numShards: 0 }, {}), q.ValueError, 'numShards', /positive integer/);
    rejects(() => resolveShard({ shardIndex: -1, numShards: 2 }, {}), q.ValueError, 'shardIndex', /non-negative integer/);
  });

  it('shard row ranges tile [0, N) in order, sizes differing by at most one', () => {
    for (const n of [0, 1, 3, 17, 1000, 1001])
      for (const c of [1, 2, 3, 7, 64]) {
        let next = 0;
        const sizes = [];
        for (let i = 0; i < c; i++) {
          const [a, b] = shardRows(n, i, c);
          assert.equal(a, next);
          sizes.push(b - a);
          next = b;
        }
        assert.equal(next, n);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${n}/${c}: ${sizes}`);
      }
  });

  it('readNpyRows reads exactly the rows asked for, and rejects truncated files and bad ranges', () => {
    const t = q.readNpy(emb).f32();
    for (const [a, b] of [
      [0, 0],
      [0, 1],
      [500, 501],
      [17, 640],
      [0, N],
      [N, N],
    ]) {
      const r = readNpyRows(emb, a, b);
      assert.deepEqual(r.shape, [b - a, D]);
      assert.deepEqual(Array.from(r.f32()), Array.from(t.subarray(a * D, b * D)));
    }
    assert.deepEqual(readNpyHeader(emb), { dtype: 'float32', shape: [N, D] });
    rejects(() => readNpyRows(emb, 5, 4, 'input'), q.ValueError, 'input', /rows \[5, 4\) are outside the 1001 rows/);
    rejects(() => readNpyRows(emb, 0, N + 1, 'input'), q.ValueError, 'input', /outside/);
    const cut = join(root, 'cut.npy');
    copyFileSync(emb, cut);
    truncateSync(cut, 128 + 4 * N * D - 4);
    rejects(() => readNpyRows(cut, 0, 1, 'input'), q.IOError, 'input', /cut\.npy.*truncated data/);
    rejects(() => readNpyHeader(join(root, 'none.npy'), 'input'), q.IOError, 'input', /none\.npy/);
  });
});

describe('qarm quantize --codebooks: bad codebooks and inputs', function () {
  this.timeout(120000);
  let dir, rqFile, vqFile;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qarm-cb-'));
    const x = q.tensor(randArray(40 * 6, 3), [40, 6]);
    q.writeNpy(join(dir, 'x.npy'), x);
    const r = qarm([
      'quantize',
      '--input',
      join(dir, 'x.npy'),
      '--out',
      join(dir, 'fit'),
      '--levels',
      '2',
      '--codebook-size',
      '4',
      '--vq-k',
      '3',
      '--no-progress',
    ]);
    assert.equal(r.code, 0, r.err);
    rqFile = join(dir, 'fit', 'rq.safetensors');
    vqFile = join(dir, 'fit', 'vq.safetensors');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Rewrites a codebook file with some tensors/metadata changed. */
  function variant(name, src, edit) {
    const { tensors, metadata } = q.readSafetensors(src);
    edit(tensors, metadata);
    const p = join(dir, name);
    q.writeSafetensors(p, tensors, metadata);
    return p;
  }
  const ioErr = (paths, pattern) => rejects(() => loadCodebooks(paths), q.IOError, 'codebooks', pattern);

  it('loads back what a normal qarm quantize saved (RQ and VQ), by file or by folder', () => {
    const a = loadCodebooks([join(dir, 'fit')]);
    assert.equal(a.dim, 6);
    assert.equal(a.rq.model.levels, 2);
    assert.deepEqual(a.rq.model.codebookSizes, [4, 4]);
    assert.equal(a.vq.pool.k, 3);
    assert.equal(a.vq.pool.inputRows, 40);
    assert.deepEqual(
      Array.from(a.vq.pool.rows),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.deepEqual(Array.from(a.vq.pool.pool.f32()), Array.from(q.readNpy(join(dir, 'x.npy')).f32()));
    const b = loadCodebooks([vqFile]);
    assert.equal(b.rq, undefined);
    assert.equal(b.dim, 6);
  });

  it('missing, corrupt and foreign files -> IOError naming --codebooks and the file', () => {
    ioErr([join(dir, 'nope.safetensors')], /--codebooks .*nope\.safetensors does not exist/);
    mkdirSync(join(dir, 'emptydir'));
    ioErr([join(dir, 'emptydir')], /emptydir holds neither rq\.safetensors nor vq\.safetensors/);
    writeFileSync(join(dir, 'junk.safetensors'), 'this is not a safetensors file at all');
    ioErr([join(dir, 'junk.safetensors')], /--codebooks .*junk\.safetensors.*not a valid safetensors/);
    const cut = join(dir, 'cut.safetensors');
    copyFileSync(rqFile, cut);
    truncateSync(cut, readFileSync(rqFile).length - 8);
    ioErr([cut], /cut\.safetensors.*(truncated|beyond|bytes)/);
    ioErr([join(dir, 'x.npy')], /x\.npy/);
    ioErr(
      [
        variant('foreign.safetensors', rqFile, (t, m) => {
          m.format = 'pt';
        }),
      ],
      /foreign\.safetensors: not a qarm codebook file \(metadata format "pt"/,
    );
  });

  it('missing or ill-shaped tensors and bad configs -> IOError naming the tensor', () => {
    ioErr(
      [
        variant('rq-missing.safetensors', rqFile, (t) => {
          delete t.codebook_1;
        }),
      ],
      /rq-missing\.safetensors.*codebook_1 is missing or not float32 \[4, 6\]/,
    );
    ioErr(
      [
        variant('rq-shape.safetensors', rqFile, (t) => {
          t.codebook_0 = q.tensor(randArray(4 * 5, 1), [4, 5]);
        }),
      ],
      /codebook_0 is missing or not float32 \[4, 6\]/,
    );
    ioErr(
      [
        variant('rq-nan.safetensors', rqFile, (t) => {
          const a = Float32Array.from(t.codebook_1.f32());
          a[13] = NaN;
          t.codebook_1 = q.tensor(a, [4, 6]);
        }),
      ],
      /rq-nan\.safetensors: codebook_1 row 2 holds NaN/,
    );
    ioErr(
      [
        variant('rq-cfg.safetensors', rqFile, (t, m) => {
          m.config = '{';
        }),
      ],
      /config' is not valid JSON/,
    );
    ioErr(
      [
        variant('vq-missing.safetensors', vqFile, (t) => {
          delete t.pool;
        }),
      ],
      /vq-missing\.safetensors: tensor 'pool' is missing/,
    );
    ioErr(
      [
        variant('vq-rows.safetensors', vqFile, (t) => {
          t.rows = q.Tensor.fromArray(new Int32Array(39), [39], 'int32');
        }),
      ],
      /tensor 'rows' is missing or not int32 \[40\]/,
    );
    ioErr(
      [
        variant('vq-order.safetensors', vqFile, (t) => {
          const r = Int32Array.from(t.rows.i32());
          r[5] = 3;
          t.rows = q.Tensor.fromArray(r, [40], 'int32');
        }),
      ],
      /'rows' must ascend within \[0, 40\), entry 5 is 3/,
    );
    ioErr(
      [
        variant('vq-k.safetensors', vqFile, (t, m) => {
          m.config = JSON.stringify({ k: 40, metric: 'cosine', inputRows: 40 });
        }),
      ],
      /config k 40 must be an integer in \[1, 39\]/,
    );
    ioErr(
      [
        variant('vq-input.safetensors', vqFile, (t, m) => {
          m.config = JSON.stringify({ k: 3, metric: 'cosine', inputRows: 10 });
        }),
      ],
      /inputRows 10 must be an integer >= the 40 pool rows/,
    );
    ioErr(
      [
        variant('vq-nan.safetensors', vqFile, (t) => {
          const a = Float32Array.from(t.pool.f32());
          a[6 * 7] = Infinity;
          t.pool = q.tensor(a, [40, 6]);
        }),
      ],
      /'pool' row 7 holds Infinity/,
    );
  });

  it('two files of one kind, or RQ and VQ of different dims -> ValueError', () => {
    rejects(() => loadCodebooks([rqFile, rqFile]), q.ValueError, 'codebooks', /two RQ codebook files/);
    rejects(() => loadCodebooks([join(dir, 'fit'), vqFile]), q.ValueError, 'codebooks', /two VQ pool files/);
    const vq5 = variant('vq5.safetensors', vqFile, (t) => {
      t.pool = q.tensor(randArray(40 * 5, 2), [40, 5]);
    });
    rejects(() => loadCodebooks([rqFile, vq5]), q.ValueError, 'codebooks', /RQ codebooks have dim 6 but the VQ pool has dim 5/);
  });

  it('an input whose dim or row count does not match the codebooks -> ValueError naming --input', () => {
    const wrongDim = join(dir, 'x7.npy');
    q.writeNpy(wrongDim, q.tensor(randArray(40 * 7, 3), [40, 7]));
    rejects(
      () => encodeShardCommand({ input: wrongDim, out: join(dir, 'o1'), codebooks: [rqFile] }, {}),
      q.ValueError,
      'input',
      /has dim 7, the codebooks have 6/,
    );
    const moreRows = join(dir, 'x41.npy');
    q.writeNpy(moreRows, q.tensor(randArray(41 * 6, 3), [41, 6]));
    rejects(
      () => encodeShardCommand({ input: moreRows, out: join(dir, 'o2'), codebooks: [vqFile] }, {}),
      q.ValueError,
      'input',
      /has 41 rows, but the VQ pool's codes name rows of a 40-row input/,
    );
    // RQ alone encodes any rows of the right dim.
    assert.equal(encodeShardCommand({ input: moreRows, out: join(dir, 'o3'), codebooks: [rqFile] }, {}).rows, 41);
    const ints32 = join(dir, 'i.npy');
    q.writeNpy(ints32, q.Tensor.fromArray(new Int32Array(40 * 6), [40, 6], 'int32'));
    rejects(() => encodeShardCommand({ input: ints32, out: join(dir, 'o4'), codebooks: [rqFile] }, {}), q.ValueError, 'input', /expected float32 \[N, D\]/);
    const nan = join(dir, 'nan.npy');
    const a = randArray(40 * 6, 3);
    a[6 * 33 + 2] = NaN;
    q.writeNpy(nan, q.tensor(a, [40, 6]));
    rejects(
      () => encodeShardCommand({ input: nan, out: join(dir, 'o5'), codebooks: [rqFile], shardIndex: 1, numShards: 2 }, {}),
      q.ValueError,
      'input',
      /row 33, column 2 is NaN/,
    );
  });

  it('the CLI refuses fit flags with --codebooks and shard flags without it, in one line', () => {
    cleanError(
      qarm(['quantize', '--codebooks', rqFile, '--input', join(dir, 'x.npy'), '--levels', '3']),
      /--levels fits codebooks, but --codebooks fits nothing/,
    );
    cleanError(qarm(['quantize', '--input', join(dir, 'x.npy'), '--shard-index', '1', '--no-progress']), /--shard-index needs --codebooks/);
    cleanError(qarm(['quantize', '--codebooks', join(dir, 'none'), '--input', join(dir, 'x.npy')]), /--codebooks .*none does not exist/);
    cleanError(
      qarm(['quantize', '--codebooks', rqFile, '--input', join(dir, 'x.npy'), '--num-shards', '3'], { JOB_COMPLETION_INDEX: '3' }),
      /shard index 3 \(from JOB_COMPLETION_INDEX\)/,
    );
    const neg = qarm(['quantize', '--codebooks', rqFile, '--input', join(dir, 'x.npy'), '--shard-index', '-1', '--num-shards', '3']);
    assert.notEqual(neg.code, 0);
    assert.match(neg.err, /--shard-index must be a non-negative integer/); // commander's own usage error
  });
});
