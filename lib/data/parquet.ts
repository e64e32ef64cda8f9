/**
 * Parquet tables for dataset folders, read one row group at a time with hyparquet (pure
 * JavaScript). Only the requested columns of one row group are fetched and decoded at a time,
 * so the file itself is never held whole; what the caller builds from the rows is its own.
 * A file written as a single row group (some writers' default for small files) is decoded in
 * one piece. Columns are checked against the kind the caller needs before any data is read.
 */
import { statSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, ColumnData, Compressors, FileMetaData, SchemaElement, SchemaTree } from 'hyparquet';
import { IOError, ValueError } from '../errors.js';

/**
 * What a column must hold: `id` strings or integers (returned as strings), `time` Unix seconds
 * (numbers), Parquet timestamps/dates or date-time strings, `text` strings, `any` any flat
 * value (returned as text).
 */
export type ColumnKind = 'id' | 'time' | 'text' | 'any';

/** One decoded row group: each requested column's values, in row order. */
export interface ParquetRowGroup {
  /** Index of the table's first row in this group (0-based). */
  rowStart: number;
  /** Column name → values (`null` for a missing value). */
  columns: Record<string, ArrayLike<unknown>>;
}

/** A Parquet file opened for reading: its column names and row count. */
export interface ParquetTable {
  file: string;
  columns: string[];
  numRows: number;
  metadata: FileMetaData;
  buffer: AsyncBuffer;
}

// Codecs node:zlib decodes; snappy is hyparquet's own. zstd needs Node >= 22.15 / 23.8.
const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...(zstd ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstd(input)) } : {}),
};
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', ...Object.keys(COMPRESSORS)]);

/**
 * Opens a Parquet file and reads its footer (schema, row groups).
 * @throws IOError naming the file when it cannot be read or is not Parquet.
 */
export async function openParquet(file: string): Promise<ParquetTable> {
  let buffer: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    statSync(file);
    buffer = await asyncBufferFromFile(file);
  } catch (e) {
    throw new IOError(`${file}: cannot read (${(e as Error).message})`, 'file');
  }
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new IOError(`${file}: not a valid Parquet file (${(e as Error).message})`, 'file');
  }
  let tree: SchemaTree;
  try {
    tree = parquetSchema(metadata);
  } catch (e) {
    throw new IOError(`${file}: invalid Parquet schema (${(e as Error).message})`, 'file');
  }
  return { file, columns: tree.children.map((c) => c.element.name), numRows: Number(metadata.num_rows), metadata, buffer };
}

function typeName(e: SchemaElement): string {
  const logical = e.logical_type?.type;
  return [e.type ?? 'group', logical ?? e.converted_type].filter(Boolean).join('/');
}

/** Whether a flat column of this Parquet type can hold values of `kind`. */
function fits(e: SchemaElement, kind: ColumnKind): boolean {
  const logical = e.logical_type?.type;
  const conv = e.converted_type;
  const isString = e.type === 'BYTE_ARRAY' && (!logical || logical === 'STRING' || logical === 'ENUM') && (!conv || conv === 'UTF8' || conv === 'ENUM');
  const timeLike =
    logical === 'TIMESTAMP' ||
    logical === 'DATE' ||
    logical === 'TIME' ||
    conv === 'DATE' ||
    conv === 'TIMESTAMP_MILLIS' ||
    conv === 'TIMESTAMP_MICROS' ||
    conv === 'TIME_MILLIS' ||
    conv === 'TIME_MICROS';
  const isInt = (e.type === 'INT32' || e.type === 'INT64') && !timeLike && logical !== 'DECIMAL' && conv !== 'DECIMAL';
  if (kind === 'id') return isString || isInt;
  if (kind === 'text') return isString;
  if (kind === 'time') {
    if (logical === 'TIME' || conv === 'TIME_MILLIS' || conv === 'TIME_MICROS') return false; // time of day, no date
    return isString || e.type === 'INT32' || e.type === 'INT64' || e.type === 'INT96' || e.type === 'FLOAT' || e.type === 'DOUBLE';
  }
  return true;
}

