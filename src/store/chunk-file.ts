/**
 * A batch's rows handed from an ingest worker thread to the store's writer: one CSV file per table (csv-rows.ts)
 * that the writer copies in with SQL (`AuditStore.commitChunk`, DuckDB parsing them in C++) instead of JavaScript
 * copying them back. A worker needs no DuckDB instance to write them, and nothing is compressed, checkpointed or
 * synced to disk: a chunk lives only until its fold, and a crash before the fold reads its range again.
 */
import { writeFile } from 'node:fs/promises';
import type { ColumnSpec, GatheredRows } from './columnar-table.js';
import { BatchRows } from './batch-rows.js';
import { CsvRows, csvSelect } from './csv-rows.js';

/** What the store's writer needs of a chunk: a file per table with rows. */
export interface ChunkFile {
  tables: { table: string; path: string; rows: number }[];
}

/** The row tables of a batch appended as they are (the sessions are merged, not appended). */
export function batchTables<T>(batch: BatchRows<T>): (T & GatheredRows<ColumnSpec>)[] {
  return [batch.logLines, batch.auditEvents, batch.authFailures, batch.deadLetters, batch.privilegeChanges, batch.controlPlaneEvents];
}

/** A worker's batch: its rows gathered as CSV text. */
export function csvBatch(): BatchRows<CsvRows<ColumnSpec>> {
  return new BatchRows((table, spec) => new CsvRows(table, spec));
}

/** Writes each table's rows to `${pathPrefix}.${table}.csv` (tables without rows get no file). */
export async function writeChunkFile(pathPrefix: string, batch: BatchRows<CsvRows<ColumnSpec>>): Promise<ChunkFile> {
  const tables: ChunkFile['tables'] = [];
  // A worker's batch has no sessions rows: the store's writer derives them at the fold.
  for (const rows of batchTables(batch)) {
    const count = rows.size;
    if (count === 0) continue;
    const path = `${pathPrefix}.${rows.table}.csv`;
    await writeFile(path, rows.take());
    tables.push({ table: rows.table, path, rows: count });
  }
  return { tables };
}

const SPECS = new Map(batchTables(new BatchRows()).map((t) => [t.table, t.spec]));

/** The statement that copies one table's chunk file into the store's table of that name. */
export function chunkInsert(table: string, path: string): string {
  const spec = SPECS.get(table);
  if (spec === undefined) throw new Error(`a chunk file for ${table}, which no batch writes`);
  return `INSERT INTO ${table} (${spec.map(([name]) => `"${name}"`).join(', ')}) ${csvSelect(path, spec)}`;
}
