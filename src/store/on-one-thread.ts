/**
 * Work made of many small statements on one DuckDB thread: an ingest's batches (appends, upserts, detection's
 * window reads) and the lake export's segments (a COPY per file of a few thousand rows, counts, fingerprints).
 * With more threads, DuckDB hands each statement to a background thread while the calling thread polls for a task
 * it never gets: 8-10% of an ingest's CPU and about a fifth of the export's, for no gain in time
 * (docs/benchmarks.md). `threads` belongs to the whole instance, not to a connection, so the value it had is put
 * back after (not RESET, which would give DuckDB's default instead of AUDITDUCK_THREADS): a large statement after
 * the work, such as the closing checkpoint, gets every thread again.
 *
 * The work is told how many statements it may run at once, each on its own connection: the threads the instance
 * had. Each such statement runs on its calling thread alone, so together they use the cores the instance was given.
 *
 * An instance whose configuration is locked (`run`'s, confined for its query API: confine-database.ts) refuses
 * every SET: there the work runs with the threads it has, and is told 1, since each statement already has every
 * thread (statements side by side there added polling threads: a fifth more CPU, docs/benchmarks.md).
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function onOneThread<T>(c: DuckDBConnection, work: (sideBySide: number) => Promise<T>): Promise<T> {
  const [threads, locked] = (await c.runAndReadAll(`SELECT current_setting('threads'), current_setting('lock_configuration')`)).getRows()[0]!;
  const before = Number(threads);
  if (before === 1 || locked === true) return work(1);
  await c.run('SET threads = 1');
  const putBack = () => c.run(`SET threads = ${before}`);
  let result: T;
  try {
    result = await work(before);
  } catch (error) {
    // The work's failure is the one to report, not a failure to put the threads back after it.
    await putBack().catch(() => undefined);
    throw error;
  }
  await putBack();
  return result;
}
