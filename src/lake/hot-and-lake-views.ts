/**
 * The store's events tables seen whole after hot retention: each one is shadowed by a temporary view of the
 * store's rows plus the lake's rows that retention dropped (hot_horizons: rows of segments up to
 * `through_seq` older than `before`). Those sets are disjoint, so no row shows twice, and the store's own
 * views and macros (log_records) read the temporary views too. A store with no horizon reads nothing more.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openLakeStorage } from './lake-storage.js';
import { parseLakeLocation } from './lake-location.js';
import { LAKE_TABLES } from './lake-tables.js';
import { HOT_TABLES } from './hot-retention.js';
import type { ManifestEntry } from './manifest.js';
import { directoryRoot, localLakeFolder } from './lake-views.js';

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
 * The horizons as disjoint time bands, oldest first: [from, before) of the segments up to `throughSeq`. Pass i
 * dropped the rows of segments up to its through_seq older than its cutoff, so a row in band i is dropped when
 * a pass with that cutoff or a later one covered its segment: the highest through_seq from band i on. (Passes
 * differ so only when hotDays was raised between them; usually one horizon covers all.)
 */
export function horizonBands(horizons: readonly HotHorizon[]): { from: Date | null; before: Date; throughSeq: number }[] {
  const sorted = [...horizons].sort((a, b) => a.before.getTime() - b.before.getTime());
  return sorted.map((h, i) => ({ from: i === 0 ? null : sorted[i - 1]!.before, before: h.before, throughSeq: Math.max(h.throughSeq, ...sorted.slice(i + 1).map((n) => n.throughSeq)) }));
}

/** Creates the temporary views on `c` (the store, opened read-only, not yet confined). */
export async function shadowWithLakeRows(c: DuckDBConnection, dir: string, entries: readonly ManifestEntry[], horizons: readonly HotHorizon[]): Promise<string[]> {
  const catalog = String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
  const storeTables = new Set((await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`)).getRows().map((r) => String(r[0])));
  const bands = horizonBands(horizons);
  const shadowed: string[] = [];
  // Only the tables retention thins out; the others are whole in the store.
  for (const name of HOT_TABLES) {
    const spec = LAKE_TABLES[name];
    if (spec.kind !== 'events' || !storeTables.has(name)) continue;
    const parts: string[] = [];
    for (const band of bands) {
      const files = entries.filter((e) => e.seq <= band.throughSeq).flatMap((e) => e.files).filter((f) => f.table === name);
      if (files.length === 0) continue;
      const list = `[${files.map((f) => literal(join(dir, ...f.path.split('/')))).join(', ')}]`;
      const hive = spec.byServer ? `{'server': VARCHAR, 'date': DATE}` : `{'date': DATE}`;
      const time = `"${spec.time}"`;
      const lower = band.from === null ? '' : ` AND ${time} >= ${timestamp(band.from)}`;
      parts.push(
        `SELECT * EXCLUDE ("date") FROM read_parquet(${list}, hive_partitioning = true, hive_types = ${hive}, union_by_name = true) WHERE ${time} < ${timestamp(band.before)}${lower}`,
      );
    }
    if (parts.length === 0) continue;
    const store = `"${catalog.replace(/"/g, '""')}".main.${name}`;
    // The store's column order and types: the lake's rows are cast into them.
    const columns = (await c.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = '${name}' ORDER BY column_index`)).getRows();
    const select = columns.map(([col, type]) => `"${String(col)}"::${String(type)} AS "${String(col)}"`).join(', ');
    const lakeRows = parts.map((p) => `SELECT ${select} FROM (${p})`).join(' UNION ALL ');
    await c.run(`CREATE TEMP VIEW ${name} AS SELECT * FROM ${store} UNION ALL ${lakeRows}`);
    shadowed.push(name);
  }
  return shadowed;
}

/**
 * What `auditduck query` reads besides the store when a lake is configured: nothing while retention has
 * dropped nothing; else the lake (its folder, or a local mirror of a Blob lake) and the views above. Returns
 * the folder the confined database must still read, and what to remove when the query ends.
 */
export async function readDroppedRowsFromLake(c: DuckDBConnection, lakeText: string): Promise<{ dirs: string[]; close(): Promise<void> } | null> {
  const horizons = await readHotHorizons(c);
  if (horizons.length === 0) return null;
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const root = directoryRoot(lake);
  const { dir, entries } = await localLakeFolder(lake, root);
  const close = () => (root === null ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  try {
    await shadowWithLakeRows(c, dir, entries, horizons);
  } catch (error) {
    await close();
    throw error;
  }
  return { dirs: [dir], close };
}

function timestamp(d: Date): string {
  return `'${d.toISOString()}'::TIMESTAMPTZ`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
