#!/usr/bin/env node
// Converts the UCI Online Retail transactions (shared/data/online-retail, or the same shop's
// 2009-2010 year in shared/data/online-retail-ii-2009-2010) into a qarm dataset folder.
//
//   node scripts/convert-online-retail.mjs SRC_DIR OUT_DIR
//
// SRC_DIR/transactions/*.csv.gz are read (columns InvoiceNo,StockCode,Description,Quantity,
// InvoiceDate,UnitPrice,CustomerID,Country). Cleaning, as the source README prescribes:
//   - drop rows without CustomerID,
//   - drop cancellations (InvoiceNo starting with 'C') and Quantity <= 0,
//   - drop non-product codes (StockCode not matching /^\d{5}[A-Za-z]{0,2}$/: POST, DOT, M, ...).
// Output:
//   interactions.csv.gz  user,item,timestamp,basket — one row per (invoice, stock code) (repeated
//                        lines of one invoice merged), timestamp in Unix seconds, basket = InvoiceNo;
//                        sorted by (timestamp, user, item).
//   items.csv            item,text,price — every stock code with at least one kept row; text = its
//                        most frequent Description among kept rows (ties: alphabetical first);
//                        price = median UnitPrice of kept rows.
// Counts are printed as JSON (and written into OUT_DIR/counts.json).
import { mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/convert-online-retail.mjs SRC_DIR OUT_DIR');
  process.exit(2);
}
const PRODUCT = /^\d{5}[A-Za-z]{0,2}$/;

function writeAtomic(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}
function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const files = readdirSync(join(src, 'transactions'))
  .filter((f) => f.endsWith('.csv.gz'))
  .sort();
if (files.length === 0) throw new Error(`${src}/transactions has no .csv.gz files`);
const c = { rows: 0, noCustomer: 0, cancelled: 0, nonPositive: 0, nonProduct: 0, badDate: 0, kept: 0 };
const lines = new Map(); // `${invoice}\t${code}` -> {user, item, time, basket}
const descCount = new Map(); // code -> Map(desc -> n)
const prices = new Map(); // code -> number[]
for (const f of files) {
  const recs = parse(gunzipSync(readFileSync(join(src, 'transactions', f))), { columns: true, skip_empty_lines: true });
  for (const r of recs) {
    c.rows++;
    if (r.CustomerID === '') {
      c.noCustomer++;
      continue;
    }
    if (r.InvoiceNo.startsWith('C')) {
      c.cancelled++;
      continue;
    }
    if (!(Number(r.Quantity) > 0)) {
      c.nonPositive++;
      continue;
    }
    if (!PRODUCT.test(r.StockCode)) {
      c.nonProduct++;
      continue;
    }
    const ms = Date.parse(r.InvoiceDate);
    if (!Number.isFinite(ms)) {
      c.badDate++;
      continue;
    }
    c.kept++;
    const time = ms / 1000;
    const key = `${r.InvoiceNo}\t${r.StockCode}`;
    const prev = lines.get(key);
    if (!prev || time < prev.timestamp) lines.set(key, { user: r.CustomerID, item: r.StockCode, timestamp: time, basket: r.InvoiceNo });
    if (r.Description !== '') {
      let m = descCount.get(r.StockCode);
      if (!m) descCount.set(r.StockCode, (m = new Map()));
      m.set(r.Description, (m.get(r.Description) ?? 0) + 1);
    }
    let p = prices.get(r.StockCode);
    if (!p) prices.set(r.StockCode, (p = []));
    p.push(Number(r.UnitPrice));
  }
}

const rows = [...lines.values()].sort(
  (a, b) => a.timestamp - b.timestamp || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0) || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0),
);
const codes = [...prices.keys()].sort();
const itemLines = ['item,text,price'];
for (const code of codes) {
  const m = descCount.get(code) ?? new Map();
  let best = '';
  let bestN = -1;
  for (const [d, n] of [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    if (n > bestN) {
      best = d;
      bestN = n;
    }
  const p = prices
    .get(code)
    .slice()
    .sort((a, b) => a - b);
  const mid = p.length >> 1;
  const median = p.length % 2 ? p[mid] : (p[mid - 1] + p[mid]) / 2;
  itemLines.push(`${csvField(code)},${csvField(best)},${Number(median.toFixed(4))}`);
}
const interLines = ['user,item,timestamp,basket', ...rows.map((r) => `${r.user},${csvField(r.item)},${r.timestamp},${csvField(r.basket)}`)];

mkdirSync(out, { recursive: true });
writeAtomic(join(out, 'items.csv'), itemLines.join('\n') + '\n');
writeAtomic(join(out, 'interactions.csv.gz'), gzipSync(interLines.join('\n') + '\n', { level: 9 }));
const pairs = new Set(rows.map((r) => `${r.user}\t${r.item}`));
const counts = {
  source: src.replace(/\/+$/, '').split('/').pop(),
  sourceFiles: files.length,
  ...c,
  interactions: rows.length,
  users: new Set(rows.map((r) => r.user)).size,
  items: codes.length,
  baskets: new Set(rows.map((r) => r.basket)).size,
  userItemPairs: pairs.size,
  first: new Date(rows[0].timestamp * 1000).toISOString(),
  last: new Date(rows[rows.length - 1].timestamp * 1000).toISOString(),
};
writeAtomic(join(out, 'counts.json'), JSON.stringify(counts, null, 2) + '\n');
console.log(JSON.stringify(counts, null, 2));
