/**
 * Runs a panel's saved query. The pickers (since, until, server, role, ...) reach a query only as the
 * parameters it declares; the panel's fixed params win over them. Every read goes through the
 * read-only check, inside a transaction that is always rolled back, one at a time per connection.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Rows } from '../../query/format-rows.js';
import { runReadOnly } from '../../query/read-only-query.js';
import { DEFAULT_QUERIES_DIR, parseSavedQuery, resolveParams, type SavedQuery } from '../../query/saved-queries.js';
import { NAME, type Panel } from './dashboard-file.js';

/** The saved query `name` from the first folder that has it. */
export function findQueryIn(dirs: readonly string[], name: string): SavedQuery {
  if (!NAME.test(name)) throw new Error(`"${name}" is not a saved query name (lower-case letters, digits, - and _)`);
  for (const dir of dirs) {
    const path = join(dir, `${name}.sql`);
    if (existsSync(path)) return parseSavedQuery(name, readFileSync(path, 'utf8'), path);
  }
  throw new Error(`no saved query named "${name}" in ${dirs.join(', ')}`);
}

export function defaultQueryDirs(extra: readonly string[] = []): string[] {
  return [...extra, DEFAULT_QUERIES_DIR];
}

/** Page values → the values a query gets: only what it declares, blanks left to the query's defaults. */
export function panelParams(query: SavedQuery, panel: Pick<Panel, 'params'>, page: Readonly<Record<string, string>>): Record<string, string | null> {
  const given: Record<string, string | null> = {};
  for (const p of query.params) {
    const value = page[p.name];
    if (value !== undefined && value.trim() !== '') given[p.name] = value.trim();
  }
  return { ...given, ...panel.params };
}

/** One connection, one statement at a time: requests queue here instead of sharing a transaction. */
export class ReadSession {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly connection: DuckDBConnection) {}

  run(query: SavedQuery, given: Readonly<Record<string, string | null>>, now = new Date()): Promise<Rows> {
    // Resolved before queueing: a bad parameter is the caller's error, not a query failure.
    const params = resolveParams(query, given, now);
    return this.serialized(async () => {
      await this.connection.run('BEGIN TRANSACTION');
      try {
        return await runReadOnly(this.connection, query.sql, params);
      } finally {
        await this.connection.run('ROLLBACK').catch(() => undefined);
      }
    });
  }

  /** Resolves when the read in flight (if any) has finished: close the connection only after it. */
  idle(): Promise<unknown> {
    return this.queue;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
