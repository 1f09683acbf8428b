/**
 * The store's events tables seen whole after hot retention: each one is shadowed by a temporary view of the
 * store's rows plus the lake's rows that retention dropped. Which lake rows those are is read from the
 * store's `hot_horizons` by the view itself, in the query's own transaction: a pass dropped the rows of
 * segments up to its `through_seq` older than its `before`, and the same transaction sees the store without
 * them. So no row shows twice or goes missing, even while `run` drops more under a running query, as long as
 * the view lists the lake's files before the pass commits (`run` lists them first: lake-read-through there).
 * The store's own views and macros (log_records) read the temporary views too.
 *
 * One definition for every reader: `query`, `shell`, `export`, `serve` (a store opened read-only) and `run`'s
 * query API and dashboards (connections beside its writer).
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openLakeStorage, sha256Hex, type LakeStorage } from './lake-storage.js';
import { parseLakeLocation } from './lake-location.js';
import { filledColumn, filledTable, joinFills } from './attribution-fills.js';
import { LAKE_TABLES } from './lake-tables.js';
import { HOT_TABLES } from './hot-retention.js';
import type { ManifestEntry, ManifestFile } from './manifest.js';
import { oneColumnSet, summarize, type ManifestSummary } from './manifest-summary.js';
import { directoryRoot } from './lake-views.js';
import { verifyLake } from './verify-lake.js';

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
 * the thinned tables in segments up to `throughSeq` with a row older than `before`. The view filters their rows
 * by the horizons; files with none older than every cutoff are left out, so fewer are read (or mirrored).
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
 * own): each thinned table with lake files in `files` (under `dir`) reads them too, the rows a horizon covers.
 * `summary` (of the manifest through those files) tells whether their columns differ.
 */
export async function shadowWithLakeRows(c: DuckDBConnection, dir: string, files: readonly ManifestFile[], summary: ManifestSummary): Promise<string[]> {
  const catalog = String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
  const storeTables = new Set((await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`)).getRows().map((r) => String(r[0])));
  const store = (table: string) => `"${catalog.replace(/"/g, '""')}".main.${table}`;
  const shadowed: string[] = [];
  // Only the tables retention thins out; the others are whole in the store.
  for (const name of HOT_TABLES) {
    const spec = LAKE_TABLES[name];
    const own = files.filter((f) => f.table === name);
    if (spec.kind !== 'events' || !storeTables.has(name) || own.length === 0) continue;
    const list = `[${own.map((f) => literal(join(dir, ...f.path.split('/')))).join(', ')}]`;
    const unionByName = !oneColumnSet(summary, name, new Set(own.map((f) => f.path.slice(0, f.path.indexOf('/')))));
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
        `SELECT ${select} FROM read_parquet(${list}, hive_partitioning = true, hive_types = ${hive}, union_by_name = ${unionByName}, filename = true) AS lake ${withFills} ` +
        `WHERE ${time} < (SELECT max(before) FROM ${store('hot_horizons')}) ` +
        `AND EXISTS (SELECT 1 FROM ${store('hot_horizons')} AS h WHERE ${time} < h.before AND ${SEQ_OF_FILE} <= h.through_seq)`,
    );
    shadowed.push(name);
  }
  return shadowed;
}

/**
 * The lake's files as a local folder DuckDB may read: the lake itself when it is a directory, else a mirror
 * (`mirrorDir`, or a fresh temporary folder) to which the files not there yet are copied.
 */
export async function filesLocally(lake: LakeStorage, files: readonly ManifestFile[], mirrorDir?: string): Promise<{ dir: string; close(): Promise<void> }> {
  const root = directoryRoot(lake);
  if (root !== null) return { dir: root, close: async () => undefined };
  const dir = mirrorDir ?? (await mkdtemp(join(tmpdir(), 'auditduck-lake-mirror-')));
  const close = mirrorDir ? async () => undefined : () => rm(dir, { recursive: true, force: true });
  try {
    for (const file of files) {
      const target = join(dir, ...file.path.split('/'));
      if (await stat(target).then(() => true, () => false)) continue;
      const bytes = await lake.get(file.path);
      if (bytes === null) throw new Error(`${file.path} is missing from the lake: run auditduck lake verify`);
      if (sha256Hex(bytes) !== file.sha256) throw new Error(`${file.path} in the lake is not the file its manifest entry names (SHA-256 differs): run auditduck lake verify`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(`${target}.partial`, bytes);
      await rename(`${target}.partial`, target);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, close };
}

/** The lake's rows a store's retention dropped, ready to shadow the store's tables with on any connection. */
export interface DroppedRows {
  /** The folder the confined database must still read. */
  dirs: string[];
  /** Creates the views on a connection to the store (call it on each connection that reads). */
  shadow(c: DuckDBConnection): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * What a reader of a store no process writes (`query`, `shell`, `export`, `serve`) reads besides the store
 * when a lake is configured: nothing while retention has dropped nothing; else the lake's files holding the
 * dropped rows (a Blob lake's mirrored to a temporary folder). Call it before the database is confined.
 */
export async function readDroppedRowsFromLake(c: DuckDBConnection, lakeText: string): Promise<DroppedRows | null> {
  const reach = horizonsReach(await readHotHorizons(c));
  if (reach === null) return null;
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const { entries } = await verifyLake(lake, { checksumsFrom: Number.POSITIVE_INFINITY });
  const files = droppedRowFiles(entries, reach);
  const summary = summarize(entries);
  const local = await filesLocally(lake, files);
  return { dirs: [local.dir], shadow: (on) => shadowWithLakeRows(on, local.dir, files, summary), close: local.close };
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
