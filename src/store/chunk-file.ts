/**
 * A batch's rows in a DuckDB file of their own, written by a worker thread's own in-memory instance, so that
 * the store's writer copies them in with SQL (`AuditStore.commitChunk`) instead of JavaScript copying them back.
 * The worker detaches the file before handing it over: two DuckDB instances must never hold one file.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AppendableRows } from './columnar-table.js';
import type { BatchRows } from './batch-rows.js';
import { sqlString } from './sql-literal.js';

/** The name a chunk file is attached under, in the worker and in the store's writer. */
export const CHUNK_CATALOG = 'chunk';

/** What the store's writer needs of a chunk beyond its file: the rows per table. */
export interface ChunkFile {
  path: string;
  /** Rows per table; tables without rows are not in the file. */
  sizes: Record<string, number>;
}

/** The row tables of a batch appended as they are (the sessions are merged, not appended). */
export function batchTables(batch: BatchRows): AppendableRows[] {
  return [batch.logLines, batch.auditEvents, batch.authFailures, batch.deadLetters, batch.privilegeChanges, batch.controlPlaneEvents];
}

/**
 * Writes the batch's rows into a new file at `path`. `connection` is the worker's own instance, migrated like the
 * store, whose tables give the chunk's their exact column types.
 */
export async function writeChunkFile(connection: DuckDBConnection, path: string, batch: BatchRows): Promise<ChunkFile> {
  const sizes: Record<string, number> = {};
  await connection.run(`ATTACH ${sqlString(path)} AS ${CHUNK_CATALOG}`);
  try {
    // A worker's batch has no sessions rows: the store's writer derives them at the fold.
    for (const rows of batchTables(batch)) {
      sizes[rows.table] = rows.size;
      if (rows.size === 0) continue;
      await connection.run(`CREATE TABLE ${CHUNK_CATALOG}.${rows.table} AS SELECT * FROM ${rows.table} LIMIT 0`);
      const appender = await connection.createAppender(rows.table, 'main', CHUNK_CATALOG);
      try {
        rows.appendTo(appender);
      } finally {
        appender.closeSync();
      }
    }
  } finally {
    await connection.run(`DETACH ${CHUNK_CATALOG}`);
  }
  return { path, sizes };
}

