/**
 * Dataset folders: the on-disk format every qarm command reads, and its validating loader.
 *
 * A dataset folder holds
 * - `interactions.csv` (or `interactions.csv.gz`, or `interactions.parquet`): columns
 *   `user,item,timestamp` and optionally `basket`; `timestamp` is Unix seconds or ISO-8601 (a
 *   date-time without an offset is UTC; in Parquet also a TIMESTAMP or DATE column); `basket`
 *   groups the rows bought/consumed together (an invoice, a session), empty = none.
 * - `items.csv` (or `items.csv.gz`, or `items.parquet`): columns `item,text`, more columns
 *   allowed (kept in `extra`, as text).
 * - optionally `<modality>.npy`: float32 `[items, D]` embeddings whose row i belongs to row i of
 *   the items file (e.g. `image.npy`, `video.npy`), or the same split into row shards
 *   `<modality>-00000.npy`, `<modality>-00001.npy`, ... concatenated in number order.
 *
 * The same data as CSV or Parquet loads to the same {@link Dataset}: Parquet id columns may be
 * strings or integers (read as their decimal text), other columns become text as JavaScript
 * prints them. Parquet files are read one row group at a time (lib/data/parquet.ts).
 *
 * Every problem is reported with its file and line (or row) as an {@link IOError} (missing or
 * unreadable file, malformed CSV or Parquet, missing column) or a {@link ValueError} (unknown
 * item, bad timestamp, duplicate item, wrong Parquet column type, embedding row-count mismatch,
 * NaN/Inf).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { IOError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { readNpy } from './npy.js';
import { cellText, cellTime, checkColumns, openParquet, readRowGroups } from './parquet.js';

/** One catalogue item (a row of `items.csv`). */
export interface Item {
  /** The item id as written in the files. */
  id: string;
  /** Its text (name, title, description). May be empty. */
  text: string;
  /** The other columns of `items.csv`, by header name (absent when there are none). */
  extra?: Record<string, string>;
}

/** One user→item event (a row of `interactions.csv`). */
export interface Interaction {
  /** Index into {@link Dataset.users}. */
  user: number;
  /** Index into {@link Dataset.items}. */
  item: number;
  /** Unix seconds (may be fractional). */
  time: number;
  /** Index of the basket (invoice/session) the event belongs to, or -1 when it has none. */
  basket: number;
}

/** A loaded dataset folder. */
export interface Dataset {
  /** Folder name. */
  name: string;
  /** Absolute-or-as-given path of the folder. */
  dir: string;
  /** User ids, in order of first appearance in `interactions.csv`. */
  users: string[];
  /** Items in the order of `items.csv` (the row order of every embedding). */
  items: Item[];
  /** Item id → index into `items`. */
  itemIndex: Map<string, number>;
  /** Basket ids, in order of first appearance (`Interaction.basket` indexes this). */
  baskets: string[];
  /**
   * Every event, sorted by (time, user, item). Repeated (user, item) events are kept: one row
   * per line of `interactions.csv` (the bundled data has one row per invoice line, duplicates
   * within an invoice merged).
   */
  interactions: Interaction[];
  /** Precomputed embeddings by modality (`<modality>.npy`), float32 `[items.length, D]`. */
  embeddings: Record<string, Tensor>;
}

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** Skip the `.npy` embeddings (default false). */
  skipEmbeddings?: boolean;
}

/**
 * Finds the one file of table `name` in `dir`: `name.csv`, `name.csv.gz` or `name.parquet`.
 * IOError naming the candidates when none (or more than one) exists.
 */
function findFile(dir: string, name: string, required: true): string;
function findFile(dir: string, name: string, required: false): string | null;
function findFile(dir: string, name: string, required: boolean): string | null {
  const names = datasetTableFiles(name);
  const found = names.filter((f) => existsSync(join(dir, f)));
  if (found.length > 1) throw new IOError(`${dir}: both ${found.join(' and ')} exist; keep one`, 'dir');
  if (found.length === 1) return join(dir, found[0]);
  if (required) throw new IOError(`${dir}: missing ${names[0]} (or ${names.slice(1).join(', ')})`, 'dir');
  return null;
}

/** The file names a dataset table may have, CSV first. */
export function datasetTableFiles(name: string): string[] {
  return [`${name}.csv`, `${name}.csv.gz`, `${name}.parquet`];
}

/** Reads a (possibly gzipped) UTF-8 text file, IOError on failure. */
export function readTextFile(path: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IOError(`${path}: cannot read (${(e as Error).message})`, 'path');
  }
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new IOError(`${path}: corrupt gzip data (${(e as Error).message})`, 'path');
    }
  }
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM written by spreadsheet tools
  return text;
}

