// Train a CTR ranker with QARM's code features on your own dataset folder.
//
//   node train-ranker.mjs [dataset-dir]
//
// A dataset folder holds interactions.csv (user,item,timestamp[,basket]), items.csv (item,text)
// and one <modality>.npy per item embedding (float32 [items, D], rows in items.csv order): the
// same folder `qarm run --data DIR` reads (README, "Bring your own data"). Without an argument
// the script writes a small synthetic shop first, so it runs as it is.
//
// Steps: load the folder -> split by time into train / validation / test with sampled negatives
// -> RQ and VQ codes from the item embeddings -> a ranker with item-id, code, history and
// code-match cross features -> train with early stopping -> AUC / GAUC on the test period.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, RQKMeans, loadDataset, metrics, pipeline, rank, tensor, vqCodes, writeNpy } from 'qarm';

const dir = process.argv[2] ?? writeDemoShop(join(mkdtempSync(join(tmpdir(), 'qarm-shop-')), 'shop'));
const ds = await loadDataset(dir);
const [modality] = Object.keys(ds.embeddings);
assert.ok(modality, `${dir} has no <modality>.npy item embeddings`);
const emb = ds.embeddings[modality]; // float32 [items, D]
console.log(`${dir}: ${ds.users.length} users, ${ds.items.length} items, ${ds.interactions.length} events; embeddings '${modality}' ${emb.shape.join(' x ')}`);

// The protocol of `qarm run`: events split by time (first 70 % train, then validation, last
// 15 % test), 4 sampled negatives per positive, each sample with the user's earlier history.
const p = pipeline.buildProtocol(pipeline.interactionLog(ds), {
  split: { trainFraction: 0.7, testFraction: 0.85 },
  negatives: 4,
  historyLength: 10,
});
// The ranker's ids: warm items (seen in training) first, cold items after them (they share the
// out-of-vocabulary id row: only their codes tell them apart).
const order = pipeline.itemOrder(p);
const [train, valid, test] = [p.train, p.validation, p.test].map((set) => pipeline.toRankSamples(set, p, order));
console.log(`samples: train ${train.size}, validation ${valid.size}, test ${test.size}; ${p.numWarmItems} warm items`);

// Codes from the embeddings: every item gets them, cold ones included (content exists from day one).
const LEVELS = 2,
  CODEBOOK = 16,
  VQ_K = 10;
const rq = new RQKMeans({ levels: LEVELS, codebookSize: CODEBOOK, seed: 1 }).fit(emb);
const rqCodes = rq.encode(emb);
const vq = vqCodes(emb, emb, { k: VQ_K, excludeSelf: true });
const items = {
  numItems: p.numItems,
  rq: { codes: pipeline.permuteRows(rqCodes.toTypedArray(), LEVELS, order), levels: LEVELS, codebookSize: CODEBOOK },
  // VQ codes name items by their dataset index; the ranker embeds them in their own table.
  vq: { codes: pipeline.permuteRows(vq.toTypedArray(), VQ_K, order), k: VQ_K, poolSize: p.numItems },
};

const ranker = new rank.Ranker(
  {
    numUsers: p.numTrainUsers,
    numItemIds: p.numWarmItems,
    oov: true,
    embeddingDim: 8,
    hidden: [32, 16],
    attentionHidden: [8],
    seed: 1,
  },
  items,
);
const result = await rank.trainRanker(ranker, train, valid, {
  epochs: 4,
  batchSize: 256,
  lr: 5e-3,
  patience: 2,
  seed: 1,
  itemIdDropout: 0.1,
});
for (const e of result.history) console.log(`epoch ${e.epoch + 1}: training loss ${e.loss.toFixed(4)}, validation AUC ${e.auc.toFixed(4)}`);

const probs = ranker.predict(test);
const auc = metrics.auc(test.label, probs);
const gauc = metrics.gauc(test.label, probs, test.group);
console.log(
  `test: AUC ${auc.toFixed(4)}, GAUC ${gauc.toFixed(4)}, logloss ${metrics.logloss(test.label, probs).toFixed(4)} (best epoch ${result.bestEpoch + 1})`,
);
// Cold items (no training event) have ranker ids from numWarmItems on.
const cold = [];
for (let i = 0; i < test.size; i++) if (test.item[i] >= p.numWarmItems) cold.push(i);
const coldAuc = cold.length
  ? metrics.auc(
      cold.map((i) => test.label[i]),
      cold.map((i) => probs[i]),
    )
  : NaN;
console.log(`test samples with a cold item: ${cold.length}, AUC ${coldAuc.toFixed(4)}`);

// Sanity check, so that `npm run examples` fails if the ranker learns nothing from the demo shop.
if (process.argv[2] === undefined) {
  assert.ok(auc > 0.7, `test AUC ${auc} should beat chance clearly on the demo shop`);
  assert.ok(coldAuc > 0.7, `cold-item AUC ${coldAuc}: codes should carry the category to new items`);
}
for (const t of [rqCodes, vq]) t.dispose();

/**
 * A small shop: 136 items in 8 categories (the embedding is the category direction plus noise),
 * 16 of them new in the last weeks, 150 users, each loyal to two categories, buying in baskets
 * over a year.
 */
function writeDemoShop(folder) {
  const g = new Generator(11);
  const [numItems, numUsers, cats, d] = [136, 150, 8, 16];
  const newFrom = 120; // items 120..135 go on sale late in the year: cold at training time
  const centres = Array.from({ length: cats }, () => Array.from({ length: d }, () => g.normal()));
  const itemCat = Array.from({ length: numItems }, (_, i) => i % cats);
  const words = ['mug', 'lamp', 'candle', 'scarf', 'notebook', 'teapot', 'cushion', 'frame'];
  const itemLines = ['item,text', ...itemCat.map((c, i) => `i${i},${words[c]} model ${i}`)];
  const emb = new Float32Array(numItems * d);
  itemCat.forEach((c, i) => {
    for (let j = 0; j < d; j++) emb[i * d + j] = centres[c][j] + 0.5 * g.normal();
  });

  const start = Date.UTC(2024, 0, 1) / 1000,
    year = 365 * 86400;
  const rows = ['user,item,timestamp,basket'];
  for (let u = 0; u < numUsers; u++) {
    const likes = [g.int(cats), g.int(cats)];
    for (let b = 0; b < 6; b++) {
      const when = g.uniform();
      const t = start + Math.floor(when * year);
      for (let k = 0; k < 3; k++) {
        const c = g.uniform() < 0.9 ? likes[g.int(2)] : g.int(cats);
        const fresh = when > 0.85 && g.uniform() < 0.4; // late baskets often hold a new item
        const item = fresh ? newFrom + c + cats * g.int((numItems - newFrom) / cats) : c + cats * g.int(newFrom / cats);
        rows.push(`u${u},i${item},${t + k},u${u}-b${b}`);
      }
    }
  }
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'items.csv'), itemLines.join('\n') + '\n');
  writeFileSync(join(folder, 'interactions.csv'), rows.join('\n') + '\n');
  const t = tensor(emb, [numItems, d]);
  writeNpy(join(folder, 'content.npy'), t);
  t.dispose();
  return folder;
}
