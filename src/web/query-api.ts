/**
 * The read-only query endpoint of the process that holds the store. DuckDB lets no other process open a
 * file a writer holds, so `auditduck query` and `auditduck shell` send their SQL here instead.
 *
 *   POST /api/query   Authorization: Bearer <token>
 *   {"sql": "...", "params": {"name": "value"}, "format": "json" | "parquet" | "csv"}
 *   → 200 {"columns": [...], "rows": [...]} (rows as in `--format json`), or the file's bytes
 *   → 401 bad token · 403 a statement that could write, a foreign Host or Origin · 408 past the time limit
 *   → 413 a body over 1 MiB, or a result over the row limit · 400 bad request or SQL error
 *   → 429 with Retry-After: too many missing or wrong tokens from the client's address (failed-auth-limit.ts;
 *     behind a trusted reverse proxy, the address it forwarded: client-address.ts); the token is not compared
 *     then, so a cooling-off address is refused even the right one
 *
 *   POST /api/alerts/acknowledge   Authorization: Bearer <token>   (only with an acknowledgeAlerts callback)
 *   {"ids": [1, 2], "by": "OS user", "comment": "..." | null, "classification": "true-positive" | "benign" | "false-positive" | null}
 *   → 200 {"acknowledged": [1]} (the ids that were open) · 401 bad token · 400 bad request
 *   `auditduck alerts ack` sends it, since it cannot open the store for writing while this process holds it.
 *   `by` is taken as sent: the token holder could read the discovery file, which only the store's owner can,
 *   so it is that user or root, and the CLI sends os.userInfo() — the same trust as opening the store directly.
 *
 * With `fleet`, a second listener on a configured address answers POST /api/query only (no acknowledging:
 * `by` is trusted only from the discovery file's reader), for the fleet's shared token, which must be set:
 * the peers on other machines (`query --fleet https://...`, `fleetPeers`). The same session, so the same
 * read-only confinement, time and row limits, one request at a time with the local ones. Its tokens are asked
 * for at each request: during a rotation it accepts the new and the previous one (fleet-tokens.ts).
 *
 * Each listener counts missing and wrong tokens per client address on its own, so a scanner on the network
 * cannot lock the local CLI out. It logs one warning per address per window (the first refusal, then the
 * first 429 of a cool-off), with the address and never the token. Behind the fleet's reverse proxies
 * (`fleet.trustedProxies`) the address is the client's they forwarded, so one client cools off, not the proxy.
 *
 * Give it a connection of its own (`await instance.connect()`), not the writer's, on an instance confined
 * by confineDatabase with `exportDir` writable: files for parquet/csv answers are written there and
 * streamed back. Requests run one at a time through a ReadOnlySession (read-only transactions, time limit).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ACK_CLASSIFICATIONS, MAX_ACK_COMMENT_CHARS, type AckClassification } from '../detect/acknowledge-alerts.js';
import { MIN_FLEET_TOKEN_CHARS } from '../query/fleet-peer.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../query/query-limits.js';
import { FILE_FORMATS, ReadOnlyViolation, ResultTooLarge } from '../query/read-only-query.js';
import { QueryTimeout, ReadOnlySession } from '../query/read-only-session.js';
import { trustedProxies } from './client-address.js';
import type { FailedAuthLimitOptions } from './failed-auth-limit.js';
import { BodyTooLarge, readBody } from './request-body.js';
import { allowedHosts, guardRequest, type AllowedHosts } from './request-guard.js';
import { coolingOffMessage, TokenRefusals, type TokenRefusalReason } from './token-refusals.js';

export { removeDiscoveryFile, writeDiscoveryFile } from '../contracts/query-api-discovery.js';

export interface QueryApiOptions {
  connection: DuckDBConnection;
  /** The reads on `connection`, when the caller sets the connection up between them (run's lake read-through). */
  session?: ReadOnlySession;
  /** Where parquet/csv answers are written before they are sent; the confined instance must allow it. */
  exportDir: string;
  limits?: QueryLimits;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  /**
   * The listener for the fleet's peers on other machines (`queryApi` of run's config); absent: loopback only.
   * `tokens` is asked at each request: the current token and, during a rotation, the previous one.
   * `trustedProxies`: the reverse proxies in front of it, whose X-Forwarded-For names the client (client-address.ts).
   */
  fleet?: { host: string; port: number; tokens: () => readonly string[]; trustedProxies?: readonly string[] };
  /** Where refusals of missing and wrong tokens are warned about (the redacting logger); none: not logged. */
  log?: Logger;
  /** Each refusal for who the client is rather than what it asks (run counts them in /metrics). */
  onRefused?: (listener: ListenerName, reason: RefusalReason) => void;
  /** Overrides of DEFAULT_FAILED_AUTH_LIMIT (tests). */
  failedAuthLimit?: Partial<FailedAuthLimitOptions>;
  /** The writer's way to acknowledge alerts, between its commits; without it the route answers 404. */
  acknowledgeAlerts?: (ids: number[], by: string, comment: string | null, classification?: AckClassification | null) => Promise<number[]>;
}

