// `codes.space`: the qarm codes (RQ and VQ) are built from the aligned embeddings or from lib/align's
// mixed retrieval space [√w·aligned, √(1−w)·content]; id+aligned and the raw-content codes never move.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as q from '../dist/index.js';
import { prepare } from '../dist/pipeline/run.js';
import { buildRQ, buildVQ } from '../dist/pipeline/code_tables.js';
import { VARIANT_SPECS } from '../dist/pipeline/variants.js';
import { assertClose } from './helpers.js';

const { resolveConfig, validateConfig, buildProtocol, interactionLog, silentProgress } = q.pipeline;
const DAY = 86400;

/** A tiny dataset folder: 30 "colour thing" items plus 3 never-bought (cold) ones, baskets of one thing in two colours. */
function writeFixture(dir) {
  const colours = ['red', 'blue', 'green', 'pink', 'white', 'black'];
  const things = ['mug', 'plate', 'bag', 'lamp', 'box'];
  const items = ['item,text'];
  colours.forEach((c) => things.forEach((t) => items.push(`${c}-${t},${c} ${t}`)));
  for (const t of ['gold mug', 'gold lamp', 'silver box']) items.push(`${t.replace(' ', '-')},${t}`);
  const g = new q.Generator(1);
  const inter = ['user,item,timestamp,basket'];
  for (let u = 0; u < 40; u++) {
    for (let b = 0; b < 6; b++) {
      const t = 1e9 + (u % 7) * 3600 + b * 10 * DAY;
      const thing = things[g.int(things.length)];
      for (const c of [colours[g.int(6)], colours[g.int(6)]]) inter.push(`u${u},${c}-${thing},${t},o${u}-${b}`);
    }
  }
  writeFileSync(join(dir, 'items.csv'), items.join('\n') + '\n');
  writeFileSync(join(dir, 'interactions.csv'), inter.join('\n') + '\n');
}

/** [√w·a/|a|, √(1−w)·c/|c|] per row, in float64. */
function mixRef(a, da, c, dc, n, w) {
  const out = new Float64Array(n * (da + dc));
  const put = (x, dx, off, scale) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dx; j++) s += x[i * dx + j] ** 2;
      for (let j = 0; j < dx; j++) out[i * (da + dc) + off + j] = (scale * x[i * dx + j]) / Math.sqrt(s);
    }
  };
  put(a, da, 0, Math.sqrt(w));
  put(c, dc, da, Math.sqrt(1 - w));
  return out;
}

describe('qarm run: codes.space', function () {
  this.timeout(120000);
  let dir, ds;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qarm-codes-'));
    writeFixture(dir);
    ds = await q.loadDataset(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = (space, over = {}) =>
    resolveConfig(
      {
        recallPairs: 50,
        protocol: { split: { trainEnd: 1e9 + 30 * DAY, testStart: 1e9 + 40 * DAY } },
        content: { modalities: ['chargram'], lexicalDims: 8, cache: false },
        pairs: { miners: ['cooccurrence'] },
        // One candidate weight below 1: lib/align keeps w = 0.5 whatever the validation pairs say.
        align: { epochs: 2, batchSize: 32, hidden: [16], contentMix: [0.5] },
        codes: { space, rqLevels: 2, rqCodebookSize: 4, iterations: 5, vqK: 3 },
        ...over,
      },
      { data: dir },
    );

  async function prep(space) {
    const cfg = config(space);
    const P = buildProtocol(interactionLog(ds), cfg.protocol);
    const specs = ['qarm', 'id+aligned', 'id+rq-raw'].map((v) => VARIANT_SPECS[v]);
    return { cfg, P, prep: await prepare(ds, P, cfg, specs, silentProgress, {}) };
  }

  it("builds the qarm codes from the mixed space with 'mixed' and from the aligned space with 'aligned'; other tables unchanged", async () => {
    const a = await prep('aligned');
    const m = await prep('mixed');
    const n = a.P.numItems;
    assert.equal(n, 33);
    assert.ok(
      a.P.warm.some((w) => !w),
      'the fixture has cold items',
    );
    // Same aligner run either way: the aligned, content and raw-code tables are the same bits.
    assert.deepEqual(m.prep.aligned.values, a.prep.aligned.values);
    assert.deepEqual(m.prep.content.values, a.prep.content.values);
    assert.deepEqual(m.prep.rqRaw.codes, a.prep.rqRaw.codes);
    const da = a.prep.aligned.dim,
      dc = a.prep.content.dim;
    assert.equal(da, 64);

    // 'aligned': the code space is the aligned embedding.
    assert.equal(a.prep.codeSpace.space, 'aligned');
    assert.equal(a.prep.codeSpace.mixWeight, 1);
    assert.deepEqual(a.prep.codeSpace.values, a.prep.aligned.values);
    // 'mixed': [√0.5·aligned, √0.5·content], rows unit length (checked against a float64 reference).
    const cs = m.prep.codeSpace;
    assert.equal(cs.space, 'mixed');
    assert.equal(cs.mixWeight, 0.5);
    assert.equal(cs.dim, da + dc);
    assertClose(cs.values, mixRef(a.prep.aligned.values, da, a.prep.content.values, dc, n, 0.5), { atol: 1e-6, rtol: 1e-5, msg: 'mixed space' });
    assert.equal(m.prep.alignment.mixWeight, 0.5);

    // The code tables are exactly those of buildRQ / buildVQ over each space.
    const c = a.cfg.codes;
    const rqOpts = { levels: c.rqLevels, codebookSize: c.rqCodebookSize, iterations: c.iterations, seed: c.seed, balanced: c.rqBalanced };
    const expect = (space, P) => ({
      rq: buildRQ('x', space.values, space.dim, P.warm, rqOpts).codes,
      vq: buildVQ('x', space.values, space.dim, P.warm, c.vqK).codes,
    });
    const ea = expect(a.prep.aligned, a.P);
    const em = expect(cs, m.P);
    assert.deepEqual(a.prep.rqAligned.codes, ea.rq);
    assert.deepEqual(a.prep.vqAligned.codes, ea.vq);
    assert.deepEqual(m.prep.rqAligned.codes, em.rq);
    assert.deepEqual(m.prep.vqAligned.codes, em.vq);
    // Content pulls the spaces apart: on this fixture the two spaces give different codes.
    assert.notDeepEqual(em.vq, ea.vq);
    assert.match(m.prep.rqAligned.summary.name, /aligned ⊕ content, w 0\.5/);
    assert.equal(a.prep.rqAligned.summary.name, 'rq (aligned)');
  });

  it('rejects a bad codes.space and a mixed space with nothing to mix, with a typed error naming the key', () => {
    assert.throws(
      () => validateConfig({ codes: { space: 'content' } }),
      (e) => e instanceof q.ValueError && /codes\.space/.test(e.message),
    );
    assert.throws(
      () => config('mixed', { align: { contentMix: [1] } }),
      (e) => e instanceof q.ValueError && /codes\.space 'mixed'.*contentMix/.test(e.message),
    );
    assert.equal(config('aligned', { align: { contentMix: [1] } }).codes.space, 'aligned');
  });
});
