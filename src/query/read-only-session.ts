/**
 * One connection's reads, one at a time (statements on one connection share its transaction), each in a
 * READ ONLY transaction that is always rolled back, each ended by DuckDB's interrupt once it runs past the
 * time limit. `close()` interrupts the read in flight, so stopping the process never waits on a query.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Rows } from './format-rows.js';
import { DEFAULT_QUERY_LIMITS, QUERY_TIMEOUT_ENV, type QueryLimits } from './query-limits.js';
import { copyReadOnly, ReadOnlyViolation, runReadOnly, type FileFormat, type QueryParams } from './read-only-query.js';

/** DuckDB's own refusals under the confinement and the READ ONLY transaction. */
const DUCKDB_REFUSAL = /Permission Error|file system operations are disabled|launched in read-only mode|configuration has been locked|extension autoloading/i;

export class QueryTimeout extends Error {
  override name = 'QueryTimeout';
}

export class ReadOnlySession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS,
  ) {}

  run(sql: string, params: QueryParams = {}): Promise<Rows> {
    return this.read(() => runReadOnly(this.connection, sql, params, this.limits.maxRows));
  }

  /** The result as a file that the confined instance lets this process write (see confine-database.ts). */
  copyTo(sql: string, params: QueryParams, file: string, format: FileFormat): Promise<void> {
    return this.read(() => copyReadOnly(this.connection, sql, params, file, format));
  }

  /**
   * Runs `work` on the connection between two reads, outside any transaction: what a read must see set up
   * first, such as the connection's temporary views (lake-read-through.ts in run).
   */
  between<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed) throw new Error('the store is closing');
      return work(this.connection);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Interrupts the read in flight, refuses new ones, and resolves once the connection is idle. */
  async close(): Promise<void> {
    this.closed = true;
    this.connection.interrupt();
    await this.queue;
  }

  private read<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.inReadOnlyTransaction(work));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async inReadOnlyTransaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the store is closing; the query was not run');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.connection.interrupt();
    }, this.limits.timeoutMs);
    await this.connection.run('BEGIN TRANSACTION READ ONLY');
    try {
      const result = await work();
      // A streamed result that fails or is interrupted midway just ends: DuckDB's node client drops the
      // error. Rows would be missing without a word, so the end is checked: on time, and the transaction
      // still usable (a failed statement aborts it).
      if (timedOut || this.closed) throw new Error('interrupted');
      await this.connection.run('SELECT 1').catch(() => {
        throw new Error('the query failed while its rows were being read, after the first ones (DuckDB reports no more for a streamed result); narrow it or add a LIMIT to see the error');
      });
      return result;
    } catch (error) {
      if (timedOut) throw new QueryTimeout(`the query ran past ${this.limits.timeoutMs / 1000}s and was stopped (${QUERY_TIMEOUT_ENV}): narrow it, or raise the limit`);
      if (this.closed) throw new Error('the store is closing; the query was stopped');
      const message = (error as Error).message ?? String(error);
      if (!(error instanceof ReadOnlyViolation) && DUCKDB_REFUSAL.test(message)) {
        throw new ReadOnlyViolation(`refused: queries read the store only, no other file, setting or extension (${message.split('\n')[0]})`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      await this.connection.run('ROLLBACK').catch(() => undefined);
    }
  }
}
