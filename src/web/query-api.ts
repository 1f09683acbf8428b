/**
 * The read-only query endpoint of the process that holds the store. DuckDB lets no other process open a
 * file a writer holds, so `auditduck query` and `auditduck shell` send their SQL here instead.
 *
 *   POST /api/query   Authorization: Bearer <token>
 *   {"sql": "...", "params": {"name": "value"}, "format": "json" | "parquet" | "csv"}
 *   → 200 {"columns": [...], "rows": [...]} (rows as in `--format json`), or the file's bytes
 *   → 401 bad token · 403 a statement that could write · 400 bad request or SQL error
 *
 * Give it a connection of its own (`await instance.connect()`), not the writer's: statements on one
 * connection share its transaction. Requests run one at a time, each inside a transaction that is always
 * rolled back, so even a statement that slipped past the type check could not change the store.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { copyReadOnly, FILE_FORMATS, ReadOnlyViolation, runReadOnly } from '../query/read-only-query.js';
import { readBody } from './request-body.js';

export { removeDiscoveryFile, writeDiscoveryFile } from '../contracts/query-api-discovery.js';

export interface QueryApiOptions {
  connection: DuckDBConnection;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
}

export interface QueryApi {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

const RequestSchema = z.strictObject({
  sql: z.string().min(1),
  params: z.record(z.string(), z.string().nullable()).default({}),
  format: z.enum(['json', ...FILE_FORMATS]).default('json'),
});

const FILE_TYPES = { parquet: 'application/vnd.apache.parquet', csv: 'text/csv' } as const;

export function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function startQueryApi(opts: QueryApiOptions): Promise<QueryApi> {
  if (opts.token.length < 16) throw new Error('the query API token must be at least 16 characters');
  const expected = Buffer.from(`Bearer ${opts.token}`);
  let queue: Promise<unknown> = Promise.resolve();
  /** One request at a time: a DuckDB connection runs one statement at a time. */
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url !== '/api/query') return send(res, 404, { error: 'not found: POST /api/query' });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return send(res, 401, { error: 'missing or wrong bearer token' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, MAX_BODY_BYTES));
    } catch (error) {
      return send(res, 400, { error: `the body must be JSON {sql, params, format}: ${(error as Error).message}` });
    }
    const parsed = RequestSchema.safeParse(body);
    if (!parsed.success) return send(res, 400, { error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    const { sql, params, format } = parsed.data;
    try {
      if (format === 'json') {
        const rows = await serialized(() => inRolledBackTransaction(opts.connection, () => runReadOnly(opts.connection, sql, params)));
        return send(res, 200, rows);
      }
      const file = join(tmpdir(), `auditduck-export-${process.pid}-${randomBytes(6).toString('hex')}.${format}`);
      try {
        await serialized(() => inRolledBackTransaction(opts.connection, () => copyReadOnly(opts.connection, sql, params, file, format)));
        const bytes = await readFile(file);
        res.writeHead(200, { 'content-type': FILE_TYPES[format], 'content-length': bytes.length });
        res.end(bytes);
      } finally {
        await rm(file, { force: true });
      }
    } catch (error) {
      send(res, error instanceof ReadOnlyViolation ? 403 : 400, { error: (error as Error).message });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    // Resolves once the statement in flight has finished too: closing DuckDB under a running statement hangs.
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue;
    },
  };
}

async function inRolledBackTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    return await work();
  } finally {
    await connection.run('ROLLBACK').catch(() => undefined);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
