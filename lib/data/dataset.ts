/**
 * Dataset folders: the on-disk format every qarm command reads, and its validating loader.
 *
 * A dataset folder holds
 * - `interactions.csv` (or `interactions.csv.gz`): header `user,item,timestamp` and optionally
 *   `basket`; `timestamp` is Unix seconds or ISO-8601 (a date-time without an offset is UTC);
 *   `basket` groups the rows bought/consumed together (an invoice, a session), empty = none.
 * - `items.csv` (or `items.csv.gz`): header `item,text`, more columns allowed (kept in `extra`).
 * - optionally `<modality>.npy`: float32 `[items, D]` embeddings whose row i belongs to row i of
 *   `items.csv` (e.g. `image.npy`, `video.npy`).
 *
 * Every problem is reported with its file and line (or row) as an {@link IOError} (missing or
 * unreadable file, malformed CSV, missing column) or a {@link ValueError} (unknown item, bad
 * timestamp, duplicate item, embedding row-count mismatch, NaN/Inf).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { IOError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { readNpy } from './npy.js';

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

/** Finds `name` or `name.gz` in `dir`; IOError naming both when neither (or both) exist. */
function findFile(dir: string, name: string, required: true): string;
function findFile(dir: string, name: string, required: false): string | null;
function findFile(dir: string, name: string, required: boolean): string | null {
  const plain = join(dir, name);
  const gz = plain + '.gz';
  const hasPlain = existsSync(plain);
  const hasGz = existsSync(gz);
  if (hasPlain && hasGz) throw new IOError(`${dir}: both ${name} and ${name}.gz exist; keep one`, 'dir');
  if (hasPlain) return plain;
  if (hasGz) return gz;
  if (required) throw new IOError(`${dir}: missing ${name} (or ${name}.gz)`, 'dir');
  return null;
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

/** Reads and validates `items.csv`. */
export function readItems(path: string): { items: Item[]; itemIndex: Map<string, number> } {
  const file = basename(path);
  const t = parseCsv(readTextFile(path), file);
  const ci = column(t, 'item', file, true);
  const ct = column(t, 'text', file, true);
  const extraCols = t.header.map((h, i) => [h, i] as const).filter(([, i]) => i !== ci && i !== ct);
  const items: Item[] = [];
  const itemIndex = new Map<string, number>();
  for (const { values, line } of t.rows) {
    const id = values[ci].trim();
    if (id === '') throw new ValueError(`${file}:${line}: empty item id`, 'items');
    const prev = itemIndex.get(id);
    if (prev !== undefined) throw new ValueError(`${file}:${line}: duplicate item '${id}' (first on row ${prev + 1} of the data)`, 'items');
    const item: Item = { id, text: values[ct] };
    if (extraCols.length) item.extra = Object.fromEntries(extraCols.map(([h, i]) => [h, values[i]]));
    itemIndex.set(id, items.length);
    items.push(item);
  }
  if (items.length === 0) throw new ValueError(`${file}: no items`, 'items');
  return { items, itemIndex };
}

/** Reads and validates `interactions.csv` against the item index. */
export function readInteractions(
  path: string,
  itemIndex: Map<string, number>,
): { users: string[]; baskets: string[]; interactions: Interaction[] } {
  const file = basename(path);
  const t = parseCsv(readTextFile(path), file);
  const cu = column(t, 'user', file, true);
  const ci = column(t, 'item', file, true);
  const cts = column(t, 'timestamp', file, true);
  const cb = column(t, 'basket', file, false);
  const userIndex = new Map<string, number>();
  const basketIndex = new Map<string, number>();
  const users: string[] = [];
  const baskets: string[] = [];
  const interactions: Interaction[] = [];
  for (const { values, line } of t.rows) {
    const u = values[cu].trim();
    if (u === '') throw new ValueError(`${file}:${line}: empty user`, 'interactions');
    const itemId = values[ci].trim();
    const item = itemIndex.get(itemId);
    if (item === undefined) throw new ValueError(`${file}:${line}: unknown item '${itemId}' (not in items.csv)`, 'interactions');
    const time = parseTimestamp(values[cts]);
    if (!Number.isFinite(time)) {
      throw new ValueError(`${file}:${line}: bad timestamp '${values[cts]}' (want Unix seconds or ISO-8601)`, 'interactions');
    }
    let user = userIndex.get(u);
    if (user === undefined) {
      user = users.length;
      userIndex.set(u, user);
      users.push(u);
    }
    let basket = -1;
    if (cb >= 0) {
      const b = values[cb].trim();
      if (b !== '') {
        let bi = basketIndex.get(b);
        if (bi === undefined) {
          bi = baskets.length;
          basketIndex.set(b, bi);
          baskets.push(b);
        }
        basket = bi;
      }
    }
    interactions.push({ user, item, time, basket });
  }
  interactions.sort((a, b) => a.time - b.time || a.user - b.user || a.item - b.item);
  return { users, baskets, interactions };
}

/** Reads every `<modality>.npy` in `dir` and checks row count and finiteness. */
export function readEmbeddings(dir: string, nItems: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const files = readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
  for (const f of files) {
    const t = readNpy(join(dir, f));
    const shape = t.shape;
    if (t.dtype !== 'float32') throw new ValueError(`${f}: embeddings must be float32, got ${t.dtype}`, 'embeddings');
    const data = t.toTypedArray();
    if (shape.length !== 2) throw new ValueError(`${f}: embeddings must be 2-D [items, D], got [${shape.join(', ')}]`, 'embeddings');
    if (shape[0] !== nItems) {
      throw new ValueError(`${f}: has ${shape[0]} rows but items.csv has ${nItems} items (rows must follow items.csv)`, 'embeddings');
    }
    const d = shape[1];
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new ValueError(`${f}: row ${Math.floor(i / d)} (item ${Math.floor(i / d) + 1} of items.csv), column ${i % d} is ${data[i]}`, 'embeddings');
      }
    }
    out[f.slice(0, -4)] = t;
  }
  return out;
}

/**
 * Loads and validates a dataset folder (see the module comment for the format).
 * @throws IOError for a missing/unreadable file, malformed CSV or a missing column;
 *   ValueError for an unknown item, bad timestamp, duplicate item or bad embeddings.
 */
export async function loadDataset(dir: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  if (typeof dir !== 'string' || dir === '') throw new ValueError("argument 'dir' must be a folder path", 'dir');
  if (!existsSync(dir)) throw new IOError(`${dir}: no such dataset folder`, 'dir');
  const { items, itemIndex } = readItems(findFile(dir, 'items.csv', true));
  const { users, baskets, interactions } = readInteractions(findFile(dir, 'interactions.csv', true), itemIndex);
  const embeddings = opts.skipEmbeddings ? {} : readEmbeddings(dir, items.length);
  return { name: basename(dir.replace(/[/\\]+$/, '')), dir, users, items, itemIndex, baskets, interactions, embeddings };
}

/** The folder of the bundled UCI Online Retail dataset shipped inside the package (`data/online-retail`). */
export function bundledDatasetDir(): string {
  // dist/data/dataset.js → <package>/data/online-retail
  return fileURLToPath(new URL('../../data/online-retail', import.meta.url));
}
