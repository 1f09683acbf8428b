/**
 * The store's events tables seen whole after hot retention: each one is shadowed by a temporary view of the
 * store's rows plus the lake's rows that retention dropped. Which lake rows those are is read from the
 * store's `hot_horizons` by the view itself, in the query's own transaction: a pass dropped the rows of
 * segments up to its `through_seq` older than its `before`, and the same transaction sees the store without
 * them. So no row shows twice or goes missing, even while `run` drops more under a running query, as long as
 * the view reaches the lake's files before the pass commits (`run` makes them so first: lake-read-through there).
 * The store's own views and macros (log_records) read the temporary views too.
 *
 * One definition for every reader: `query`, `shell`, `export`, `serve` (a store opened read-only) and `run`'s
 * query API and dashboards (connections beside its writer).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openLakeStorage } from './lake-storage.js';
import { parseLakeLocation } from './lake-location.js';
import { filledColumn, filledTable, joinFills } from './attribution-fills.js';
import { LAKE_TABLES } from './lake-tables.js';
import { HOT_TABLES } from './hot-retention.js';
import type { ManifestEntry, ManifestFile } from './manifest.js';
import { oneColumnSet, type ManifestSummary } from './manifest-summary.js';
import { localLakeFolder } from './lake-views.js';

export interface HotHorizon {
  before: Date;
  throughSeq: number;
}

/** The store's horizons; none in a store retention never thinned (or one older than hot_horizons). */
export async function readHotHorizons(c: DuckDBConnection): Promise<HotHorizon[]> {
  const exists = (await c.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'hot_horizons' AND NOT temporary`)).getRows()[0]![0];
  if (Number(exists) === 0) return [];
  const rows = (await c.runAndReadAll(`SELECT epoch_ms(before), through_seq FROM hot_horizons ORDER BY before`)).getRows();
  return rows.map(([ms, seq]) => ({ before: new Date(Number(ms)), throughSeq: Number(seq) }));
}

/**
 * The lake's files that hold rows retention dropped, or will drop up to `throughSeq` before `before`: files of
 * the thinned tables in segments up to `throughSeq` with a row older than `before`. `run` copies these of a Blob
 * lake beside the store (lake-read-through.ts); files with no row older than every cutoff are not copied.
 */
export function droppedRowFiles(entries: readonly ManifestEntry[], upTo: { throughSeq: number; before: Date }): ManifestFile[] {
  const thinned = new Set<string>(HOT_TABLES);
  return entries
    .filter((e) => e.seq <= upTo.throughSeq)
    .flatMap((e) => e.files)
    .filter((f) => thinned.has(f.table) && f.minTime !== null && new Date(f.minTime).getTime() < upTo.before.getTime());
}

/** What every horizon of the store covers: the highest segment and the latest cutoff. */
export function horizonsReach(horizons: readonly HotHorizon[]): { throughSeq: number; before: Date } | null {
  if (horizons.length === 0) return null;
  return { throughSeq: Math.max(...horizons.map((h) => h.throughSeq)), before: new Date(Math.max(...horizons.map((h) => h.before.getTime()))) };
}

/** A segment's sequence number from its file's name (`part-<seq>-<hash>-<n>.parquet`, stage-segment.ts). */
const SEQ_OF_FILE = `CAST(regexp_extract(lake.filename, 'part-([0-9]{8})-[0-9a-f]{12}-[0-9]+\\.parquet$', 1) AS BIGINT)`;

/**
 * (Re)creates the temporary views on `c`, a connection to the store (temporary views are the connection's
 * own): each thinned table with a folder in `dir` (the lake, or a local copy of it) reads its files too, the rows a
 * horizon covers. The folders are read whole, so no file list grows with the lake; `upTo.before` (the latest cutoff,
 * or the one a pass is about to drop to) prunes the days retention keeps by path, and the horizons do the rest: a
 * file of a segment no horizon covers yet adds no row. `summary` (the lake's manifest, folded) says which folders a
 * table has and whether their columns differ.
 */
export async function shadowWithLakeRows(c: DuckDBConnection, dir: string, upTo: { before: Date }, summary: ManifestSummary): Promise<string[]> {
  const catalog = String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
  const storeTables = new Set((await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`)).getRows().map((r) => String(r[0])));
  const store = (table: string) => `"${catalog.replace(/"/g, '""')}".main.${table}`;
  // Rows older than a cutoff (a UTC midnight) are in the days before it.
  const lastDay = new Date(upTo.before.getTime() - 1).toISOString().slice(0, 10);
  const shadowed: string[] = [];
  // Only the tables retention thins out; the others are whole in the store.
  for (const name of HOT_TABLES) {
    const spec = LAKE_TABLES[name];
    const folders = await foldersIn(dir, Object.keys(summary.tables[name]?.folders ?? {}));
    if (spec.kind !== 'events' || !storeTables.has(name) || folders.length === 0) continue;
    const globs = `[${folders.map((folder) => literal(join(dir, folder, '**', '*.parquet'))).join(', ')}]`;
    const unionByName = !oneColumnSet(summary, name, folders);
    const hive = spec.byServer ? `{'server': VARCHAR, 'date': DATE}` : `{'date': DATE}`;
    const time = `lake."${spec.time}"`;
    // The store's column order and types: the lake's rows are cast into them. A row exported before late
    // attribution filled it in gets it from the store's fills, which retention keeps whole.
    const columns = (await c.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = '${name}' ORDER BY column_index`)).getRows();
    const filled = storeTables.has('attribution_fills') ? filledTable(name) : undefined;
    const value = (col: string) => (filled ? filledColumn(filled, col, 'lake', 'fill') : `lake."${col}"`);
    const select = columns.map(([col, type]) => `(${value(String(col))})::${String(type)} AS "${String(col)}"`).join(', ');
    const withFills = filled ? joinFills(store('attribution_fills'), 'lake', 'fill') : '';
    await c.run(
      `CREATE OR REPLACE TEMP VIEW ${name} AS SELECT * FROM ${store(name)} UNION ALL ` +
        `SELECT ${select} FROM read_parquet(${globs}, hive_partitioning = true, hive_types = ${hive}, union_by_name = ${unionByName}, filename = true) AS lake ${withFills} ` +
        `WHERE lake.date <= DATE '${lastDay}' AND ${time} < (SELECT max(before) FROM ${store('hot_horizons')}) ` +
        // The horizons are read once as a list and each row is matched as it streams by: a correlated EXISTS made
        // DuckDB join every lake row to them, which ran out of memory at a few million rows.
        `AND list_bool_or(list_transform((SELECT list({'before': before, 'through_seq': through_seq}) FROM ${store('hot_horizons')}), h -> ${time} < h.before AND ${SEQ_OF_FILE} <= h.through_seq))`,
    );
    shadowed.push(name);
  }
  return shadowed;
}

/** Those of the folders that are in `dir` (a copy holds only what it was given). */
async function foldersIn(dir: string, folders: readonly string[]): Promise<string[]> {
  const present = await Promise.all(folders.map((folder) => stat(join(dir, folder)).then((s) => s.isDirectory(), () => false)));
  return folders.filter((_folder, i) => present[i]);
}

/** The lake's rows a store's retention dropped, ready to shadow the store's tables with on any connection. */
export interface DroppedRows {
  /** The folder the confined database must still read. */
  dirs: string[];
  /** Creates the views on a connection to the store (call it on each connection that reads). */
  shadow(c: DuckDBConnection): Promise<string[]>;
}

/**
 * What a reader of a store no process writes (`query`, `shell`, `export`, `serve`) reads besides the store
 * when a lake is configured: nothing while retention has dropped nothing; else the lake's folders (a Blob lake's
 * through its local copy, lake-mirror.ts), from the manifest's newest checkpoint. Call it before the database is
 * confined.
 */
export async function readDroppedRowsFromLake(c: DuckDBConnection, lakeText: string): Promise<DroppedRows | null> {
  const reach = horizonsReach(await readHotHorizons(c));
  if (reach === null) return null;
  const { dir, summary } = await localLakeFolder(await openLakeStorage(parseLakeLocation(lakeText)));
  return { dirs: [dir], shadow: (on) => shadowWithLakeRows(on, dir, reach, summary) };
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
