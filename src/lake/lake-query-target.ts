/**
 * `auditduck query --lake`: read-only SQL over the lake alone, with the store's table names, in an in-memory
 * DuckDB confined to the lake's folder (or its local mirror) like any query surface.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { confineDatabase } from '../query/confine-database.js';
import { queryLimitsFromEnv } from '../query/query-limits.js';
import type { QueryTarget } from '../query/query-target.js';
import { ReadOnlySession } from '../query/read-only-session.js';
import type { Database } from '../store/open-database.js';
import { parseLakeLocation } from './lake-location.js';
import { openLakeStorage } from './lake-storage.js';
import { createLakeViews, directoryRoot, localLakeFolder } from './lake-views.js';

/** The lake as a read-only in-memory database with the store's table names, not yet confined. */
export async function openLakeDatabase(lakeText: string): Promise<{ db: Database; dir: string; close(): Promise<void> }> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const root = directoryRoot(lake);
  const { dir, entries } = await localLakeFolder(lake, root);
  const removeMirror = () => (root === null ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  if (entries.length === 0) {
    await removeMirror();
    throw new Error(`the lake ${lake.description} holds no segment yet: export to it with auditduck run, ingest or backfill --lake`);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const db: Database = { instance, connection, path: dir, readOnly: true };
  const close = async () => {
    connection.closeSync();
    instance.closeSync();
    await removeMirror();
  };
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    await createLakeViews(connection, dir, entries);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, dir, close };
}

export async function openLakeQueryTarget(lakeText: string, opts: { outputFile?: string } = {}): Promise<QueryTarget> {
  const { db, dir, close } = await openLakeDatabase(lakeText);
  const outputFile = opts.outputFile === undefined ? undefined : resolve(opts.outputFile);
  try {
    await confineDatabase(db.connection, { writableDirs: [dir], ...(outputFile ? { writablePaths: [outputFile] } : {}) });
  } catch (error) {
    await close();
    throw error;
  }
  const session = new ReadOnlySession(db.connection, queryLimitsFromEnv());
  return {
    via: 'local',
    run: (sql, params = {}) => session.run(sql, params),
    copyTo: async (sql, params, file, format) => {
      if (resolve(file) !== outputFile) throw new Error(`this query target was opened to write ${outputFile ?? 'no file'}, not ${file}`);
      await session.copyTo(sql, params, outputFile, format);
    },
    close: async () => {
      await session.close();
      await close();
    },
  };
}