const KIND_TEXT: Record<ColumnKind, string> = {
  id: 'strings or integers',
  time: 'Unix seconds (a number column), a Parquet TIMESTAMP/DATE or date-time strings',
  text: 'strings',
  any: 'flat values',
};

/**
 * Checks that `t` has the `required` columns (and the `optional` ones it has) with types that
 * fit their kinds, and that their codecs can be decoded.
 * @throws IOError naming the file for a missing column or an unsupported codec; ValueError
 *   naming the file and column for a column of the wrong type or a nested column.
 */
export function checkColumns(t: ParquetTable, kinds: Record<string, ColumnKind>, required: readonly string[]): void {
  for (const name of required) {
    if (!t.columns.includes(name)) throw new IOError(`${t.file}: missing column '${name}' (columns are: ${t.columns.join(',')})`, 'file');
  }
  const tree = parquetSchema(t.metadata);
  for (const child of tree.children) {
    const name = child.element.name;
    const kind = kinds[name];
    if (!kind) continue;
    if (child.children.length || child.element.repetition_type === 'REPEATED') {
      throw new ValueError(`${t.file}: column '${name}' is nested (a list, map or struct); it must hold ${KIND_TEXT[kind]}`, 'file');
    }
    if (!fits(child.element, kind))
      throw new ValueError(`${t.file}: column '${name}' has type ${typeName(child.element)}; it must hold ${KIND_TEXT[kind]}`, 'file');
  }
  for (const g of t.metadata.row_groups) {
    for (const c of g.columns) {
      const md = c.meta_data;
      if (!md || !(md.path_in_schema[0] in kinds)) continue;
      if (!CODECS.has(md.codec)) {
        throw new IOError(
          `${t.file}: column '${md.path_in_schema.join('.')}' is compressed with ${md.codec}, which this reader cannot decode here (use ${[...CODECS].join(', ')})`,
          'file',
        );
      }
    }
  }
}

/**
 * Yields the row groups of `t`, each with the values of `columns` (which must exist), one
 * group decoded at a time.
 * @throws IOError naming the file and row group when its data is corrupt.
 */
export async function* readRowGroups(t: ParquetTable, columns: readonly string[]): AsyncGenerator<ParquetRowGroup> {
  let rowStart = 0;
  for (let g = 0; g < t.metadata.row_groups.length; g++) {
    const n = Number(t.metadata.row_groups[g].num_rows);
    const out: Record<string, unknown[]> = Object.fromEntries(columns.map((c) => [c, new Array<unknown>(n)]));
    const filled: Record<string, number> = Object.fromEntries(columns.map((c) => [c, 0]));
    const onChunk = (c: ColumnData): void => {
      const dst = out[c.columnName];
      if (!dst) return;
      // A chunk may start before or end after the group; copy its part inside the group.
      const lo = Math.max(c.rowStart, rowStart);
      const hi = Math.min(c.rowEnd, rowStart + n);
      for (let r = lo; r < hi; r++) dst[r - rowStart] = c.columnData[r - c.rowStart];
      filled[c.columnName] += Math.max(0, hi - lo);
    };
    try {
      await parquetRead({ file: t.buffer, metadata: t.metadata, columns: [...columns], rowStart, rowEnd: rowStart + n, compressors: COMPRESSORS, onChunk });
    } catch (e) {
      throw new IOError(`${t.file}: corrupt Parquet data in row group ${g} (${(e as Error).message})`, 'file');
    }
    for (const c of columns) {
      if (filled[c] !== n) throw new IOError(`${t.file}: row group ${g} holds ${filled[c]} values of column '${c}', expected ${n}`, 'file');
    }
    yield { rowStart, columns: out };
    rowStart += n;
  }
}

/** A value of an `id`/`text`/`any` column as text: '' for null, numbers as JavaScript prints them, dates as ISO-8601. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
}

/**
 * A value of a `time` column as Unix seconds: numbers are seconds, dates (Parquet TIMESTAMP,
 * DATE, INT96) their instant; strings (and '' for null) are left for the caller's timestamp parser.
 */
export function cellTime(v: unknown): number | string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime() / 1000;
  return NaN;
}
