// The ranker's forward pass against a float64 reference written from the model's definition
// (lib/rank/ranker.ts module comment; DIN's attention unit): the logits of a tiny model with
// random weights must match plain JS reading the same weights. Covers the ids-only model with
// DIN history attention, and the full QARM feature set (RQ level embeddings, mean VQ-code bag,
// dense projection, history codes, the level-1 / level-1+2 cross features and their counts),
// with awkward batches: empty and full histories, duplicates in the history, padded VQ codes,
// out-of-vocabulary users, no history slots at all.
import { q, assert, assertClose } from './helpers.js';

const { rank } = q;

/** Tiny catalogue: 13 items, 3 RQ levels with codebooks of 4, 3 and 5 (many shared prefixes), 3 VQ codes (some padded), 5-d dense. */
function tinyItems() {
  const g = new q.Generator(11);
  const N = 13;
  const rqCodes = new Int32Array(N * 3);
  for (let i = 0; i < N; i++) {
    rqCodes[i * 3] = i % 4;
    rqCodes[i * 3 + 1] = (i * 7) % 3;
    rqCodes[i * 3 + 2] = g.int(5);
  }
  const vqCodes = Int32Array.from({ length: N * 3 }, (_, j) => (j % 5 === 4 ? -1 : g.int(N)));
  vqCodes.fill(-1, 6 * 3, 7 * 3); // item 6: every code padded (an empty bag)
  const dense = Float32Array.from({ length: N * 5 }, () => g.normal());
  return {
    numItems: N,
    rq: { codes: rqCodes, levels: 3, codebookSize: [4, 3, 5] },
    vq: { codes: vqCodes, k: 3, poolSize: N },
    dense: { values: dense, dim: 5 },
  };
}

/** A batch with history lengths 0..H (including full), repeated items, and users past the vocabulary (OOV). */
function tinyBatch(H, numUsers) {
  const g = new q.Generator(12);
  const B = 9;
  const s = {
    size: B,
    maxHistory: H,
    user: Int32Array.from({ length: B }, (_, b) => (b === 4 ? numUsers + 3 : b % numUsers)),
    item: Int32Array.from({ length: B }, (_, b) => (b * 5) % 13),
    label: new Float32Array(B),
    history: new Int32Array(B * H).fill(-1),
    historyLength: Int32Array.from({ length: B }, (_, b) => Math.min(H, b)),
  };
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < s.historyLength[b]; h++) s.history[b * H + h] = b === 7 ? 3 : g.int(13); // sample 7: one item repeated
  }
  return s;
}

/** Overwrites every parameter with N(0, 0.5) values so no part of the model is near-silent at init. */
function randomise(model, seed) {
  const g = new q.Generator(seed);
  for (const p of model.parameters()) {
    const a = p.toTypedArray();
    for (let i = 0; i < a.length; i++) a[i] = 0.5 * g.normal();
  }
}

const row = (t, r) => {
  const d = t.shape[1];
  return Array.from(t.toTypedArray().subarray(r * d, (r + 1) * d));
};
const addv = (a, b) => a.map((v, i) => v + b[i]);
const scale = (a, s) => a.map((v) => v * s);
const zeros = (n) => new Array(n).fill(0);

/** y = W x + b for a Linear layer (weight [out, in]). */
function linear(layer, x) {
  const W = layer.weight.toTypedArray(),
    b = layer.bias ? layer.bias.toTypedArray() : null;
  const [out, inF] = layer.weight.shape;
  assert.equal(x.length, inF);
  return Array.from({ length: out }, (_, o) => {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inF; i++) s += W[o * inF + i] * x[i];
    return s;
  });
}

