/**
 * The lake as the store's tables: a DuckDB connection gets one view per table over the lake's Parquet, so
 * saved queries and the dashboards run on it unchanged. Events tables read every file of their folder
 * (hive partitions `server`, `date`); changes and revisions tables (sessions, alerts) each row's latest version;
 * state tables their latest snapshot. A Blob lake is read through a local copy (DuckDB's azure extension cannot
 * be loaded here).
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { migrations } from '../store/migrations.js';
import { filledColumn, filledTable, joinFills } from './attribution-fills.js';
import { DirectoryLake, type LakeStorage } from './lake-storage.js';
import { LAKE_TABLE_NAMES, LAKE_TABLES, lakeFolder } from './lake-tables.js';
import { readManifest } from './manifest-checkpoints.js';
import { mirrorFolderOf, syncMirror } from './lake-mirror.js';
import { oneColumnSet, type ManifestSummary } from './manifest-summary.js';

/**
 * A local folder holding the lake's files, and its manifest folded from the newest checkpoint: a directory lake is
 * read where it is; a Blob lake through its local copy, brought up to date first (lake-mirror.ts).
 */
export async function localLakeFolder(lake: LakeStorage): Promise<{ dir: string; summary: ManifestSummary }> {
  const root = directoryRoot(lake);
  if (root !== null) return { dir: root, summary: await readManifest(lake) };
  const dir = mirrorFolderOf(lake);
  return { dir, summary: await readManifest(await syncMirror(lake, dir)) };
}

/** Creates the views in `c` (an in-memory database): every table the lake has a file of. */
export async function createLakeViews(c: DuckDBConnection, dir: string, summary: ManifestSummary): Promise<string[]> {
  const created: string[] = [];
  // The fills first: the views of the tables they apply to read them.
  const names = [...LAKE_TABLE_NAMES].sort((a, b) => Number(b === 'attribution_fills') - Number(a === 'attribution_fills'));
  const fillsExported = Object.keys(summary.tables.attribution_fills?.folders ?? {}).length > 0;
  for (const name of names) {
    const spec = LAKE_TABLES[name];
    const table = summary.tables[name];
    const columns = table?.columns ?? undefined;
    if (Object.keys(table?.folders ?? {}).length === 0) {
      // A table with no row yet: empty, with the columns the manifest gives it.
      if (columns) await c.run(`CREATE VIEW ${name} AS SELECT ${columns.map(([col, type]) => `NULL::${type} AS "${col}"`).join(', ')} WHERE false`);
      if (columns) created.push(name);
      continue;
    }
    // A table whose earlier version was written whole (version 1 of the live snapshots, sessions and alerts) and that
    // has no file of its own version yet, in a lake an older auditduck wrote: its latest whole copy is the table.
    const ownVersion = table?.folders[lakeFolder(name)] !== undefined;
    const unionByName = !oneColumnSet(summary, name, [lakeFolder(name)]);
    if ((spec.kind === 'changes' || spec.kind === 'revisions') && ownVersion) {
      // Each row's latest version: the highest change number, or the newest segment's (file names begin with its
      // 8-digit number).
      const newest = spec.kind === 'changes' ? spec.change : 'filename';
      const glob = join(dir, lakeFolder(name), '*.parquet');
      const select = columns ? columns.map(([col]) => `"${col}"`).join(', ') : '* EXCLUDE (filename)';
      await c.run(
        `CREATE VIEW ${name} AS SELECT ${select} FROM read_parquet(${literal(glob)}, union_by_name = ${unionByName}, filename = true) ` +
          `QUALIFY row_number() OVER (PARTITION BY ${spec.key.join(', ')} ORDER BY ${newest} DESC) = 1`,
      );
    } else if (spec.kind === 'events' && ownVersion) {
      const glob = join(dir, lakeFolder(name), '**', '*.parquet');
      const hive = spec.byServer ? `{'server': VARCHAR, 'date': DATE}` : `{'date': DATE}`;
      // The store's column order; `date` is the lake's partition, not a column of the store's table. Rows
      // exported before late attribution filled them in get it from their session's fills. A lake without fills
      // skips the join (half again the CPU of a scan): as its state tables, the views are the lake as opened.
      const filled = columns && fillsExported ? filledTable(name) : undefined;
      const select = !columns ? '* EXCLUDE (date)' : columns.map(([col]) => (filled ? `${filledColumn(filled, col, 'e', 'f')} AS "${col}"` : `e."${col}"`)).join(', ');
      const withFills = filled ? joinFills('attribution_fills', 'e', 'f') : '';
      await c.run(`CREATE VIEW ${name} AS SELECT ${select} FROM read_parquet(${literal(glob)}, hive_partitioning = true, hive_types = ${hive}, union_by_name = ${unionByName}) AS e ${withFills}`);
    } else {
      const path = table?.latestCopy ?? undefined;
      if (path === undefined) throw new Error(`the lake's files of ${name} are none of its version ${spec.version} (${lakeFolder(name)}/), nor a whole copy of an earlier one`);
      await c.run(`CREATE VIEW ${name} AS SELECT * FROM read_parquet(${literal(join(dir, ...path.split('/')))})`);
    }
    created.push(name);
  }
  if (created.includes('log_lines') && created.includes('audit_events')) await c.run(logRecordsView());
  return created;
}

/** The store's log_records view (migration 7), over the lake's log_lines and audit_events. */
function logRecordsView(): string {
  const sql = migrations.find((m) => m.version === 7)!.sql;
  return sql.slice(sql.indexOf('CREATE MACRO'));
}

export function directoryRoot(lake: LakeStorage): string | null {
  return lake instanceof DirectoryLake ? lake.description : null;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

