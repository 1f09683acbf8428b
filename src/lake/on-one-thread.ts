/**
 * The export's statements on one DuckDB thread. Each segment is many small statements (a COPY per file of a
 * few thousand rows, counts, fingerprints): with more threads, DuckDB hands each one to a background thread
 * while the calling thread polls for a task it never gets, which cost about a fifth of the export's CPU for no
 * gain in time (docs/benchmarks.md, "The lake export"). `threads` belongs to the whole instance, not to a
 * connection, so the value it had is put back after.
 *
 * An instance whose configuration is locked (`run`'s, confined for its query API: confine-database.ts) refuses
 * every SET: there the export runs with the threads it has.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function onOneThread<T>(c: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  const [threads, locked] = (await c.runAndReadAll(`SELECT current_setting('threads'), current_setting('lock_configuration')`)).getRows()[0]!;
  const before = Number(threads);
  if (before === 1 || locked === true) return work();
  await c.run('SET threads = 1');
  try {
    return await work();
  } finally {
    await c.run(`SET threads = ${before}`);
  }
}