/** The reference logits of `model` on batch `s`, in float64. */
function referenceLogits(model, items, s) {
  const f = model.config.features;
  const d = model.config.embeddingDim;
  const L = items.rq ? items.rq.levels : 0;
  const code = (id, l) => items.rq.codes[id * L + l];
  const userRow = (u) => row(model.user.weight, u >= 0 && u < model.config.numUsers ? u : model.config.numUsers);
  // A history item / the query: [item emb] ++ [sum over levels of its RQ code embeddings].
  const rep = (id) => [
    ...(model.item ? row(model.item.weight, id) : []),
    ...(f.historyCodes ? model.rq.reduce((acc, e, l) => addv(acc, row(e.weight, code(id, l))), zeros(d)) : []),
  ];
  const sig = (v) => 1 / (1 + Math.exp(-v));
  const act = model.attention && model.attention.activation === 'relu' ? (v) => Math.max(0, v) : sig;
  const out = [];
  for (let b = 0; b < s.size; b++) {
    const item = s.item[b];
    const x = [];
    if (f.userId) x.push(...userRow(s.user[b]));
    if (f.itemId) x.push(...row(model.item.weight, item));
    if (f.rq) for (let l = 0; l < L; l++) x.push(...row(model.rq[l].weight, code(item, l)));
    if (f.vq) {
      const ids = Array.from(items.vq.codes.subarray(item * items.vq.k, (item + 1) * items.vq.k)).filter((c) => c >= 0);
      const sum = ids.reduce((acc, c) => addv(acc, row(model.vq.weight, c)), zeros(d));
      x.push(...(ids.length ? scale(sum, 1 / ids.length) : sum));
    }
    if (f.dense) x.push(...linear(model.dense, Array.from(items.dense.values.subarray(item * items.dense.dim, (item + 1) * items.dense.dim))));
    if (f.history || f.cross) {
      const K = model.keyDim;
      const qv = rep(item);
      const hist = Array.from(s.history.subarray(b * s.maxHistory, b * s.maxHistory + s.historyLength[b]));
      const keys = hist.map(rep);
      // DIN attention unit: MLP over [q, k, q - k, q * k] (hidden activation, linear output), unnormalised.
      const [l1, ...rest] = model.attention.layers;
      const scores = keys.map((k) => {
        let h = linear(l1, [...qv, ...k, ...qv.map((v, i) => v - k[i]), ...qv.map((v, i) => v * k[i])]).map(act);
        rest.forEach((layer, i) => {
          h = linear(layer, h);
          if (i < rest.length - 1) h = h.map(act);
        });
        return h[0];
      });
      const pool = (take) => keys.reduce((acc, k, h) => (take(h) ? addv(acc, scale(k, scores[h])) : acc), zeros(K));
      if (f.history) x.push(...pool(() => true));
      if (f.cross) {
        const m1 = (h) => code(hist[h], 0) === code(item, 0);
        const m12 = (h) => m1(h) && code(hist[h], 1) === code(item, 1);
        x.push(...pool(m1), ...pool(m12));
        x.push(Math.log1p(hist.filter((_, h) => m1(h)).length), Math.log1p(hist.filter((_, h) => m12(h)).length));
      }
    }
    assert.equal(x.length, model.inputDim, 'reference tower input width');
    // Tower: ReLU MLP with a linear output.
    let h = x;
    model.tower.layers.forEach((layer, i) => {
      h = linear(layer, h);
      if (i < model.tower.layers.length - 1) h = h.map((v) => Math.max(0, v));
    });
    out.push(h[0]);
  }
  return out;
}

describe('rank: forward pass against a float64 reference', () => {
  const items = tinyItems();
  const numUsers = 5;
  const ALL = { userId: true, itemId: true, rq: true, vq: true, dense: true, history: true, historyCodes: true, cross: true };
  const configs = [
    ['ids + DIN history (no item features)', { numItems: 13 }, { userId: true, itemId: true, history: true }],
    ['every QARM feature', items, ALL],
    ['codes as the only item representation (no item-id table)', items, { ...ALL, itemId: false, historyCodes: true }],
    ['every QARM feature, attention MLP with two hidden layers (the composed, unfused path)', items, ALL, { attentionHidden: [5, 3] }],
  ];
  for (const [title, itemFeatures, features, extra = {}] of configs) {
    it(title, () => {
      for (const H of [6, 1, 0]) {
        const model = new rank.Ranker({ numUsers, embeddingDim: 4, attentionHidden: [5], hidden: [6, 3], features, seed: 3, ...extra }, itemFeatures);
        randomise(model, 21 + H);
        const s = tinyBatch(H, numUsers);
        const got = q.noGrad(() => model.forward(s).toTypedArray());
        const ref = referenceLogits(model, itemFeatures, s);
        assertClose(got, ref, { rtol: 1e-4, atol: 1e-4, msg: `${title}, H=${H}` });
        // predict() is the sigmoid of the same logits.
        assertClose(
          model.predict(s),
          ref.map((v) => 1 / (1 + Math.exp(-v))),
          { rtol: 1e-4, atol: 1e-5, msg: `${title} predict, H=${H}` },
        );
      }
    });
  }
});
