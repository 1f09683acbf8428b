/**
 * What DuckDB itself enforces under every query surface, whatever SQL slips past the statement check:
 *
 * - no file outside `writableDirs` / `writablePaths` can be read or written (`enable_external_access =
 *   false`): read_text, read_csv, read_blob, glob, COPY TO, EXPORT DATABASE, ATTACH and persistent secrets
 *   all fail with a Permission Error, the store file itself and DuckDB's spill files excepted;
 * - no extension is installed or loaded behind a query's back (a CREATE SECRET otherwise downloads httpfs);
 * - and nothing can turn these back on: `lock_configuration` refuses every later SET, on every connection.
 *
 * The settings are global to the instance, so in `auditduck run` they bind the writer too; it needs no file
 * beyond the store. Run this last, after every SET the process needs: the time zone is set globally here
 * because connections opened later can no longer set it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export interface ConfineOptions {
  /** Directories (with everything under them) the process must still read or write, e.g. an export folder. */
  writableDirs?: readonly string[];
  /** Single files the process must still write, e.g. the --output of `auditduck query`. */
  writablePaths?: readonly string[];
}

export async function confineDatabase(connection: DuckDBConnection, opts: ConfineOptions = {}): Promise<void> {
  await connection.run(`SET GLOBAL TimeZone = 'UTC'`);
  // allowed_* must be set while external access is still on; DuckDB refuses them afterwards.
  if (opts.writableDirs?.length) await connection.run(`SET allowed_directories = ${listLiteral(opts.writableDirs.map((d) => (d.endsWith('/') ? d : `${d}/`)))}`);
  if (opts.writablePaths?.length) await connection.run(`SET allowed_paths = ${listLiteral(opts.writablePaths)}`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET autoinstall_known_extensions = false');
  await connection.run('SET autoload_known_extensions = false');
  await connection.run('SET lock_configuration = true');
}

function listLiteral(items: readonly string[]): string {
  return `[${items.map((s) => `'${s.replace(/'/g, "''")}'`).join(', ')}]`;
}
