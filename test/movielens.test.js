// scripts/convert-movielens.mjs on a tiny synthetic table shaped like R dslabs' `movielens`
// (never the real data, whose terms forbid redistribution): awkward titles (commas, quotes,
// non-ASCII), missing year/title, "(no genres listed)", ratings in the same second. The folder
// must load with loadDataset and hold exactly the reference items, texts and interactions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as q from '../dist/index.js';

const CONVERT = fileURLToPath(new URL('../scripts/convert-movielens.mjs', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../scripts/movielens.sh', import.meta.url));
const csv = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const MOVIES = [
  { id: '31', title: 'Dangerous Minds', year: '1995', genres: 'Drama' },
  { id: '29', title: 'City of Lost Children, The (Cité des enfants perdus, La)', year: '1995', genres: 'Adventure|Drama|Sci-Fi' },
  { id: '7', title: 'A "quoted" title', year: 'NA', genres: '(no genres listed)' },
  { id: '143410', title: 'NA', year: 'NA', genres: '(no genres listed)' },
  { id: '1000', title: 'Solo', year: '2001', genres: 'Comedy|Film-Noir' },
];
const EXPECTED_TEXT = {
  31: 'Dangerous Minds 1995 Drama',
  29: 'City of Lost Children, The (Cité des enfants perdus, La) 1995 Adventure Drama Sci-Fi',
  7: 'A "quoted" title',
  143410: '',
  1000: 'Solo 2001 Comedy Film-Noir',
};

describe('MovieLens conversion (synthetic fixture)', function () {
  this.timeout(60000);
  let dir;
  const ratings = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qarm-ml-'));
    const g = new q.Generator(3);
    // 17 users; user 5 rates 3 movies in one second.
    for (let u = 1; u <= 17; u++) {
      const n = 1 + g.int(MOVIES.length);
      for (let k = 0; k < n; k++) ratings.push({ user: String(u), movie: MOVIES[(u + k) % MOVIES.length], t: 1e9 + u * 1000 + (u === 5 ? 0 : k * 7) });
    }
    const lines = ['"movieId","title","year","genres","userId","rating","timestamp"'];
    // Reversed: the export is not in time order.
    for (const r of ratings.slice().reverse())
      lines.push([r.movie.id, csv(r.movie.title), r.movie.year, csv(r.movie.genres), r.user, '3.5', String(r.t)].join(','));
    writeFileSync(join(dir, 'raw.csv'), lines.join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a dataset folder with the reference items, texts and interactions', async () => {
    const out = join(dir, 'ml');
    const r = spawnSync(process.execPath, [CONVERT, join(dir, 'raw.csv'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ds = await q.loadDataset(out);
    const rated = [...new Set(ratings.map((x) => x.movie.id))].sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(
      ds.items.map((it) => it.id),
      rated,
    );
    for (const it of ds.items) assert.equal(it.text, EXPECTED_TEXT[it.id], `text of ${it.id}`);
    assert.equal(ds.items.find((it) => it.id === '29').extra.genres, 'Adventure|Drama|Sci-Fi');
    assert.equal(ds.interactions.length, ratings.length);
    const got = ds.interactions.map((e) => `${ds.users[e.user]},${ds.items[e.item].id},${e.time},${e.basket}`).sort();
    const want = ratings.map((x) => `${x.user},${x.movie.id},${x.t},-1`).sort();
    assert.deepEqual(got, want);
    const counts = JSON.parse(readFileSync(join(out, 'counts.json'), 'utf8'));
    const per = new Map();
    for (const x of ratings) per.set(x.movie.id, (per.get(x.movie.id) ?? 0) + 1);
    assert.equal(counts.itemsWithAtMost5Ratings, [...per.values()].filter((c) => c <= 5).length);
    assert.equal(counts.users, 17);
    // The folder runs through the per-user protocol.
    const P = q.pipeline.buildProtocol(q.pipeline.interactionLog(ds), { split: { mode: 'per-user' }, negatives: 2 });
    assert.equal(P.stats.events, ratings.length);
  });

  it('rejects a table without the dslabs columns, naming them', () => {
    writeFileSync(join(dir, 'bad.csv'), 'movieId,title,userId\n1,x,2\n');
    const r = spawnSync(process.execPath, [CONVERT, join(dir, 'bad.csv'), join(dir, 'bad-out')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing column\(s\) year, genres, timestamp/);
    assert.ok(!existsSync(join(dir, 'bad-out', 'items.csv')));
  });

  it('scripts/movielens.sh needs exactly one OUT_DIR', () => {
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: scripts\/movielens.sh OUT_DIR/);
  });

  it('scripts/movielens.sh refuses a folder under data/ (npm packs it; the terms forbid redistribution)', () => {
    const r = spawnSync('bash', [SCRIPT, fileURLToPath(new URL('../data/x/../movielens', import.meta.url))], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /npm packs/);
  });
});
