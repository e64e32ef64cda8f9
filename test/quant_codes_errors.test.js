// The code-side quantisers' edges: nearest's, vqCodes', codeStats', disambiguate's and RQKMeans'
// argument checks (typed error, the argument named, the whole message; each limit accepted and
// one past it rejected), RQKMeans' level seeds against a kmeans reference, its file checks, and
// the tensors encode/decode leave behind. Written for the survivors of the quant-codes mutation
// run (bench/results/mutation.md).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as q from '../dist/index.js';
import { readSafetensors, writeSafetensors } from '../dist/data/safetensors.js';
import { throwsArg } from './support/throws_arg.js';
import { NOT_COMMUNICATORS, oneRank } from './support/communicators.js';

/** float32 [n, d] of distinct, irregular rows. */
function rows(n, d, salt = 0) {
  return q.tensor(
    Float32Array.from({ length: n * d }, (_, j) => Math.sin(1.7 * j + salt) * 3 + (j % 5) * 0.25),
    [n, d],
  );
}
const codes = (a, n, L) => q.tensor(Int32Array.from(a), [n, L], 'int32');
const vec = (t) => Array.from(t.toTypedArray());

describe('quant-codes edges: nearest', () => {
  it('x and codebook: a Tensor, float32, 2-D, not empty; the same dim', () => {
    const cb = rows(4, 3);
    for (const [name, call] of [
      ['x', (t) => q.nearest(t, cb)],
      ['codebook', (t) => q.nearest(rows(2, 3), t)],
    ]) {
      throwsArg(() => call([[1, 2, 3]]), q.ValueError, name, new RegExp(`^argument '${name}' must be a Tensor$`));
      throwsArg(
        () => call(q.tensor(Int32Array.of(1, 2, 3), [1, 3], 'int32')),
        q.DTypeError,
        name,
        new RegExp(`^argument '${name}' must be float32, got int32$`),
      );
      throwsArg(
        () => call(q.tensor(Float32Array.of(1, 2, 3), [3])),
        q.ShapeError,
        name,
        new RegExp(`^argument '${name}' must be 2-D \\[rows, dim\\], got \\[3\\]$`),
      );
      throwsArg(
        () => call(q.tensor(new Float32Array(6), [1, 2, 3])),
        q.ShapeError,
        name,
        new RegExp(`^argument '${name}' must be 2-D \\[rows, dim\\], got \\[1, 2, 3\\]$`),
      );
      throwsArg(() => call(q.tensor(new Float32Array(0), [0, 3])), q.ValueError, name, new RegExp(`^argument '${name}' is empty \\(\\[0, 3\\]\\)$`));
      throwsArg(() => call(q.tensor(new Float32Array(0), [2, 0])), q.ValueError, name, new RegExp(`^argument '${name}' is empty \\(\\[2, 0\\]\\)$`));
    }
    throwsArg(() => q.nearest(rows(2, 5), cb), q.ShapeError, 'codebook', /^argument 'codebook' has dim 3 but 'x' has dim 5$/);
  });

  it('k: an integer in [1, codebook rows]; metric: l2, ip or cosine', () => {
    const x = rows(3, 2);
    const cb = rows(4, 2, 1);
    for (const k of [0, -1, 5, 1.5, NaN]) {
      throwsArg(() => q.nearest(x, cb, { k }), q.IndexError, 'k', new RegExp(`^argument 'k' must be an integer in \\[1, 4\\] \\(codebook rows\\), got ${k}$`));
    }
    assert.deepEqual(q.nearest(x, cb, { k: 4 }).indices.shape, [3, 4]);
    throwsArg(() => q.nearest(x, cb, { metric: 'dot' }), q.ValueError, 'metric', /^argument 'metric' must be one of l2, ip, cosine, got dot$/);
  });
});

