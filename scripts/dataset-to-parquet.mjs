#!/usr/bin/env node
// Converts a CSV dataset folder (interactions.csv[.gz], items.csv[.gz], *.npy) into the same
// dataset with interactions.parquet and items.parquet; the .npy files are copied.
//
//   node scripts/dataset-to-parquet.mjs SRC_DIR OUT_DIR [--row-group-size N]
//
// Every column is written as a UTF-8 string column (ids keep leading zeros, extra columns their
// exact text), except `timestamp`, written as INT64 when every value is whole Unix seconds and
// as DOUBLE when every value is a number; so both folders load to the same Dataset. Needs the
// devDependency hyparquet-writer and a built dist/ (`npx tsc -p tsconfig.json`).
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parseCsv, readTextFile } from '../dist/data/dataset.js';

const NUM = /^-?\d+(\.\d+)?$/;
const INT = /^-?\d+$/;

/** Parquet column sources for one parsed CSV table. */
export function csvColumns(table) {
  return table.header.map((name, c) => {
    const values = table.rows.map((r) => r.values[c]);
    if (name === 'timestamp' && values.every((v) => INT.test(v.trim()) && Number.isSafeInteger(Number(v)))) {
      return { name, data: values.map((v) => BigInt(v.trim())), type: 'INT64' };
    }
    if (name === 'timestamp' && values.every((v) => NUM.test(v.trim()))) return { name, data: values.map(Number), type: 'DOUBLE' };
    return { name, data: values, type: 'STRING' };
  });
}

/** Converts `src` into `out` (created); `rowGroupSize` rows per row group. */
export function datasetToParquet(src, out, { rowGroupSize = 100000 } = {}) {
  mkdirSync(out, { recursive: true });
  for (const name of ['items', 'interactions']) {
    const file = [`${name}.csv`, `${name}.csv.gz`].map((f) => join(src, f)).find((f) => existsSync(f));
    if (!file) throw new Error(`${src}: no ${name}.csv(.gz)`);
    const table = parseCsv(readTextFile(file), file);
    const buf = parquetWriteBuffer({ columnData: csvColumns(table), rowGroupSize });
    const target = join(out, `${name}.parquet`);
    writeFileSync(`${target}.tmp`, new Uint8Array(buf));
    renameSync(`${target}.tmp`, target);
  }
  for (const f of readdirSync(src).filter((f) => f.endsWith('.npy'))) copyFileSync(join(src, f), join(out, f));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--row-group-size');
  const rowGroupSize = i >= 0 ? Number(args.splice(i, 2)[1]) : undefined;
  const [src, out] = args;
  if (!src || !out || (rowGroupSize !== undefined && !(Number.isInteger(rowGroupSize) && rowGroupSize > 0))) {
    console.error('usage: node scripts/dataset-to-parquet.mjs SRC_DIR OUT_DIR [--row-group-size N]');
    process.exit(2);
  }
  datasetToParquet(src, out, { rowGroupSize });
  console.log(`wrote ${out}/items.parquet and ${out}/interactions.parquet`);
}
