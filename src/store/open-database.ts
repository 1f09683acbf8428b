import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { migrations } from './migrations.js';

export interface Database {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  path: string;
  readOnly: boolean;
}

/**
 * Opens (and for writers, creates and migrates) a store file. DuckDB lets one process hold a file for
 * writing and then no other process may open it, not even read-only: callers that only read should go
 * through the running process instead (see the query command).
 */
export async function openDatabase(path: string, opts: { readOnly?: boolean; memoryLimit?: string } = {}): Promise<Database> {
  const readOnly = opts.readOnly ?? false;
  const threads = threadsSetting();
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      ...(readOnly ? { access_mode: 'READ_ONLY' } : {}),
      // DuckDB would take 80% of RAM for its buffers; a log pipeline shares the machine.
      memory_limit: opts.memoryLimit ?? process.env.AUDITDUCK_MEMORY_LIMIT ?? '128MB',
      ...threads,
    });
  } catch (error) {
    throw new Error(explainOpenError(path, error as Error));
  }
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  if (!readOnly) {
    // Fewer, larger checkpoints: the WAL is merged into the file in big steps instead of every 16 MiB.
    await connection.run(`SET checkpoint_threshold = '64MiB'`);
    await migrate(connection);
  }
  return { instance, connection, path, readOnly };
}

/**
 * DuckDB's threads from AUDITDUCK_THREADS (default: DuckDB's own, one a core). Set when the instance is created,
 * so it holds in `run` too, whose configuration is locked for the query API: on a small machine, 1 makes the lake
 * export and checkpoints cheaper in CPU (DuckDB's hand-offs to its threads cost more than they save on small
 * statements) at the price of queries that scan on one core (docs/benchmarks.md).
 */
export function threadsSetting(env: NodeJS.ProcessEnv = process.env): { threads?: string } {
  const value = env.AUDITDUCK_THREADS;
  if (value === undefined) return {};
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`AUDITDUCK_THREADS must be a whole number of threads, 1 or more (got "${value}")`);
  return { threads: value };
}

export async function closeDatabase(db: Database): Promise<void> {
  db.connection.closeSync();
  db.instance.closeSync();
}

async function migrate(connection: DuckDBConnection): Promise<void> {
  await connection.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL, description VARCHAR)');
  const current = await connection.runAndReadAll('SELECT coalesce(max(version), 0) AS v FROM schema_version');
  const version = Number(current.getRowObjects()[0]?.v ?? 0);
  let migrated = false;
  for (const migration of migrations) {
    if (migration.version <= version) continue;
    await connection.run('BEGIN TRANSACTION');
    try {
      await connection.run(migration.sql);
      const insert = await connection.prepare('INSERT INTO schema_version VALUES ($1, now(), $2)');
      insert.bindInteger(1, migration.version);
      insert.bindVarchar(2, migration.description);
      await insert.run();
      await connection.run('COMMIT');
    } catch (error) {
      // A failed statement may have ended the transaction already; the migration's own error is the one to report.
      await connection.run('ROLLBACK').catch(() => undefined);
      throw new Error(`migrating the store to version ${migration.version} failed: ${(error as Error).message}`);
    }
    migrated = true;
  }
  // Schema changes go into the file now, not only the WAL: DuckDB 1.5 cannot replay an ADD COLUMN on a table
  // whose defaults call functions (roles.uncertain DEFAULT []), so a crash before the next checkpoint would leave
  // a store that no longer opens.
  if (migrated) await connection.run('CHECKPOINT');
}

function explainOpenError(path: string, error: Error): string {
  if (/lock/i.test(error.message)) {
    return `cannot open ${path}: another process holds it (${error.message}). While 'auditduck run' holds the store, query it through that process (auditduck query talks to it over its local API).`;
  }
  return `cannot open the store ${path}: ${error.message}`;
}