describe('quant-codes edges: vqCodes', () => {
  it('excludeSelf needs x and pool with the same rows and k <= pool rows - 1', () => {
    const pool = rows(5, 3);
    throwsArg(
      () => q.vqCodes(rows(4, 3), pool, { k: 2, excludeSelf: true }),
      q.ShapeError,
      'pool',
      /^excludeSelf needs 'x' and 'pool' with the same rows, got 4 and 5$/,
    );
    // Without excludeSelf, other rows are fine.
    assert.deepEqual(q.vqCodes(rows(4, 3), pool, { k: 2 }).shape, [4, 2]);
    for (const k of [0, 5, 1.5]) {
      throwsArg(
        () => q.vqCodes(pool, pool, { k, excludeSelf: true }),
        q.ValueError,
        'k',
        new RegExp(`^argument 'k' must be in \\[1, 4\\] with excludeSelf, got ${k}$`),
      );
    }
    const c = vec(q.vqCodes(pool, pool, { k: 4, excludeSelf: true, metric: 'l2' }));
    for (let i = 0; i < 5; i++)
      assert.deepEqual(
        [...c.slice(i * 4, i * 4 + 4)].sort(),
        [0, 1, 2, 3, 4].filter((j) => j !== i),
      );
  });
});

describe('quant-codes edges: code tables', () => {
  it('codes: a Tensor, int32, 2-D (codeStats and disambiguate)', () => {
    for (const fn of [(c) => q.codeStats(c, 4), (c) => q.disambiguate(c)]) {
      throwsArg(() => fn([[1]]), q.ValueError, 'codes', /^argument 'codes' must be a Tensor$/);
      throwsArg(() => fn(q.zeros([2, 2])), q.DTypeError, 'codes', /^argument 'codes' must be int32, got float32$/);
      throwsArg(() => fn(q.tensor(Int32Array.of(1, 2), [2], 'int32')), q.ShapeError, 'codes', /^argument 'codes' must be 2-D \[N, levels\], got \[2\]$/);
      throwsArg(
        () => fn(q.tensor(new Int32Array(4), [1, 2, 2], 'int32')),
        q.ShapeError,
        'codes',
        /^argument 'codes' must be 2-D \[N, levels\], got \[1, 2, 2\]$/,
      );
    }
  });

  it('codeStats: not empty; codebookSize a positive integer or one per level; codes inside it', () => {
    throwsArg(() => q.codeStats(codes([], 0, 2), 4), q.ValueError, 'codes', /^argument 'codes' is empty \(\[0, 2\]\)$/);
    throwsArg(() => q.codeStats(codes([], 3, 0), 4), q.ValueError, 'codes', /^argument 'codes' is empty \(\[3, 0\]\)$/);
    const c = codes([0, 1, 2, 0], 2, 2);
    for (const size of [0, 2.5, [4], [4, 0], [4, 1.5], [4, 4, 4]]) {
      throwsArg(() => q.codeStats(c, size), q.ValueError, 'codebookSize', /^argument 'codebookSize' must be a positive integer or 2 of them$/);
    }
    throwsArg(() => q.codeStats(c, 2), q.ValueError, 'codes', /^argument 'codes' holds 2 at \[1, 0\], outside \[0, 2\)$/);
    throwsArg(() => q.codeStats(codes([0, -1], 1, 2), 2), q.ValueError, 'codes', /^argument 'codes' holds -1 at \[0, 1\], outside \[0, 2\)$/);
  });

  it('codeStats: a codebook of one code is valid', () => {
    const s = q.codeStats(codes([0, 0, 0], 3, 1), 1);
    assert.deepEqual(s.levels, [{ used: 1, utilisation: 1, perplexity: 1 }]);
    assert.equal(s.largestBucket, 3);
    assert.equal(s.collisionRate, 1);
  });

  it('codeStats: exactly one level per column, counted over every row', () => {
    // Level 0 uses {0, 1}, level 1 uses {1}; the last row alone decides level 0's count.
    const s = q.codeStats(codes([0, 1, 0, 1, 1, 1], 3, 2), [2, 2]);
    assert.equal(s.levels.length, 2);
    assert.deepEqual(
      s.levels.map((l) => l.used),
      [2, 1],
    );
    assert.equal(s.levels[0].perplexity, Math.exp(-(2 / 3) * Math.log(2 / 3) - (1 / 3) * Math.log(1 / 3)));
    assert.equal(s.uniqueTuples, 2);
  });

  it('tuples are told apart digit by digit ([1, 12] is not [11, 2])', () => {
    const c = codes([1, 12, 11, 2], 2, 2);
    const s = q.codeStats(c, 16);
    assert.equal(s.uniqueTuples, 2);
    assert.equal(s.collisionRate, 0);
    assert.deepEqual(vec(q.disambiguate(c)), [1, 12, 0, 11, 2, 0]);
  });

  it('codeStats reconstruction error: both embeddings and one codebook per level, the right shapes; 0 for zero rows', () => {
    const c = codes([0, 1, 1, 0], 2, 2);
    const emb = rows(2, 3);
    const cbs = [rows(2, 3, 1), rows(2, 3, 2)];
    throwsArg(() => q.codeStats(c, 2, { embeddings: emb }), q.ValueError, 'codebooks', /^reconstruction error needs both 'embeddings' and 2 'codebooks'$/);
    throwsArg(() => q.codeStats(c, 2, { codebooks: cbs }), q.ValueError, 'embeddings', /^reconstruction error needs both 'embeddings' and 2 'codebooks'$/);
    throwsArg(() => q.codeStats(c, 2, { embeddings: emb, codebooks: cbs.slice(1) }), q.ValueError, 'codebooks', /^reconstruction error needs both/);
    // Each bad embeddings fails one check only (dtype; rank with the right rows; rows).
    for (const bad of [
      q.tensor(Int32Array.of(1, 2, 3, 4, 5, 6), [2, 3], 'int32'),
      q.tensor(new Float32Array(6), [2, 3, 1]),
      q.tensor(new Float32Array(6), [6]),
      rows(3, 2),
      rows(3, 3),
    ]) {
      throwsArg(() => q.codeStats(c, 2, { embeddings: bad, codebooks: cbs }), q.ShapeError, 'embeddings', /^argument 'embeddings' must be float32 \[2, D\]$/);
    }
    // Each bad codebook fails one check only (dtype; rank; rows; dim).
    for (const bad of [q.tensor(new Int32Array(6), [2, 3], 'int32'), q.tensor(new Float32Array(6), [2, 3, 1]), rows(3, 3), rows(2, 4)]) {
      throwsArg(
        () => q.codeStats(c, 2, { embeddings: emb, codebooks: [cbs[0], bad] }),
        q.ShapeError,
        'codebooks',
        /^argument 'codebooks' entry 1 must be float32 \[2, 3\]$/,
      );
    }
    const zero = q.codeStats(c, 2, { embeddings: q.zeros([2, 3]), codebooks: cbs });
    assert.deepEqual(
      zero.levels.map((l) => l.relativeError),
      [0, 0],
    );
  });
});

