/**
 * `auditduck query --lake`: read-only SQL over the lake alone, with the store's table names, in an in-memory
 * DuckDB confined to the lake's folder (or its local mirror) like any query surface.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { assertStoreExists, confinedLocalTarget, openQueryTarget, type QueryTarget, type QueryTargetOptions } from '../query/query-target.js';
import { closeDatabase, openDatabase, threadsSetting, type Database } from '../store/open-database.js';
import { readDroppedRowsFromLake } from './hot-and-lake-views.js';
import { parseLakeLocation } from './lake-location.js';
import { openLakeStorage } from './lake-storage.js';
import { createLakeViews, localLakeFolder } from './lake-views.js';

/** The lake as a read-only in-memory database with the store's table names, not yet confined. */
export async function openLakeDatabase(lakeText: string): Promise<{ db: Database; dir: string; close(): Promise<void> }> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const { dir, summary } = await localLakeFolder(lake);
  if (summary.segments === 0) {
    throw new Error(`the lake ${lake.description} holds no segment yet: export to it with auditduck run, ingest or backfill --lake`);
  }
  const instance = await DuckDBInstance.create(':memory:', threadsSetting());
  const connection = await instance.connect();
  const db: Database = { instance, connection, path: dir, readOnly: true };
  const close = async () => {
    connection.closeSync();
    instance.closeSync();
  };
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    await createLakeViews(connection, dir, summary);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, dir, close };
}

export async function openLakeQueryTarget(lakeText: string, opts: QueryTargetOptions = {}): Promise<QueryTarget> {
  const { db, dir, close } = await openLakeDatabase(lakeText);
  return confinedLocalTarget(db.connection, close, { ...opts, writableDirs: [dir] });
}

/**
 * The store, with a lake configured: each events table reads the store's rows and, for what hot retention
 * dropped, the lake's. While `auditduck run` holds the store, its query API answers (reading through its lake).
 */
export async function openStoreAndLakeQueryTarget(dbPath: string, lakeText: string, opts: QueryTargetOptions = {}): Promise<QueryTarget> {
  return openQueryTarget(dbPath, opts, async (connection) => {
    const dropped = await readDroppedRowsFromLake(connection, lakeText);
    if (dropped === null) return null;
    await dropped.shadow(connection);
    return dropped;
  });
}

/**
 * The store opened read-only with a lake configured, for a reader that opens connections of its own (`serve`):
 * the folders to let it read, and `shadow` to run on each reading connection. Nothing more while retention
 * has dropped nothing.
 */
export async function openStoreAndLakeDatabase(dbPath: string, lakeText: string): Promise<{ db: Database; dirs: string[]; shadow(c: DuckDBConnection): Promise<unknown>; close(): Promise<void> }> {
  assertStoreExists(dbPath);
  const db = await openDatabase(dbPath, { readOnly: true });
  let dropped;
  try {
    dropped = await readDroppedRowsFromLake(db.connection, lakeText);
  } catch (error) {
    await closeDatabase(db);
    throw error;
  }
  return {
    db,
    dirs: dropped?.dirs ?? [],
    shadow: async (c) => dropped?.shadow(c),
    close: () => closeDatabase(db),
  };
}
