/**
 * The export's statements on one DuckDB thread. Each segment is many small statements (a COPY per file of a
 * few thousand rows, counts, fingerprints): with more threads, DuckDB hands each one to a background thread
 * while the calling thread polls for a task it never gets, which cost a third of the export's CPU for no
 * gain in time (docs/benchmarks.md, "The lake export"). `threads` belongs to the whole instance, not to a
 * connection: while the export runs, `run`'s ingestion (small statements, cheaper on one thread too) and its
 * query API's queries run on one thread as well; the value they had is put back after.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function onOneThread<T>(c: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  const before = Number((await c.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
  if (before === 1) return work();
  await c.run('SET threads = 1');
  try {
    return await work();
  } finally {
    await c.run(`SET threads = ${before}`);
  }
}