/** A parsed CSV: the header and each record with the line it ends on (1-based; header = 1). */
export interface CsvTable {
  header: string[];
  rows: { values: string[]; line: number }[];
}

/** Parses RFC 4180 CSV text with a header row. IOError (file:line) on malformed input. */
export function parseCsv(text: string, file: string): CsvTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, relax_column_count: false, trim: false }) as never;
  } catch (e) {
    const err = e as Error & { lines?: number };
    const where = err.lines !== undefined ? `:${err.lines}` : '';
    throw new IOError(`${file}${where}: malformed CSV (${err.message})`, 'file');
  }
  if (records.length === 0) throw new IOError(`${file}: empty file (no header row)`, 'file');
  const header = records[0].record.map((h) => h.trim());
  return { header, rows: records.slice(1).map((r) => ({ values: r.record, line: r.info.lines })) };
}

/** Column index of `name` in `header`, IOError naming the file when missing. */
function column(t: CsvTable, name: string, file: string, required: true): number;
function column(t: CsvTable, name: string, file: string, required: false): number | -1;
function column(t: CsvTable, name: string, file: string, required: boolean): number {
  const i = t.header.indexOf(name);
  if (i < 0 && required) {
    throw new IOError(`${file}:1: missing column '${name}' (header is: ${t.header.join(',')})`, 'file');
  }
  return i;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const NUM_RE = /^-?\d+(\.\d+)?$/;

/**
 * Parses a timestamp: Unix seconds (`1291191960`, may be fractional) or ISO-8601
 * (`2010-12-01T08:26:00Z`, `2010-12-01 08:26`, `2010-12-01`; no offset = UTC).
 * Returns Unix seconds, or NaN when the text is neither.
 */
export function parseTimestamp(s: string): number {
  const t = s.trim();
  if (NUM_RE.test(t)) return Number(t);
  const m = ISO_RE.exec(t);
  if (!m) return NaN;
  let iso = t.replace(' ', 'T');
  if (!m[1]) iso += 'T00:00:00';
  if (!m[4]) iso += 'Z';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return NaN;
  // Date.parse rolls 2011-02-30 over to March; reject dates that do not round-trip.
  const d = new Date(ms + (m[4] && m[4] !== 'Z' ? offsetMinutes(m[4]) * 60000 : 0));
  const ymd = `${d.getUTCFullYear().toString().padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  if (ymd !== t.slice(0, 10)) return NaN;
  return ms / 1000;
}

function offsetMinutes(off: string): number {
  const sign = off[0] === '-' ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/** Validates item rows as they come (CSV lines or Parquet rows) and indexes them. */
class ItemRows {
  readonly items: Item[] = [];
  readonly itemIndex = new Map<string, number>();
  constructor(private readonly file: string) {}

  add(idText: string, text: string, extra: Record<string, string> | undefined, where: string): void {
    const id = idText.trim();
    if (id === '') throw new ValueError(`${where}: empty item id`, 'items');
    const prev = this.itemIndex.get(id);
    if (prev !== undefined) throw new ValueError(`${where}: duplicate item '${id}' (first on row ${prev + 1} of the data)`, 'items');
    const item: Item = { id, text };
    if (extra) item.extra = extra;
    this.itemIndex.set(id, this.items.length);
    this.items.push(item);
  }

  done(): { items: Item[]; itemIndex: Map<string, number> } {
    if (this.items.length === 0) throw new ValueError(`${this.file}: no items`, 'items');
    return { items: this.items, itemIndex: this.itemIndex };
  }
}

/** Validates interaction rows as they come against the item index; sorts them at the end. */
class InteractionRows {
  private readonly userIndex = new Map<string, number>();
  private readonly basketIndex = new Map<string, number>();
  readonly users: string[] = [];
  readonly baskets: string[] = [];
  readonly interactions: Interaction[] = [];
  constructor(
    private readonly itemIndex: Map<string, number>,
    private readonly itemsFile: string,
  ) {}

  /** `time` is seconds, or text for {@link parseTimestamp}; `basket` null when the table has none. */
  add(userText: string, itemText: string, time: number | string, basketText: string | null, where: string): void {
    const u = userText.trim();
    if (u === '') throw new ValueError(`${where}: empty user`, 'interactions');
    const itemId = itemText.trim();
    const item = this.itemIndex.get(itemId);
    if (item === undefined) throw new ValueError(`${where}: unknown item '${itemId}' (not in ${this.itemsFile})`, 'interactions');
    const t = typeof time === 'string' ? parseTimestamp(time) : time;
    if (!Number.isFinite(t)) {
      throw new ValueError(`${where}: bad timestamp '${typeof time === 'string' ? time : cellText(time)}' (want Unix seconds or ISO-8601)`, 'interactions');
    }
    let user = this.userIndex.get(u);
    if (user === undefined) {
      user = this.users.length;
      this.userIndex.set(u, user);
      this.users.push(u);
    }
    let basket = -1;
    if (basketText !== null) {
      const b = basketText.trim();
      if (b !== '') {
        let bi = this.basketIndex.get(b);
        if (bi === undefined) {
          bi = this.baskets.length;
          this.basketIndex.set(b, bi);
          this.baskets.push(b);
        }
        basket = bi;
      }
    }
    this.interactions.push({ user, item, time: t, basket });
  }

  done(): { users: string[]; baskets: string[]; interactions: Interaction[] } {
    this.interactions.sort((a, b) => a.time - b.time || a.user - b.user || a.item - b.item);
    return { users: this.users, baskets: this.baskets, interactions: this.interactions };
  }
}

/** Reads and validates `items.csv`. */
export function readItems(path: string): { items: Item[]; itemIndex: Map<string, number> } {
  const file = basename(path);
  const t = parseCsv(readTextFile(path), file);
  const ci = column(t, 'item', file, true);
  const ct = column(t, 'text', file, true);
  const extraCols = t.header.map((h, i) => [h, i] as const).filter(([, i]) => i !== ci && i !== ct);
  const rows = new ItemRows(file);
  for (const { values, line } of t.rows) {
    rows.add(values[ci], values[ct], extraCols.length ? Object.fromEntries(extraCols.map(([h, i]) => [h, values[i]])) : undefined, `${file}:${line}`);
  }
  return rows.done();
}

/** Reads and validates `interactions.csv` against the item index. */
export function readInteractions(
  path: string,
  itemIndex: Map<string, number>,
  itemsFile = 'items.csv',
): { users: string[]; baskets: string[]; interactions: Interaction[] } {
  const file = basename(path);
  const t = parseCsv(readTextFile(path), file);
  const cu = column(t, 'user', file, true);
  const ci = column(t, 'item', file, true);
  const cts = column(t, 'timestamp', file, true);
  const cb = column(t, 'basket', file, false);
  const rows = new InteractionRows(itemIndex, itemsFile);
  for (const { values, line } of t.rows) rows.add(values[cu], values[ci], values[cts], cb >= 0 ? values[cb] : null, `${file}:${line}`);
  return rows.done();
}

/** Reads and validates `items.parquet`, one row group at a time. */
async function readItemsParquet(path: string): Promise<{ items: Item[]; itemIndex: Map<string, number> }> {
  const file = basename(path);
  const t = await openParquet(path);
  const extraCols = t.columns.filter((c) => c !== 'item' && c !== 'text');
  checkColumns(t, { item: 'id', text: 'text', ...Object.fromEntries(extraCols.map((c) => [c, 'any' as const])) }, ['item', 'text']);
  const rows = new ItemRows(file);
  for await (const g of readRowGroups(t, ['item', 'text', ...extraCols])) {
    const { item, text } = g.columns;
    for (let r = 0; r < item.length; r++) {
      const extra = extraCols.length ? Object.fromEntries(extraCols.map((c) => [c, cellText(g.columns[c][r])])) : undefined;
      rows.add(cellText(item[r]), cellText(text[r]), extra, `${file} row ${g.rowStart + r + 1}`);
    }
  }
  return rows.done();
}

/** Reads and validates `interactions.parquet` against the item index, one row group at a time. */
async function readInteractionsParquet(
  path: string,
  itemIndex: Map<string, number>,
  itemsFile: string,
): Promise<{ users: string[]; baskets: string[]; interactions: Interaction[] }> {
  const file = basename(path);
  const t = await openParquet(path);
  const hasBasket = t.columns.includes('basket');
  checkColumns(t, { user: 'id', item: 'id', timestamp: 'time', ...(hasBasket ? { basket: 'id' as const } : {}) }, ['user', 'item', 'timestamp']);
  const rows = new InteractionRows(itemIndex, itemsFile);
  for await (const g of readRowGroups(t, ['user', 'item', 'timestamp', ...(hasBasket ? ['basket'] : [])])) {
    const { user, item, timestamp, basket } = g.columns;
    for (let r = 0; r < user.length; r++) {
      rows.add(cellText(user[r]), cellText(item[r]), cellTime(timestamp[r]), basket ? cellText(basket[r]) : null, `${file} row ${g.rowStart + r + 1}`);
    }
  }
  return rows.done();
}

/** `.npy` files of `dir` by modality: `<m>.npy` alone, or the shards `<m>-00000.npy`, ... in order. */
function embeddingFiles(dir: string): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.npy'))
    .sort()) {
    const m = /^(.+)-(\d{5})\.npy$/.exec(f);
    const name = m ? m[1] : f.slice(0, -4);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name)!.push(f);
  }
  for (const [name, files] of groups) {
    if (files.length > 1 && files.includes(`${name}.npy`))
      throw new IOError(`${dir}: both ${name}.npy and its shards ${name}-NNNNN.npy exist; keep one`, 'embeddings');
    if (files[0] === `${name}.npy`) continue;
    files.forEach((f, i) => {
      const want = `${name}-${String(i).padStart(5, '0')}.npy`;
      if (f !== want) throw new IOError(`${dir}: ${want} is missing (shards of '${name}' are numbered from 00000 without gaps)`, 'embeddings');
    });
  }
  return [...groups];
}

/**
 * Reads every `<modality>.npy` (or its row shards `<modality>-00000.npy`, ...) in `dir` and
 * checks dtype, row count (against `nItems` rows of `itemsFile`) and finiteness.
 */
export function readEmbeddings(dir: string, nItems: number, itemsFile = 'items.csv'): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, files] of embeddingFiles(dir)) {
    const parts: Tensor[] = [];
    let rows = 0;
    for (const f of files) {
      const t = readNpy(join(dir, f));
      const shape = t.shape;
      if (t.dtype !== 'float32') throw new ValueError(`${f}: embeddings must be float32, got ${t.dtype}`, 'embeddings');
      if (shape.length !== 2) throw new ValueError(`${f}: embeddings must be 2-D [items, D], got [${shape.join(', ')}]`, 'embeddings');
      if (parts.length && shape[1] !== parts[0].shape[1])
        throw new ValueError(`${f}: has ${shape[1]} columns but ${files[0]} has ${parts[0].shape[1]}`, 'embeddings');
      const data = t.toTypedArray();
      const d = shape[1];
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          const row = rows + Math.floor(i / d);
          throw new ValueError(`${f}: row ${Math.floor(i / d)} (item ${row + 1} of ${itemsFile}), column ${i % d} is ${data[i]}`, 'embeddings');
        }
      }
      rows += shape[0];
      parts.push(t);
    }
    const what = files.length > 1 ? `${files[0]} … ${files[files.length - 1]}` : files[0];
    if (rows !== nItems) {
      throw new ValueError(
        `${what}: ${files.length > 1 ? 'have' : 'has'} ${rows} rows but ${itemsFile} has ${nItems} items (rows must follow ${itemsFile})`,
        'embeddings',
      );
    }
    out[name] = parts.length === 1 ? parts[0] : concatRows(parts);
  }
  return out;
}

function concatRows(parts: Tensor[]): Tensor {
  const d = parts[0].shape[1];
  const rows = parts.reduce((a, t) => a + t.shape[0], 0);
  const all = new Float32Array(rows * d);
  let off = 0;
  for (const t of parts) {
    all.set(t.f32(), off);
    off += t.size;
    t.dispose();
  }
  return Tensor.fromArray(all, [rows, d], 'float32');
}

/**
 * Loads and validates a dataset folder (see the module comment for the format).
 * @throws IOError for a missing/unreadable file, malformed CSV or Parquet, or a missing column;
 *   ValueError for an unknown item, bad timestamp, duplicate item, a Parquet column of the
 *   wrong type or bad embeddings.
 */
export async function loadDataset(dir: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  if (typeof dir !== 'string' || dir === '') throw new ValueError("argument 'dir' must be a folder path", 'dir');
  if (!existsSync(dir)) throw new IOError(`${dir}: no such dataset folder`, 'dir');
  const itemsPath = findFile(dir, 'items', true);
  const interPath = findFile(dir, 'interactions', true);
  const itemsFile = itemsPath.endsWith('.parquet') ? basename(itemsPath) : 'items.csv';
  const { items, itemIndex } = itemsPath.endsWith('.parquet') ? await readItemsParquet(itemsPath) : readItems(itemsPath);
  const { users, baskets, interactions } = interPath.endsWith('.parquet')
    ? await readInteractionsParquet(interPath, itemIndex, itemsFile)
    : readInteractions(interPath, itemIndex, itemsFile);
  const embeddings = opts.skipEmbeddings ? {} : readEmbeddings(dir, items.length, itemsFile);
  return { name: basename(dir.replace(/[/\\]+$/, '')), dir, users, items, itemIndex, baskets, interactions, embeddings };
}

/** The folder of the bundled UCI Online Retail dataset shipped inside the package (`data/online-retail`). */
export function bundledDatasetDir(): string {
  // dist/data/dataset.js → <package>/data/online-retail
  return fileURLToPath(new URL('../../data/online-retail', import.meta.url));
}