export interface QueryApi {
  port: number;
  /** The fleet listener's port, when there is one. */
  fleetPort: number | null;
  close(): Promise<void>;
}

export type ListenerName = 'local' | 'fleet';

/** Why a request was refused before its query was looked at. */
export type RefusalReason = TokenRefusalReason | 'host-or-origin';

/** One listener: who it lets in (its tokens, its Host names), what it answers, and its failures per address. */
interface Listener {
  name: ListenerName;
  host: string;
  port: number;
  /** SHA-256 of `Bearer <token>` for each accepted token. */
  expected: () => readonly Buffer[];
  hosts: AllowedHosts;
  routes: string[];
  /** Its missing and wrong tokens, counted per client address (behind its trusted proxies, the client's). */
  refusals: TokenRefusals;
}

const MAX_BODY_BYTES = 1 << 20;

const RequestSchema = z.strictObject({
  sql: z.string().min(1),
  params: z.record(z.string(), z.string().nullable()).default({}),
  format: z.enum(['json', ...FILE_FORMATS]).default('json'),
});

const AckRequestSchema = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).max(1000),
  by: z.string().trim().min(1).max(256),
  comment: z.string().max(MAX_ACK_COMMENT_CHARS).nullable().default(null),
  classification: z.enum(ACK_CLASSIFICATIONS).nullable().default(null),
});

const FILE_TYPES = { parquet: 'application/vnd.apache.parquet', csv: 'text/csv' } as const;

export function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Digests are compared rather than the headers: equal lengths for timingSafeEqual, so no length leaks either. */
function bearerDigest(token: string): Buffer {
  return createHash('sha256').update(`Bearer ${token}`).digest();
}

/** Whether `header` carries one of the tokens: every one compared in constant time, none skipped. */
function tokenMatches(header: string, expected: readonly Buffer[]): boolean {
  const given = createHash('sha256').update(header).digest();
  let match = false;
  for (const digest of expected) match = timingSafeEqual(given, digest) || match;
  return match;
}

/** The digests of a changing token list, recomputed only when the list changes. */
function digestsOf(tokens: () => readonly string[]): () => readonly Buffer[] {
  let seen: readonly string[] = [];
  let digests: readonly Buffer[] = [];
  return () => {
    const now = tokens();
    if (now !== seen) {
      seen = now;
      digests = now.map(bearerDigest);
    }
    return digests;
  };
}

