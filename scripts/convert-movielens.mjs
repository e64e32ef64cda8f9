#!/usr/bin/env node
// Converts a MovieLens ratings table, as exported by scripts/movielens.sh from R's dslabs
// package (`data(movielens)`: movieId,title,year,genres,userId,rating,timestamp, one row per
// rating), into a qarm dataset folder.
//
//   node scripts/convert-movielens.mjs RAW_CSV OUT_DIR      (after npm run build: uses dist/)
//
// Output (OUT_DIR is created; files written atomically):
//   interactions.csv  user,item,timestamp — every rating is an interaction (no basket: ratings
//                     of one user in the same second form one request), sorted by
//                     (timestamp, user, item); user = userId, item = movieId.
//   items.csv         item,text,title,year,genres — one row per movie, by movieId; text = title,
//                     year and the genres as words ("Adventure|Sci-Fi" -> "Adventure Sci-Fi";
//                     "(no genres listed)" and a missing year are left out).
//   counts.json       rows, users, items, ratings-per-item quantities (also printed).
// MovieLens' terms allow research use but not redistribution: never commit or bundle the output.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { writeFileAtomic } from '../dist/data/atomic.js';

const [raw, out] = process.argv.slice(2);
if (!raw || !out) {
  console.error('usage: node scripts/convert-movielens.mjs RAW_CSV OUT_DIR');
  process.exit(2);
}

function fail(msg) {
  console.error(`convert-movielens: ${msg}`);
  process.exit(1);
}
const writeAtomic = (file, text) => writeFileAtomic(file, Buffer.from(text));
const csvField = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const isNA = (s) => s === '' || s === 'NA';

let recs;
try {
  recs = parse(readFileSync(raw), { columns: true, skip_empty_lines: true });
} catch (e) {
  fail(`cannot read ${raw}: ${e.message}`);
}
const need = ['movieId', 'title', 'year', 'genres', 'userId', 'timestamp'];
if (recs.length === 0) fail(`${raw}: no rows`);
const missing = need.filter((k) => !(k in recs[0]));
if (missing.length) fail(`${raw}: missing column(s) ${missing.join(', ')} (want ${need.join(',')})`);

const movies = new Map(); // movieId -> {title, year, genres, ratings}
const rows = [];
recs.forEach((r, k) => {
  const line = k + 2;
  if (!/^\d+$/.test(r.movieId)) fail(`${raw}:${line}: bad movieId '${r.movieId}'`);
  if (!/^\d+$/.test(r.userId)) fail(`${raw}:${line}: bad userId '${r.userId}'`);
  if (!/^\d+$/.test(r.timestamp)) fail(`${raw}:${line}: bad timestamp '${r.timestamp}' (want unix seconds)`);
  let m = movies.get(r.movieId);
  if (!m)
    movies.set(r.movieId, (m = { title: isNA(r.title) ? '' : r.title, year: isNA(r.year) ? '' : r.year, genres: isNA(r.genres) ? '' : r.genres, ratings: 0 }));
  m.ratings++;
  rows.push({ user: r.userId, item: r.movieId, timestamp: Number(r.timestamp) });
});
rows.sort((a, b) => a.timestamp - b.timestamp || Number(a.user) - Number(b.user) || Number(a.item) - Number(b.item));

const ids = [...movies.keys()].sort((a, b) => Number(a) - Number(b));
const itemLines = ['item,text,title,year,genres'];
for (const id of ids) {
  const m = movies.get(id);
  const words = m.genres === '(no genres listed)' ? [] : m.genres.split('|').filter(Boolean);
  const text = [m.title, m.year, ...words]
    .filter((s) => s !== '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  itemLines.push([id, text, m.title, m.year, m.genres].map(csvField).join(','));
}
const interLines = ['user,item,timestamp', ...rows.map((r) => `${r.user},${r.item},${r.timestamp}`)];

mkdirSync(out, { recursive: true });
writeAtomic(join(out, 'items.csv'), itemLines.join('\n') + '\n');
writeAtomic(join(out, 'interactions.csv'), interLines.join('\n') + '\n');
const perItem = ids.map((id) => movies.get(id).ratings);
const counts = {
  source: 'MovieLens latest-small via R dslabs (research use only; do not redistribute)',
  interactions: rows.length,
  users: new Set(rows.map((r) => r.user)).size,
  items: ids.length,
  itemsWithAtMost5Ratings: perItem.filter((c) => c <= 5).length,
  itemsWithOneRating: perItem.filter((c) => c === 1).length,
  first: new Date(rows[0].timestamp * 1000).toISOString(),
  last: new Date(rows[rows.length - 1].timestamp * 1000).toISOString(),
};
writeAtomic(join(out, 'counts.json'), JSON.stringify(counts, null, 2) + '\n');
console.log(JSON.stringify(counts, null, 2));
