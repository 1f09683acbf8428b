/**
 * `auditduck serve`: the dashboards over a store opened READ-ONLY, for a store no process is writing to
 * (a copy, a finished ingest, a laptop during an incident). While `auditduck run` holds the file, DuckDB
 * lets no other process open it, and that process serves the same dashboards itself.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { confineDatabase } from '../../query/confine-database.js';
import { fleetOfStores } from '../../query/fleet-query.js';
import { queryLimitsFromEnv } from '../../query/query-limits.js';
import { ReadOnlySession } from '../../query/read-only-session.js';
import { closeDatabase, openDatabase, type Database } from '../../store/open-database.js';
import { processIsAlive, readDiscoveryFile } from '../../contracts/query-api-discovery.js';
import { trustedProxies } from '../client-address.js';
import { uiRefusedCounter } from '../metrics.js';
import { startOpsServer, type OpsServer, type Route } from '../ops-server.js';
import { createDashboardRoutes, type DashboardRoutesOptions } from './dashboard-routes.js';
import { resolveUiToken } from './ui-token.js';

export interface ServeDashboardsOptions {
  dbPath: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  dashboardDirs?: string[];
  queryDirs?: string[];
  /**
   * Serve another read-only database instead of the store alone (`serve --lake`: the lake; a configured lake:
   * the store reading through to it), with the folders its views read and what each reading connection needs.
   */
  open?: () => Promise<{ db: Database; readableDirs: string[]; prepareReader?: (c: DuckDBConnection) => Promise<unknown>; close(): Promise<void> }>;
  /** `serve --fleet`: the stores of the fleet, read as `query --fleet` reads them; no store is opened here. */
  fleet?: string[];
  /** The reverse proxies in front of it (`--trusted-proxy`), whose X-Forwarded-For names the client whose wrong tokens are counted. */
  trustedProxies?: readonly string[];
}

export interface DashboardServer {
  /** Where to point a browser; holds ?token= when a token was generated. */
  url: string;
  port: number;
  token?: string;
  tokenGenerated: boolean;
  close(): Promise<void>;
}

export async function serveDashboards(opts: ServeDashboardsOptions): Promise<DashboardServer> {
  checkTrustedProxies(opts.trustedProxies);
  if (opts.fleet) return serveFleetDashboards({ ...opts, fleet: opts.fleet });
  const { token, generated } = resolveUiToken(opts.host, opts.env);
  let db: Database;
  let readableDirs: string[] = [];
  let closeDb = () => closeDatabase(db);
  let prepareReader: ((c: DuckDBConnection) => Promise<unknown>) | undefined;
  if (opts.open) {
    let opened;
    try {
      opened = await opts.open();
    } catch (error) {
      if (/lock/i.test((error as Error).message)) throw new Error(heldMessage(opts.dbPath));
      throw error;
    }
    ({ db, readableDirs, prepareReader } = opened);
    closeDb = opened.close;
  } else {
    try {
      db = await openDatabase(opts.dbPath, { readOnly: true });
    } catch (error) {
      if (/lock/i.test((error as Error).message)) throw new Error(heldMessage(opts.dbPath));
      throw error;
    }
  }
  const limits = queryLimitsFromEnv(opts.env);
  await confineDatabase(db.connection, { writableDirs: readableDirs });
  const connection = await db.instance.connect();
  // Temporary views are a connection's own: the one that reads gets them.
  try {
    await prepareReader?.(connection);
  } catch (error) {
    connection.closeSync();
    await closeDb();
    throw error;
  }
  const session = new ReadOnlySession(connection, limits);
  const registry = new Registry();
  const routes = createDashboardRoutes({ connection, session, ...sharedRouteOptions(opts, token, registry) });
  return startServing(opts, registry, { readOnly: true }, routes, { token, generated }, async () => {
    await session.close();
    connection.closeSync();
    await closeDb();
  });
}

/** Each read fetches from every store of the fleet (through the running instances' query APIs): nothing is held open. */
async function serveFleetDashboards(opts: ServeDashboardsOptions & { fleet: string[] }): Promise<DashboardServer> {
  const { token, generated } = resolveUiToken(opts.host, opts.env);
  const fleet = fleetOfStores(opts.fleet);
  const registry = new Registry();
  const routes = createDashboardRoutes({ read: fleet.readFirst, fleet: { members: fleet.members, read: fleet.read }, ...sharedRouteOptions(opts, token, registry) });
  return startServing(opts, registry, { readOnly: true, fleet: fleet.members }, routes, { token, generated }, async () => undefined);
}

/** What the dashboards' routes take the same way over one store or a fleet; their refused tokens are counted in `registry`. */
function sharedRouteOptions(
  opts: ServeDashboardsOptions,
  token: string | undefined,
  registry: Registry,
): Pick<DashboardRoutesOptions, 'log' | 'token' | 'onTokenRefused' | 'trustedProxies' | 'dashboardDirs' | 'queryDirs'> {
  const refused = uiRefusedCounter(registry);
  return {
    log: opts.log,
    ...(token ? { token } : {}),
    onTokenRefused: (reason) => refused.inc({ reason }),
    ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
    ...(opts.dashboardDirs ? { dashboardDirs: opts.dashboardDirs } : {}),
    ...(opts.queryDirs ? { queryDirs: opts.queryDirs } : {}),
  };
}

/** Starts the HTTP server; when it cannot listen, `release` undoes what was opened for it and the error names --port. */
async function startServing(
  opts: ServeDashboardsOptions,
  registry: Registry,
  health: Record<string, unknown>,
  routes: Route[],
  ui: { token: string | undefined; generated: boolean },
  release: () => Promise<void>,
): Promise<DashboardServer> {
  let server: OpsServer;
  try {
    const refused = uiRefusedCounter(registry);
    server = await startOpsServer({ host: opts.host, port: opts.port, registry, health: () => health, routes, onHostOrOriginRefused: () => refused.inc({ reason: 'host-or-origin' }) });
  } catch (error) {
    await release();
    throw new Error(`cannot serve on ${opts.host}:${opts.port}: ${(error as Error).message} (choose another with --port)`);
  }
  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const base = `http://${host}:${server.port}/`;
  return {
    url: ui.generated && ui.token ? `${base}?token=${ui.token}` : base,
    port: server.port,
    ...(ui.token ? { token: ui.token } : {}),
    tokenGenerated: ui.generated,
    close: async () => {
      await server.close();
      await release();
    },
  };
}

/** A bad entry stops the start before any store is opened, named as the option that gave it. */
function checkTrustedProxies(list: readonly string[] | undefined): void {
  try {
    trustedProxies(list ?? []);
  } catch (error) {
    throw new Error(`--trusted-proxy: ${(error as Error).message}`);
  }
}

function heldMessage(dbPath: string): string {
  let who = 'another process (usually `auditduck run`)';
  try {
    const api = readDiscoveryFile(dbPath);
    if (api && processIsAlive(api.pid)) who = `\`auditduck run\` (process ${api.pid})`;
  } catch {
    // an unreadable discovery file changes nothing here
  }
  return (
    `${dbPath} is held by ${who}, and DuckDB lets no other process open it, not even read-only. ` +
    'The running process serves these same dashboards: open http://<its AUDITDUCK_HTTP_HOST>:<its AUDITDUCK_HTTP_PORT>/ (default http://127.0.0.1:8080/; ' +
    'none when it runs with AUDITDUCK_HTTP_PORT=0). The CLI works through it meanwhile: `auditduck alerts`, `alerts ack ID... [--comment TEXT]`, ' +
    '`query`, `shell`, `export`. Or serve a copy of the file.'
  );
}