export async function startQueryApi(opts: QueryApiOptions): Promise<QueryApi> {
  if (opts.token.length < 16) throw new Error('the query API token must be at least 16 characters');
  const fleetTokens = opts.fleet?.tokens();
  if (fleetTokens && (fleetTokens.length === 0 || fleetTokens.some((t) => t.length < MIN_FLEET_TOKEN_CHARS))) {
    throw new Error(`the fleet's query API token must be at least ${MIN_FLEET_TOKEN_CHARS} characters`);
  }
  const session = opts.session ?? new ReadOnlySession(opts.connection, opts.limits ?? DEFAULT_QUERY_LIMITS);
  const host = opts.host ?? '127.0.0.1';
  const refused = opts.onRefused ?? (() => undefined);
  const refusals = (name: ListenerName, proxies: readonly string[]) =>
    new TokenRefusals({ name: `query API (${name})`, proxies: trustedProxies(proxies), limit: opts.failedAuthLimit, log: opts.log, fields: { listener: name }, onRefused: (reason) => refused(name, reason) });
  const localDigest = [bearerDigest(opts.token)];
  const local: Listener = {
    name: 'local',
    host,
    port: opts.port,
    expected: () => localDigest,
    hosts: allowedHosts(host),
    routes: opts.acknowledgeAlerts ? ['/api/query', '/api/alerts/acknowledge'] : ['/api/query'],
    // Only this machine's CLI comes here: no proxy in front of it.
    refusals: refusals('local', []),
  };
  const fleet: Listener | null = opts.fleet
    ? {
        name: 'fleet',
        host: opts.fleet.host,
        port: opts.fleet.port,
        expected: digestsOf(opts.fleet.tokens),
        hosts: allowedHosts(opts.fleet.host),
        routes: ['/api/query'],
        refusals: refusals('fleet', opts.fleet.trustedProxies ?? []),
      }
    : null;

  /** True when the request may go on; otherwise it was answered 401 or 429, counted and, once a window, logged. */
  function authenticated(listener: Listener, req: IncomingMessage, res: ServerResponse): boolean {
    const retryAfterSeconds = listener.refusals.coolingOff(req);
    if (retryAfterSeconds !== null) {
      send(res, 429, { error: coolingOffMessage(retryAfterSeconds) }, { 'retry-after': String(retryAfterSeconds) });
      return false;
    }
    const header = req.headers.authorization;
    if (header !== undefined && tokenMatches(header, listener.expected())) return true;
    listener.refusals.failed(req, header === undefined || !/^Bearer \S/.test(header) ? 'missing-token' : 'wrong-token');
    send(res, 401, { error: 'missing or wrong bearer token' });
    return false;
  }

  async function handle(listener: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!guardRequest(req, res, listener.hosts)) return refused(listener.name, 'host-or-origin');
    const { routes } = listener;
    if (!routes.includes(req.url ?? '')) return send(res, 404, { error: `not found: POST ${routes.join(' or POST ')}` });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    if (!authenticated(listener, req, res)) return;
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof BodyTooLarge) return send(res, 413, { error: error.message }, { connection: 'close' });
      return send(res, 400, { error: `the body must be JSON: ${(error as Error).message}` });
    }
    if (req.url === '/api/alerts/acknowledge' && opts.acknowledgeAlerts) return acknowledge(res, body, opts.acknowledgeAlerts);
    const parsed = RequestSchema.safeParse(body);
    if (!parsed.success) return send(res, 400, { error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    const { sql, params, format } = parsed.data;
    try {
      if (format === 'json') return send(res, 200, await session.run(sql, params));
      const file = join(opts.exportDir, `${randomBytes(12).toString('hex')}.${format}`);
      try {
        await session.copyTo(sql, params, file, format);
        res.writeHead(200, { 'content-type': FILE_TYPES[format], 'content-length': (await stat(file)).size });
        await pipeline(createReadStream(file), res);
      } finally {
        await rm(file, { force: true });
      }
    } catch (error) {
      send(res, statusOf(error), { error: (error as Error).message });
    }
  }

  async function acknowledge(res: ServerResponse, body: unknown, acknowledgeAlerts: NonNullable<QueryApiOptions['acknowledgeAlerts']>): Promise<void> {
    const parsed = AckRequestSchema.safeParse(body);
    if (!parsed.success) return send(res, 400, { error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    const { ids, by, comment, classification } = parsed.data;
    try {
      send(res, 200, { acknowledged: await acknowledgeAlerts(ids, by, comment, classification) });
    } catch (error) {
      send(res, 500, { error: `acknowledging failed: ${(error as Error).message}` });
    }
  }

  const servers: Server[] = [];
  const closeServers = () => Promise.all(servers.map((server) => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  })));
  try {
    for (const listener of fleet ? [local, fleet] : [local]) servers.push(await listen(listener, handle));
  } catch (error) {
    await closeServers();
    await session.close();
    if (!fleet || servers.length === 0) throw error;
    throw new Error(`the query API for the fleet cannot listen on ${fleet.host}:${fleet.port} (queryApi.host, queryApi.port): ${(error as Error).message}`);
  }
  return {
    port: (servers[0]!.address() as AddressInfo).port,
    fleetPort: servers[1] ? (servers[1].address() as AddressInfo).port : null,
    // Interrupts the statement in flight and resolves once it has ended: closing DuckDB under a running statement hangs.
    close: async () => {
      await closeServers();
      await session.close();
    },
  };
}

async function listen(listener: Listener, handle: (listener: Listener, req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((req, res) => {
    handle(listener, req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listener.port, listener.host, () => resolve());
  });
  return server;
}

function statusOf(error: unknown): number {
  if (error instanceof ReadOnlyViolation) return 403;
  if (error instanceof QueryTimeout) return 408;
  if (error instanceof ResultTooLarge) return 413;
  return 400;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