describe('quant-codes edges: RQKMeans', () => {
  const x = rows(40, 4);

  it('constructor: levels a positive integer, codebookSize one or one per level (copied), balanced a boolean', () => {
    for (const levels of [0, -1, 1.5, undefined]) {
      throwsArg(
        () => new q.RQKMeans({ levels, codebookSize: 4 }),
        q.ValueError,
        'levels',
        new RegExp(`^argument 'levels' must be a positive integer, got ${levels}$`),
      );
    }
    for (const size of [0, [4], [4, 0], [4, 2.5], [4, 4, 4]]) {
      throwsArg(
        () => new q.RQKMeans({ levels: 2, codebookSize: size }),
        q.ValueError,
        'codebookSize',
        new RegExp(`^argument 'codebookSize' must be a positive integer or 2 of them, got ${JSON.stringify(size).replace(/[[\]]/g, '\\$&')}$`),
      );
    }
    throwsArg(() => new q.RQKMeans({ levels: 1, codebookSize: 4, balanced: 1 }), q.ValueError, 'balanced', /^argument 'balanced' must be a boolean, got 1$/);
    const sizes = [4, 3];
    const m = new q.RQKMeans({ levels: 2, codebookSize: sizes });
    sizes[0] = 99;
    assert.deepEqual(m.codebookSizes, [4, 3]);
    assert.deepEqual(m.relativeError, []);
    assert.equal(m.fitCodes, null);
  });

  it('fit: x a float32 2-D Tensor with at least the largest codebook rows; dist a Communicator', () => {
    const m = new q.RQKMeans({ levels: 2, codebookSize: [3, 8], iterations: 2 });
    throwsArg(() => m.fit([[1]]), q.ValueError, 'x', /^argument 'x' must be a Tensor$/);
    throwsArg(() => m.fit(q.tensor(new Int32Array(40), [10, 4], 'int32')), q.DTypeError, 'x', /^argument 'x' must be float32, got int32$/);
    throwsArg(() => m.fit(q.tensor(new Float32Array(40), [40])), q.ShapeError, 'x', /^argument 'x' must be 2-D, got \[40\]$/);
    throwsArg(() => m.fit(q.tensor(new Float32Array(40), [10, 4, 1])), q.ShapeError, 'x', /^argument 'x' must be 2-D, got \[10, 4, 1\]$/);
    throwsArg(() => m.fit(rows(7, 4)), q.ValueError, 'x', /^argument 'x' has 7 rows, fewer than the largest codebook \(8\)$/);
    m.fit(rows(8, 4));
    assert.equal(m.codebooks.length, 2);
    for (const dist of NOT_COMMUNICATORS) {
      throwsArg(() => m.fit(x, { dist }), q.ValueError, 'dist', /^argument 'dist' must be a Communicator \(lib\/dist's dist\)$/);
    }
    // A one-rank communicator and a null options object are the one-process fit.
    const one = oneRank();
    const a = vec(new q.RQKMeans({ levels: 2, codebookSize: 4, iterations: 3, seed: 3 }).fit(x, { dist: one }).codebooks[1]);
    const b = vec(new q.RQKMeans({ levels: 2, codebookSize: 4, iterations: 3, seed: 3 }).fit(x, null).codebooks[1]);
    const c = vec(new q.RQKMeans({ levels: 2, codebookSize: 4, iterations: 3, seed: 3 }).fit(x).codebooks[1]);
    assert.deepEqual(a, c);
    assert.deepEqual(b, c);
  });

  it('level l is kmeans of the residual with seed + l (a reference built from kmeans)', () => {
    const opts = { iterations: 4, init: 'kmeans++', maxPointsPerCentroid: 256 };
    const m = new q.RQKMeans({ levels: 3, codebookSize: [5, 4, 3], seed: 11, ...opts }).fit(x);
    let r = Float32Array.from(x.toTypedArray());
    for (let l = 0; l < 3; l++) {
      const km = q.kmeans(q.tensor(r, [40, 4]), { k: [5, 4, 3][l], seed: 11 + l, ...opts });
      const cb = km.centroids.toTypedArray();
      assert.deepEqual(vec(m.codebooks[l]), Array.from(cb), `level ${l}`);
      const a = km.assignments.toTypedArray();
      r = r.map((v, j) => Math.fround(v - cb[a[Math.floor(j / 4)] * 4 + (j % 4)]));
    }
  });

  it('a failed fit leaves the model unfitted; encode/decode check the model and their input', () => {
    const m = new q.RQKMeans({ levels: 2, codebookSize: 4, iterations: 2 }).fit(x);
    const nan = Float32Array.from(x.toTypedArray());
    nan[5] = NaN;
    assert.throws(() => m.fit(q.tensor(nan, [40, 4])), q.ValueError);
    assert.deepEqual(m.codebooks, []);
    assert.deepEqual(m.relativeError, []);
    for (const call of [() => m.encode(x), () => m.decode(codes([0, 0], 1, 2)), () => m.save('/nonexistent/never-written')]) {
      throwsArg(call, q.ValueError, 'this', /^RQKMeans is not fitted: call fit\(\) or RQKMeans\.load\(\) first$/);
    }
    m.fit(x);
    throwsArg(() => m.encode(q.tensor(new Int32Array(8), [2, 4], 'int32')), q.DTypeError, 'x', /^argument 'x' must be float32, got int32$/);
    throwsArg(() => m.encode(rows(2, 3)), q.ShapeError, 'x', /^argument 'x' has dim 3, the codebooks have 4$/);
    throwsArg(() => m.decode(q.zeros([1, 2])), q.DTypeError, 'codes', /^argument 'codes' must be int32, got float32$/);
    throwsArg(() => m.decode(codes([0, 0, 0], 1, 3)), q.ShapeError, 'codes', /^argument 'codes' has 3 levels, the model has 2$/);
    throwsArg(() => m.decode(q.tensor(Int32Array.of(0, 0), [2], 'int32')), q.ShapeError, 'codes', /^argument 'codes' must be 2-D, got \[2\]$/);
  });

  it('encode and decode leave only their result alive', () => {
    const m = new q.RQKMeans({ levels: 3, codebookSize: 4, iterations: 2 }).fit(x);
    const before = q.memory().numTensors;
    const c = m.encode(x);
    assert.equal(q.memory().numTensors, before + 1);
    const d = m.decode(c);
    assert.equal(q.memory().numTensors, before + 2);
    c.dispose();
    d.dispose();
  });

  it('load: refuses files that are not RQKMeans files, naming the path and the problem; keeps relativeError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qarm-rqerr-'));
    try {
      const m = new q.RQKMeans({ levels: 2, codebookSize: [4, 3], iterations: 2 }).fit(x);
      const good = join(dir, 'good.safetensors');
      m.save(good);
      assert.deepEqual(q.RQKMeans.load(good).relativeError, m.relativeError);
      // The file names its format and version for readers in other languages.
      const { metadata } = readSafetensors(good);
      assert.equal(metadata.format, 'qarm.rqkmeans');
      assert.equal(metadata.version, '1');
      assert.equal(m.relativeError.length, 2);
      const cfg = JSON.stringify({ levels: 2, codebookSize: [4, 3], dim: 4, iterations: 2, seed: 0, init: 'kmeans++', maxPointsPerCentroid: 256 });
      const cases = [
        ['format', { a: m.codebooks[0] }, { format: 'other' }, /is not a qarm RQKMeans file \(format "other"\)$/],
        ['json', { a: m.codebooks[0] }, { format: 'qarm.rqkmeans', config: '{' }, /: metadata 'config' is not valid JSON$/],
        ['noconfig', { a: m.codebooks[0] }, { format: 'qarm.rqkmeans' }, /: metadata 'config' is not valid JSON$/],
        [
          'config',
          { a: m.codebooks[0] },
          { format: 'qarm.rqkmeans', config: '{"levels":0,"codebookSize":4}' },
          /: invalid config \(argument 'levels' must be a positive integer, got 0\)$/,
        ],
        ['missing', { codebook_0: m.codebooks[0] }, { format: 'qarm.rqkmeans', config: cfg }, /: tensor codebook_1 is missing or not float32 \[3, 4\]$/],
        [
          'rows',
          { codebook_0: m.codebooks[0], codebook_1: m.codebooks[0] },
          { format: 'qarm.rqkmeans', config: cfg },
          /: tensor codebook_1 is missing or not float32 \[3, 4\]$/,
        ],
        [
          'dim',
          { codebook_0: m.codebooks[0], codebook_1: rows(3, 5) },
          { format: 'qarm.rqkmeans', config: cfg },
          /: tensor codebook_1 is missing or not float32 \[3, 4\]$/,
        ],
        [
          'rank',
          { codebook_0: m.codebooks[0], codebook_1: q.tensor(new Float32Array(12), [3, 4, 1]) },
          { format: 'qarm.rqkmeans', config: cfg },
          /: tensor codebook_1 is missing/,
        ],
        [
          'dtype',
          { codebook_0: m.codebooks[0], codebook_1: q.tensor(new Int32Array(12), [3, 4], 'int32') },
          { format: 'qarm.rqkmeans', config: cfg },
          /: tensor codebook_1 is missing/,
        ],
      ];
      for (const [name, tensors, meta, re] of cases) {
        const p = join(dir, `${name}.safetensors`);
        writeSafetensors(p, tensors, meta);
        const quoted = `'${p}'`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        throwsArg(() => q.RQKMeans.load(p), q.IOError, 'path', new RegExp(`^${quoted} ?${re.source}`));
      }
      // A file without relativeError loads with an empty one.
      const old = join(dir, 'old.safetensors');
      writeSafetensors(old, { codebook_0: m.codebooks[0], codebook_1: m.codebooks[1] }, { format: 'qarm.rqkmeans', config: cfg });
      assert.deepEqual(q.RQKMeans.load(old).relativeError, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('residualQuantize: the commitment loss is the mean over levels of squared residuals, Σ_l ||r_{l+1}||² / ND (float64 reference)', () => {
    const m = new q.RQKMeans({ levels: 2, codebookSize: 4, iterations: 2 }).fit(x);
    const { commitLoss } = q.residualQuantize(x, m.codebooks);
    const c = m.encode(x).toTypedArray();
    const cbs = m.codebooks.map((t) => t.toTypedArray());
    const r = Float64Array.from(x.toTypedArray());
    let s = 0;
    for (let l = 0; l < 2; l++) {
      for (let j = 0; j < r.length; j++) {
        const i = Math.floor(j / 4);
        r[j] -= cbs[l][c[i * 2 + l] * 4 + (j % 4)];
        s += r[j] * r[j];
      }
    }
    const want = s / r.length;
    assert.ok(want > 0);
    assert.ok(Math.abs(commitLoss.item() - want) <= 1e-5 * want, `${commitLoss.item()} vs ${want}`);
  });
});
