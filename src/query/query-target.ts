/**
 * Where read-only SQL runs: the store file opened read-only, or, while `auditduck run` holds the file
 * (DuckDB then refuses every other process, even a reader), that process's query API found through the
 * discovery file next to the store. Callers (query, shell, export) see one interface.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { processIsAlive, readDiscoveryFile, type ApiDiscovery } from '../web/api-discovery.js';
import { closeDatabase, openDatabase } from '../store/open-database.js';
import type { Rows } from './format-rows.js';
import { copyReadOnly, runReadOnly, type FileFormat, type QueryParams } from './read-only-query.js';

export interface QueryTarget {
  /** `local` (the file) or `api` (the running process). */
  readonly via: 'local' | 'api';
  run(sql: string, params?: QueryParams): Promise<Rows>;
  copyTo(sql: string, params: QueryParams, file: string, format: FileFormat): Promise<void>;
  close(): Promise<void>;
}

/** Reading or acknowledging needs a store that exists: opening a missing one would create an empty one, or fail in DuckDB's words. */
export function assertStoreExists(dbPath: string): void {
  if (!existsSync(dbPath)) throw new Error(`no store at ${dbPath}: run \`auditduck ingest\` (or \`auditduck run\`) first, or pass --db (or set AUDITDUCK_DB) to name the store`);
}

export async function openQueryTarget(dbPath: string): Promise<QueryTarget> {
  assertStoreExists(dbPath);
  try {
    const db = await openDatabase(dbPath, { readOnly: true });
    return {
      via: 'local',
      run: (sql, params = {}) => runReadOnly(db.connection, sql, params),
      copyTo: (sql, params, file, format) => copyReadOnly(db.connection, sql, params, file, format),
      close: () => closeDatabase(db),
    };
  } catch (error) {
    if (!/lock/i.test((error as Error).message)) throw error;
    return apiTarget(dbPath, readDiscoveryOrExplain(dbPath, error as Error));
  }
}

function readDiscoveryOrExplain(dbPath: string, lockError: Error): ApiDiscovery {
  const api = readDiscoveryFile(dbPath);
  if (api === null) {
    throw new Error(
      `${dbPath} is held by another process and it publishes no query API (${dbPath}.api.json is missing). ` +
        `If that process is 'auditduck run', start it with the query API on (AUDITDUCK_HTTP_PORT not 0); otherwise wait for it to finish, ` +
        `or query a copy of the file. (${lockError.message.split('\n')[0]})`,
    );
  }
  if (!processIsAlive(api.pid)) {
    throw new Error(`${dbPath}.api.json names process ${api.pid}, which is not running, yet the store is locked: remove the stale file and check which process holds ${dbPath}`);
  }
  return api;
}

export function apiTarget(dbPath: string, api: ApiDiscovery): QueryTarget {
  const url = `http://${api.host}:${api.port}/api/query`;
  const post = async (body: object): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(`cannot reach the query API of process ${api.pid} at ${url} (from ${dbPath}.api.json): ${(error as Error).message}`);
    }
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(message);
    }
    return response;
  };
  return {
    via: 'api',
    run: async (sql, params = {}) => (await (await post({ sql, params, format: 'json' })).json()) as Rows,
    copyTo: async (sql, params, file, format) => {
      const response = await post({ sql, params, format });
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
    },
    close: async () => undefined,
  };
}
