// The pipeline side of issue 14's code features: the random-codes control (shape, range, the
// cold rule, determinism), `codes.features` reaching the ranker, and the code summary's prefix counts.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { buildRandomCodes, codeSummary } from '../dist/pipeline/code_tables.js';
import { variantRanker } from '../dist/pipeline/train_variant.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { VARIANTS } from '../dist/pipeline/results.js';

const { resolveConfig, validateConfig } = q.pipeline;

describe('pipeline code features', () => {
  it('random codes: qarm shape, in range, cold items only use codes/pool entries warm items have, seeded', () => {
    const n = 1003;
    const g = new q.Generator(2);
    const warm = Uint8Array.from({ length: n }, () => (g.uniform() < 0.7 ? 1 : 0));
    const sizes = [17, 3, 1500];
    const opts = { levels: 3, codebookSize: sizes, k: 25, seed: 9 };
    const { rq, vq } = buildRandomCodes(warm, opts);
    const W = warm.reduce((a, b) => a + b, 0);
    assert.equal(rq.codes.length, n * 3);
    assert.deepEqual(rq.sizes, sizes);
    assert.equal(vq.k, 25);
    assert.equal(vq.poolSize, W);
    assert.deepEqual(
      Array.from(vq.poolItems),
      [...Array(n).keys()].filter((i) => warm[i]),
    );
    const used = sizes.map((s) => new Uint8Array(s));
    const counts = sizes.map((s) => new Array(s).fill(0));
    const usedPool = new Uint8Array(W);
    for (let i = 0; i < n; i++) {
      if (!warm[i]) continue;
      for (let l = 0; l < 3; l++) {
        const c = rq.codes[i * 3 + l];
        assert.ok(c >= 0 && c < sizes[l]);
        used[l][c] = 1;
        counts[l][c]++;
      }
      const row = Array.from(vq.codes.subarray(i * 25, (i + 1) * 25));
      assert.equal(new Set(row).size, 25, 'distinct pool entries');
      assert.ok(
        row.every((p) => p >= 0 && p < W && vq.poolItems[p] !== i),
        'in the pool, never itself',
      );
      row.forEach((p) => (usedPool[p] = 1));
    }
    for (let i = 0; i < n; i++) {
      if (warm[i]) continue;
      for (let l = 0; l < 3; l++) assert.equal(used[l][rq.codes[i * 3 + l]], 1, `cold item ${i} level ${l}`);
      const row = Array.from(vq.codes.subarray(i * 25, (i + 1) * 25));
      assert.ok(
        row.every((p) => p >= 0 && usedPool[p]),
        `cold item ${i} VQ`,
      );
      assert.equal(new Set(row).size, 25);
    }
    // Uniform: every level's code counts within 5 standard deviations of W / size.
    counts.forEach((cs, l) => {
      const mean = W / sizes[l],
        sd = Math.sqrt(mean * (1 - 1 / sizes[l]));
      cs.forEach((c, code) => assert.ok(Math.abs(c - mean) < 5 * sd, `level ${l} code ${code}: ${c} vs ${mean}`));
    });
    const again = buildRandomCodes(warm, opts);
    assert.deepEqual(again.rq.codes, rq.codes);
    assert.deepEqual(again.vq.codes, vq.codes);
    const other = buildRandomCodes(warm, { ...opts, seed: 10 });
    assert.notDeepEqual(other.rq.codes, rq.codes);
    // k is capped by the pool, as buildVQ caps it; one warm item leaves no code to name.
    const tiny = buildRandomCodes(Uint8Array.of(1, 1, 1, 0), { ...opts, k: 25 });
    assert.equal(tiny.vq.k, 2);
    assert.equal(buildRandomCodes(Uint8Array.of(1, 0), opts).vq.k, 0);
    assert.ok(rq.summary.prefix && rq.summary.utilisation.length === 3);
  });

  it('the code summary counts prefixes like a reference: distinct warm prefixes, hashed-row collisions, cold prefixes no warm item has', () => {
    const n = 500;
    const g = new q.Generator(3);
    const sizes = [5, 7, 11];
    const codes = Int32Array.from({ length: n * 3 }, (_, j) => g.int(sizes[j % 3]));
    const warm = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 0 : 1));
    const s = codeSummary('t', codes, sizes, warm, 50);
    assert.deepEqual(s.prefix.tableSize, [5, 35, 50]);
    assert.deepEqual(s.prefix.hashed, [false, false, true]);
    for (let p = 0; p < 3; p++) {
      const key = (i) => Array.from(codes.subarray(i * 3, i * 3 + p + 1)).join(',');
      const warmKeys = new Set([...Array(n).keys()].filter((i) => warm[i]).map(key));
      assert.equal(s.prefix.distinct[p], warmKeys.size, `distinct ${p}`);
      assert.equal(s.prefix.coldUnseen[p], [...Array(n).keys()].filter((i) => !warm[i] && !warmKeys.has(key(i))).length, `unseen ${p}`);
    }
    assert.equal(s.prefix.collisions[1], 0);
    assert.ok(s.prefix.collisions[2] > 100, `${s.prefix.distinct[2]} prefixes in 50 rows: ${s.prefix.collisions[2]} collisions`);
  });

  it('codes.features reaches the ranker, id+random-codes is a default variant after qarm, and bad values are typed errors', () => {
    assert.ok(VARIANTS.indexOf('id+random-codes') === VARIANTS.indexOf('qarm') + 1);
    const spec = VARIANT_SPECS['id+random-codes'];
    assert.deepEqual({ rq: spec.rq, vq: spec.vq, cross: spec.cross }, { rq: 'random', vq: 'random', cross: true });
    const cfg = resolveConfig(validateConfig({ codes: { features: { mode: 'prefix', vqCross: true, countNorm: 'scaled', prefixTableSize: 100 } } }), {});
    assert.deepEqual(cfg.codes.features, { mode: 'prefix', prefixTableSize: 100, vqHistory: false, vqCross: true, codeDropout: false, countNorm: 'scaled' });
    assert.throws(() => validateConfig({ codes: { features: { mode: 'ngram' } } }), /codes\.features\.mode/);
    assert.throws(() => validateConfig({ codes: { features: { vqBag: true } } }), q.ValueError);
    const items = {
      numItems: 5,
      rq: { codes: Int32Array.of(0, 1, 1, 2, 0, 0, 1, 1, 2, 2), levels: 2, codebookSize: 3 },
      vq: { codes: Int32Array.of(0, 1, 2, 0, 1, 2, 0, 1, 2, 0), k: 2, poolSize: 3 },
    };
    const r = variantRanker(VARIANT_SPECS.qarm, 4, 3, items, cfg.ranker, 1, cfg.codes.features);
    assert.equal(r.config.codeMode, 'prefix');
    assert.equal(r.config.countNorm, 'scaled');
    assert.equal(r.config.features.vqCross, true);
    assert.equal(r.config.features.vqHistory, false);
    assert.deepEqual(r.codes.tableSizes, [3, 9]);
    // A variant without VQ codes never gets the VQ features; a saved config without `features`
    // reads the features its models were trained with (log1p counts), a new one the defaults.
    assert.equal(variantRanker(VARIANT_SPECS['id+rq-raw'], 4, 3, items, cfg.ranker, 1, cfg.codes.features).config.features.vqCross, false);
    const old = variantRanker(VARIANT_SPECS.qarm, 4, 3, items, cfg.ranker, 1, undefined);
    assert.equal(old.config.codeMode, 'levels');
    assert.equal(old.config.countNorm, 'log1p');
    assert.equal(variantRanker(VARIANT_SPECS.qarm, 4, 3, items, cfg.ranker, 1, resolveConfig({}, {}).codes.features).config.countNorm, 'scaled');
  });
});
