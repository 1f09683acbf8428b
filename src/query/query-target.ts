/**
 * Where read-only SQL runs: the store file opened read-only, or, while `auditduck run` holds the file
 * (DuckDB then refuses every other process, even a reader), that process's query API found through the
 * discovery file next to the store. Callers (query, shell, export) see one interface.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { DuckDBConnection } from '@duckdb/node-api';
import { processIsAlive, readDiscoveryFile, type ApiDiscovery } from '../contracts/query-api-discovery.js';
import { closeDatabase, openDatabase } from '../store/open-database.js';
import type { Rows } from './format-rows.js';
import { confineDatabase } from './confine-database.js';
import { localEndpoint, postToQueryApi, type QueryApiEndpoint } from './query-api-client.js';
import { queryLimitsFromEnv } from './query-limits.js';
import type { FileFormat, QueryParams } from './read-only-query.js';
import { ReadOnlySession } from './read-only-session.js';

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

export interface QueryTargetOptions {
  /** The one file `copyTo` may write; the confined store can write no other. */
  outputFile?: string;
}

/**
 * Read-only SQL on a database this process opened: limits read and confined first (no file access but
 * `writableDirs` and the one `outputFile`), then read through a `ReadOnlySession`. `closeDb` runs when the target closes, or
 * at once when confining fails.
 */
export async function confinedLocalTarget(
  connection: DuckDBConnection,
  closeDb: () => Promise<void>,
  opts: QueryTargetOptions & { writableDirs?: string[] } = {},
): Promise<QueryTarget> {
  const outputFile = opts.outputFile === undefined ? undefined : resolve(opts.outputFile);
  let limits;
  try {
    limits = queryLimitsFromEnv();
    await confineDatabase(connection, { ...(opts.writableDirs ? { writableDirs: opts.writableDirs } : {}), ...(outputFile ? { writablePaths: [outputFile] } : {}) });
  } catch (error) {
    await closeDb();
    throw error;
  }
  const session = new ReadOnlySession(connection, limits);
  return {
    via: 'local',
    run: (sql, params = {}) => session.run(sql, params),
    copyTo: async (sql, params, file, format) => {
      if (resolve(file) !== outputFile) throw new Error(`this query target was opened to write ${outputFile ?? 'no file'}, not ${file}`);
      await session.copyTo(sql, params, outputFile, format);
    },
    close: async () => {
      await session.close();
      await closeDb();
    },
  };
}

/**
 * More for the store opened here to read before it is confined (the lake's rows hot retention dropped): the
 * folders it must still read. Null: nothing more.
 */
export type ReadAlso = (connection: DuckDBConnection) => Promise<{ dirs: string[] } | null>;

export async function openQueryTarget(dbPath: string, opts: QueryTargetOptions = {}, readAlso?: ReadAlso): Promise<QueryTarget> {
  assertStoreExists(dbPath);
  let db;
  try {
    db = await openDatabase(dbPath, { readOnly: true });
  } catch (error) {
    if (!/lock/i.test((error as Error).message)) throw error;
    return apiTarget(localEndpoint(dbPath, readDiscoveryOrExplain(dbPath, error as Error)));
  }
  const opened = db;
  let also: Awaited<ReturnType<ReadAlso>> = null;
  try {
    // Outside the lock check above: a lake's error (a Blob "block", say) must not send the query to run's API.
    also = readAlso ? await readAlso(opened.connection) : null;
  } catch (error) {
    await closeDatabase(opened);
    throw error;
  }
  const closeDb = () => closeDatabase(opened);
  return confinedLocalTarget(opened.connection, closeDb, { ...opts, ...(also ? { writableDirs: also.dirs } : {}) });
}

function readDiscoveryOrExplain(dbPath: string, lockError: Error): ApiDiscovery {
  const api = readDiscoveryFile(dbPath);
  if (api === null) {
    throw new Error(
      `${dbPath} is held by another process and it publishes no query API (${dbPath}.api.json is missing). ` +
        `'auditduck run' always publishes one once it has started: if that is the process, retry in a moment. Anything else ` +
        `(auditduck serve, another ingest, a DuckDB shell) must finish or be stopped first, or query a copy of the file. ` +
        `(${lockError.message.split('\n')[0]})`,
    );
  }
  if (!processIsAlive(api.pid)) {
    throw new Error(`${dbPath}.api.json names process ${api.pid}, which is not running, yet the store is locked: remove the stale file and check which process holds ${dbPath}`);
  }
  return api;
}

/** Read-only SQL sent to a query API: the local one of the process holding a store, or a fleet peer's. */
export function apiTarget(endpoint: QueryApiEndpoint): QueryTarget {
  const post = (body: object) => postToQueryApi(endpoint, '/api/query', body);
  return {
    via: 'api',
    run: async (sql, params = {}) => (await (await post({ sql, params, format: 'json' })).json()) as Rows,
    copyTo: async (sql, params, file, format) => {
      const response = await post({ sql, params, format });
      if (!response.body) throw new Error(`the query API of ${endpoint.who} sent no file`);
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(file));
    },
    close: async () => undefined,
  };
}
