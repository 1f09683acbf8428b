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
import { parseLakeLocation } from './lake-location.js';
import { openLakeStorage } from './lake-storage.js';
import { createLakeViews, directoryRoot, localLakeFolder } from './lake-views.js';

export async function openLakeQueryTarget(lakeText: string, opts: { outputFile?: string } = {}): Promise<QueryTarget> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const root = directoryRoot(lake);
  const { dir, entries } = await localLakeFolder(lake, root);
  if (entries.length === 0) throw new Error(`the lake ${lake.description} holds no segment yet: export to it with auditduck run, ingest or backfill --lake`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const outputFile = opts.outputFile === undefined ? undefined : resolve(opts.outputFile);
  const cleanup = async () => {
    connection.closeSync();
    instance.closeSync();
    if (root === null) await rm(dir, { recursive: true, force: true });
  };
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    await createLakeViews(connection, dir, entries);
    await confineDatabase(connection, { writableDirs: [dir], ...(outputFile ? { writablePaths: [outputFile] } : {}) });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const session = new ReadOnlySession(connection, queryLimitsFromEnv());
  return {
    via: 'local',
    run: (sql, params = {}) => session.run(sql, params),
    copyTo: async (sql, params, file, format) => {
      if (resolve(file) !== outputFile) throw new Error(`this query target was opened to write ${outputFile ?? 'no file'}, not ${file}`);
      await session.copyTo(sql, params, outputFile, format);
    },
    close: async () => {
      await session.close();
      await cleanup();
    },
  };
}
