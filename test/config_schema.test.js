// The run configuration's schema and where its defaults come from (issue 16): `pairs` and `align`
// are checked key by key with the bad key named; lib/align and lib/rank export the defaults they
// apply, pinned here to the values the pipeline ran with before they were exported; the
// pipeline's own defaults are unchanged.
import assert from 'node:assert/strict';
import * as q from '../dist/index.js';
import { ALIGN_DEFAULTS, PAIR_MINING_DEFAULTS } from '../dist/align/index.js';
import { RANKER_DEFAULTS, TRAIN_DEFAULTS } from '../dist/rank/index.js';
import { AlignSchema, PairsSchema } from '../dist/pipeline/config_schema.js';

const { validateConfig, defaultConfig, legacyCodeFeatures, defaultCodeFeatures } = q.pipeline;

/** Asserts that `value` is rejected with a ValueError whose message matches `re`. */
function rejects(value, re) {
  assert.throws(
    () => validateConfig(value),
    (e) => {
      assert.ok(e instanceof q.ValueError, `ValueError, got ${e}`);
      assert.match(e.message, re);
      return true;
    },
    JSON.stringify(value),
  );
}

describe('config schema: pairs and align', () => {
  it('rejects unknown keys and names each by its full path', () => {
    rejects({ pairs: { topn: 3 } }, /pairs\.topn: unknown key \(pairs takes miners, topN, cap,/);
    rejects({ pairs: { swing: { alpah: 1 } } }, /pairs\.swing\.alpah: unknown key \(pairs\.swing takes alpha, userWeight, userAlpha, maxItemsPerUser\)/);
    rejects({ pairs: { cooccurrence: { windowSeconds: 60 } } }, /pairs\.cooccurrence\.windowSeconds: unknown key/);
    rejects({ pairs: { user2item: { history: 5 } } }, /pairs\.user2item\.history: unknown key/);
    rejects({ align: { learningRate: 0.1 } }, /align\.learningRate: unknown key \(align takes dims, hidden,/);
    // Keys the pipeline sets itself (data handling) are not the config's to give.
    rejects({ align: { encoders: {}, trainUntil: 5 } }, /align\.encoders, align\.trainUntil: unknown keys/);
    rejects({ align: { mining: {} } }, /align\.mining: unknown key/);
    rejects({ bogus: 1 }, /bogus: unknown key \(the top level takes data, out,/);
    rejects({ ranker: { lR: 1 } }, /ranker\.lR: unknown key/);
  });

  it('rejects bad values with the key named', () => {
    rejects({ pairs: { miners: ['swingy'] } }, /pairs\.miners\.0:/);
    rejects({ pairs: { miners: [] } }, /pairs\.miners:/);
    rejects({ pairs: { topN: 0 } }, /pairs\.topN:/);
    rejects({ pairs: { cap: 2.5 } }, /pairs\.cap:/);
    rejects({ pairs: { cooccurrence: { count: 'baskets' } } }, /pairs\.cooccurrence\.count:/);
    rejects({ pairs: { cooccurrence: { window: -1 } } }, /pairs\.cooccurrence\.window:/);
    rejects({ pairs: { swing: { alpha: 0 } } }, /pairs\.swing\.alpha:/);
    rejects({ align: { temperature: 0 } }, /align\.temperature:/);
    rejects({ align: { lr: '1e-3' } }, /align\.lr:/);
    rejects({ align: { contentMix: [0.8, 1.5] } }, /align\.contentMix\.1:/);
    rejects({ align: { contentMix: [] } }, /align\.contentMix:/);
    rejects({ align: { earlyStopOn: 'some' } }, /align\.earlyStopOn:/);
    rejects({ align: { batchSize: 1 } }, /align\.batchSize:/);
    rejects({ align: { activation: 'gelu' } }, /align\.activation:/);
    rejects({ align: { hidden: [256, 0] } }, /align\.hidden\.1:/);
  });

  it('takes every option lib/align has a default for, and no other', () => {
    // Every default is a valid value of its key, so the whole defaults object must pass.
    const cfg = validateConfig({ align: structuredClone(ALIGN_DEFAULTS), pairs: structuredClone(PAIR_MINING_DEFAULTS) });
    assert.deepEqual(cfg.align, ALIGN_DEFAULTS);
    assert.deepEqual(cfg.pairs, PAIR_MINING_DEFAULTS);
    assert.deepEqual(Object.keys(AlignSchema.shape).sort(), Object.keys(ALIGN_DEFAULTS).sort());
    assert.deepEqual(Object.keys(PairsSchema.shape).sort(), Object.keys(PAIR_MINING_DEFAULTS).sort());
    for (const m of ['cooccurrence', 'swing', 'user2item']) {
      assert.deepEqual(Object.keys(PairsSchema.shape[m].unwrap().shape).sort(), Object.keys(PAIR_MINING_DEFAULTS[m]).sort(), m);
    }
  });
});

describe('module defaults', () => {
  it('equal the values lib/align and lib/rank applied before they were exported', () => {
    assert.deepEqual(ALIGN_DEFAULTS, {
      dims: 64,
      hidden: [512],
      activation: 'relu',
      temperature: 0.2,
      batchSize: 512,
      lr: 2e-3,
      weightDecay: 0,
      epochs: 40,
      patience: 4,
      neighbourhoodWeight: 0,
      neighbourhoodTemperature: 0.05,
      contentMix: [1, 0.9, 0.8, 0.7, 0.6],
      validationK: 50,
      maxValidationPairs: 3000,
      ensemble: 3,
      seed: 0,
      earlyStopOn: 'all',
    });
    assert.deepEqual(PAIR_MINING_DEFAULTS, {
      miners: ['cooccurrence', 'swing', 'user2item'],
      topN: 20,
      cap: 50,
      minScore: 0,
      cooccurrence: { sameBasket: true, window: 0, count: 'users', maxBasket: 500 },
      swing: { alpha: 1, userWeight: true, userAlpha: 5, maxItemsPerUser: 300 },
      user2item: { historyLength: 50 },
    });
    assert.deepEqual(RANKER_DEFAULTS, {
      oov: true,
      embeddingDim: 16,
      attentionHidden: [36],
      hidden: [200, 80],
      codeMode: 'levels',
      prefixTableSize: 16384,
      prefixHashSeed: 0,
      countNorm: 'log1p',
      seed: 0,
    });
    assert.deepEqual(TRAIN_DEFAULTS, {
      epochs: 5,
      batchSize: 1024,
      lr: 1e-3,
      sparseOptimizer: 'adam',
      weightDecay: 0,
      seed: 0,
      patience: 2,
      resume: true,
      itemIdDropout: 0,
      historyIdDropout: 0,
      codeDropout: false,
      adagradSparseLr: 0.05,
    });
    for (const d of [ALIGN_DEFAULTS, ALIGN_DEFAULTS.hidden, PAIR_MINING_DEFAULTS.swing, RANKER_DEFAULTS.hidden, TRAIN_DEFAULTS]) assert.ok(Object.isFrozen(d));
  });

  it('are what the modules apply when an option is left out', () => {
    // Pair mining: no options vs the defaults spelt out, on events with baskets, repeats and ties.
    const g = new q.Generator(5);
    const n = 37;
    const events = Array.from({ length: 900 }, (_, k) => ({ user: g.int(40), item: g.int(n), time: k * 100 + g.int(3000), basket: g.int(300) }));
    const mined = q.pairs.minePairs(events, n);
    assert.ok(mined.pairs.a.length > 50);
    assert.deepEqual(q.pairs.minePairs(events, n, structuredClone(PAIR_MINING_DEFAULTS)), mined);
    // The comparison can tell a changed option apart.
    assert.notDeepEqual(
      q.pairs.minePairs(events, n, { ...structuredClone(PAIR_MINING_DEFAULTS), swing: { ...PAIR_MINING_DEFAULTS.swing, maxItemsPerUser: 5 } }),
      mined,
    );

    // Ranker: the resolved configuration.
    const r = new q.rank.Ranker({ numUsers: 3 }, { numItems: 5 });
    const { numUsers: _u, numItemIds: _i, features: _f, ...cfg } = r.config;
    assert.deepEqual(cfg, RANKER_DEFAULTS);
    r.dispose?.();

    // Aligner: no options vs the defaults spelt out give the same bits (small, so 40 epochs are quick).
    const items = 24;
    const din = 6;
    const content = q.tensor(
      Float32Array.from({ length: items * din }, () => g.normal()),
      [items, din],
    );
    const pa = Int32Array.from({ length: 19 }, (_, k) => k);
    const pairs = { a: pa, b: Int32Array.from(pa, (a) => (a * 7 + 3) % items), score: new Float32Array(19).fill(1) };
    const { earlyStopOn: _e, ...alignerDefaults } = ALIGN_DEFAULTS;
    const lean = { epochs: 3, hidden: [8] };
    const a = q.trainAligner(content, pairs, lean);
    const b = q.trainAligner(content, pairs, { ...structuredClone(alignerDefaults), ...lean });
    assert.deepEqual(Array.from(b.embeddings.toTypedArray()), Array.from(a.embeddings.toTypedArray()));
    assert.equal(a.embeddings.shape[1], ALIGN_DEFAULTS.dims * ALIGN_DEFAULTS.ensemble);
    const c = q.trainAligner(content, pairs, { ...lean, temperature: 0.5 });
    assert.notDeepEqual(Array.from(c.embeddings.toTypedArray()), Array.from(a.embeddings.toTypedArray()));
  });

  it('trainRanker: no options vs TRAIN_DEFAULTS spelt out train the same weights', async () => {
    const { items, samples } = q.rank.synthetic(600, { numItems: 200, numUsers: 50, seed: 3 });
    const valid = q.rank.synthetic(200, { numItems: 200, numUsers: 50, seed: 4 }).samples;
    const run = async (opts) => {
      const r = new q.rank.Ranker({ numUsers: 50, hidden: [8], attentionHidden: [4], embeddingDim: 4 }, items);
      const res = await q.rank.trainRanker(r, samples, valid, opts);
      const w = r.parameters().map((p) => Array.from(p.toTypedArray()));
      r.dispose?.();
      return { epochs: res.history.length, best: res.bestAuc, w };
    };
    const { adagradSparseLr: _a, ...spelt } = TRAIN_DEFAULTS;
    const plain = await run({});
    assert.deepEqual(await run({ ...spelt }), plain);
    assert.ok(plain.epochs >= 1 && plain.epochs <= TRAIN_DEFAULTS.epochs);
    assert.notDeepEqual(await run({ lr: 5e-3 }), plain);
  });
});

describe('pipeline defaults', () => {
  it('are the values the run used before the module defaults were exported', () => {
    const { workers, ...cfg } = defaultConfig();
    assert.ok(workers === 1 || workers === 2);
    assert.deepEqual(cfg, {
      data: null,
      out: 'qarm-out',
      seeds: [1, 2, 3],
      variants: ['id', 'id+content', 'id+aligned', 'id+rq-raw', 'qarm', 'id+random-codes'],
      ablations: [],
      threads: null,
      recallPairs: 3000,
      quick: false,
      protocol: { split: {}, negatives: 4, historyLength: 20, seed: 17, userFraction: 1, trainUserFraction: 1 },
      evaluation: { longTailMax: 5 },
      trainFractions: [],
      content: { modalities: ['glove', 'chargram'], lexicalDims: 128, useDatasetEmbeddings: true, cache: true },
      pairs: {},
      align: { lr: 1e-3, patience: 2, hidden: [256], earlyStopOn: 'new', contentMix: [0.8], temperature: 0.1, ensemble: 1 },
      codes: {
        space: 'mixed',
        vqK: 25,
        rqLevels: 3,
        rqCodebookSize: 64,
        iterations: 20,
        seed: 7,
        rqBalanced: true,
        features: { mode: 'levels', prefixTableSize: 16384, vqHistory: false, vqCross: false, codeDropout: false, countNorm: 'scaled' },
      },
      ranker: {
        embeddingDim: 16,
        hidden: [64, 32],
        attentionHidden: [16],
        batchSize: 1024,
        lr: 2e-3,
        weightDecay: 0,
        maxEpochs: 6,
        patience: 2,
        trainNegativeFraction: 0.5,
        itemIdDropout: 0.1,
        historyIdDropout: 0,
      },
    });
    // Every key of the pipeline's align section is an override: it differs from lib/align's default.
    for (const [k, v] of Object.entries(cfg.align)) assert.notDeepEqual(v, ALIGN_DEFAULTS[k], `align.${k} repeats lib/align's default`);
  });

  it('code features: defaults and the pinned legacy meaning of a config saved without them', () => {
    assert.deepEqual(defaultCodeFeatures(), {
      mode: 'levels',
      prefixTableSize: 16384,
      vqHistory: false,
      vqCross: false,
      codeDropout: false,
      countNorm: 'scaled',
    });
    assert.deepEqual(legacyCodeFeatures(), {
      mode: 'levels',
      prefixTableSize: 16384,
      vqHistory: false,
      vqCross: false,
      codeDropout: false,
      countNorm: 'log1p',
    });
  });

  it('RunConfigSchema accepts the resolved defaults and the quick preset', () => {
    const { RunConfigSchema, resolveConfig } = q.pipeline;
    for (const quick of [false, true]) {
      const cfg = resolveConfig(undefined, { quick });
      assert.deepEqual(RunConfigSchema.parse(cfg), cfg);
    }
    assert.throws(() => RunConfigSchema.parse({ ...defaultConfig(), pairs: { topn: 1 } }));
  });
});
