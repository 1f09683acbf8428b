/**
 * The dashboards' HTTP routes, mounted on the ops server of `auditduck run` or on the server of
 * `auditduck serve`:
 *
 *   GET  /, /d/NAME, /alerts/ID, /queries, /sql/QUERY   the pages (plain HTML + ES modules from src/web/ui/, charts by Chart.js)
 *   GET  /ui/FILE, /ui/vendor/chart.js      static files, from the package itself (no CDN)
 *   GET  /api/dashboards                    the list, files that failed to load, whether acks are possible, whether live
 *   GET  /api/dashboards/NAME               one dashboard, its panels with their queries' descriptions
 *   GET  /api/dashboards/NAME/panels/ID     a panel's rows {columns, rows}, or {error} (422) in its place
 *   GET  /api/dashboards/NAME/panels/ID.csv the same rows as CSV
 *   GET  /api/time-range?since=&until=      the range resolved, where the data lies, what is outside; 400 {field, error}
 *   GET  /api/alerts/ID                     one alert: its rule, evidence, changes, timeline and entities
 *   GET  /api/queries                       every saved query with its parameters
 *   GET  /api/queries/NAME(.csv)?PARAM=...  a saved query's rows, or {error} (422)
 *   GET  /api/servers                       servers in the store, for the picker
 *   POST /api/alerts/acknowledge            {"ids": [1, 2], "comment"?, "classification"?}: only with an acknowledgeAlert
 *                                           callback (the writer); acknowledged_by is who the request authenticated as
 *
 * Picker values arrive as URL parameters (since, until, server, role, ...) and reach the saved queries
 * only as the parameters they declare.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import { FORMATTERS, type Rows } from '../../query/format-rows.js';
import type { QueryParams } from '../../query/read-only-query.js';
import { queryLimitsFromEnv } from '../../query/query-limits.js';
import { ReadOnlySession } from '../../query/read-only-session.js';
import { parseSavedQuery, resolveParams, type SavedQuery } from '../../query/saved-queries.js';
import type { Route } from '../ops-server.js';
import { ACK_CLASSIFICATIONS, MAX_ACK_COMMENT_CHARS, type AckClassification } from '../../detect/acknowledge-alerts.js';
import { AlertNotFound, loadAlertPage } from './alert-page.js';
import { DEFAULT_DASHBOARDS_DIR, loadDashboards, type Dashboard } from './dashboard-file.js';
import { defaultQueryDirs, findQueryIn, listQueriesIn, panelParams, queryParamsFromUrl } from './panel-query.js';
import { BadTime, describeRange } from './time-range.js';
import { uiCaller, uiTokenGate, type UiTokenGateOptions } from './ui-token.js';
import { BodyTooLarge, readBody } from '../request-body.js';

/** An acknowledge request is a list of ids. */
const MAX_ACK_BODY_BYTES = 64 * 1024;

/** src/web/ui/ at the package root: the TypeScript build copies nothing, so dist/ serves it from src/. */
const UI_DIR = fileURLToPath(new URL('../../../src/web/ui/', import.meta.url));
const CHART_JS = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const STATIC_TYPES = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' } as const;

export interface AcknowledgeResult {
  acknowledged: number[];
}

/** What the person acknowledging wrote and how they judged the alert(s). */
export interface AcknowledgeNote {
  comment: string | null;
  classification: AckClassification | null;
}

/** Runs read-only SQL with named parameters. */
export type ReadRows = (sql: string, params: QueryParams) => Promise<Rows>;

export interface DashboardRoutesOptions {
  /** A read connection of its own: statements on one connection share its transaction. */
  connection?: DuckDBConnection;
  /** Instead of `connection`: how this instance's own store is read (`serve --fleet` reads its first store this way). */
  read?: ReadRows;
  /**
   * The fleet (`fleetPeers`, `serve --fleet`): panels, saved queries, the time range and the server picker read
   * every member's store, one copy per (source, position) (fleet-query.ts). Alert pages and acknowledging stay
   * with this instance's store: alert ids are per store.
   */
  fleet?: { members: string[]; read: ReadRows };
  /** Required on every request when set (see ui-token.ts). */
  token?: string;
  /** Each missing or wrong token refused, and each 429 of a cool-off (`auditduck_ui_refused_total`). */
  onTokenRefused?: UiTokenGateOptions['onRefused'];
  /** The reverse proxies in front of the listener, whose X-Forwarded-For names the client whose failures are counted. */
  trustedProxies?: readonly string[];
  /** Also where refused tokens are warned about: the redacting logger. */
  log: Logger;
  /** The session the reads queue on, when the caller must close it (interrupting a read) before closing `connection`. */
  session?: ReadOnlySession;
  /** The writer's way to acknowledge alerts; absent in `serve`, which holds the store read-only. */
  acknowledgeAlert?: (ids: number[], by: string, note: AcknowledgeNote) => Promise<AcknowledgeResult>;
  /** Searched before the built-in dashboards/ and queries/. */
  dashboardDirs?: string[];
  queryDirs?: string[];
}

/** No `by`: who acknowledged is who the request authenticated as, not what it claims. */
const AckSchema = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).max(1000),
  comment: z.string().max(MAX_ACK_COMMENT_CHARS).nullable().default(null),
  classification: z.enum(ACK_CLASSIFICATIONS).nullable().default(null),
});

const SERVERS_QUERY = parseSavedQuery('servers', '-- Servers in the store, for the server picker.\nSELECT server FROM log_records GROUP BY server ORDER BY server');

/** serve's reader keeps every writer out, `alerts ack` too: the way that works is to stop it first. */
export const READ_ONLY_ACK_MESSAGE =
  'this UI holds the store read-only (auditduck serve), so it cannot acknowledge alerts, and while it runs neither can ' +
  '`auditduck alerts ack` (DuckDB lets no writer in beside a reader): stop serve, then run `auditduck alerts ack ID... [--comment TEXT]`. ' +
  'Under `auditduck run` both work: the dashboards it serves acknowledge, and so does `auditduck alerts ack`, through it.';

export function createDashboardRoutes(opts: DashboardRoutesOptions): Route[] {
  const home = homeReader(opts);
  const read = opts.fleet?.read ?? home;
  // Parameters resolve before the read queues: a bad picker value is the caller's error, not a query failure.
  const runSaved = (query: SavedQuery, given: Readonly<Record<string, string | null>>) => read(query.sql, resolveParams(query, given));
  const runHome = (query: SavedQuery, given: Readonly<Record<string, string | null>>) => home(query.sql, resolveParams(query, given));
  const dashboardDirs = [...(opts.dashboardDirs ?? []), DEFAULT_DASHBOARDS_DIR];
  const queryDirs = defaultQueryDirs(opts.queryDirs);
  const findDashboard = (name: string): Dashboard | undefined => loadDashboards(dashboardDirs).dashboards.find((d) => d.name === name);
  const checkToken = uiTokenGate({
    token: opts.token,
    log: opts.log,
    ...(opts.onTokenRefused ? { onRefused: opts.onTokenRefused } : {}),
    ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
  });

  const route: Route = async (req, res, url) => {
    const path = url.pathname;
    if (!isOurs(path)) return false;
    if (checkToken(req, res, url) === 'answered') return true;

    if (req.method === 'POST' && path === '/api/alerts/acknowledge') {
      await acknowledge(req, res);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
      return true;
    }
    if (path === '/' || /^\/d\/[a-z0-9_-]+$/.test(path) || /^\/alerts\/\d+$/.test(path) || path === '/queries' || /^\/sql\/[a-z0-9_-]+$/.test(path)) {
      await sendFile(res, join(UI_DIR, 'index.html'), STATIC_TYPES['.html']);
      return true;
    }
    if (path === '/ui/vendor/chart.js') {
      await sendFile(res, CHART_JS, STATIC_TYPES['.js'], 'public, max-age=86400');
      return true;
    }
    const asset = /^\/ui\/([a-z0-9-]+)(\.js|\.css)$/.exec(path);
    if (asset) {
      await sendFile(res, join(UI_DIR, `${asset[1]}${asset[2]}`), STATIC_TYPES[asset[2] as '.js' | '.css']);
      return true;
    }
    if (path === '/api/dashboards') {
      const { dashboards, errors } = loadDashboards(dashboardDirs);
      sendJson(res, 200, {
        dashboards: dashboards.map(({ name, title, description, params, nav }) => ({ name, title, description, params, nav })),
        errors,
        canAcknowledge: opts.acknowledgeAlert !== undefined,
        acknowledgeHelp: opts.acknowledgeAlert ? null : READ_ONLY_ACK_MESSAGE,
        classifications: ACK_CLASSIFICATIONS,
        // Under `run` the store grows while the page is open: the page offers to refresh itself.
        live: opts.acknowledgeAlert !== undefined,
        // The page says whose stores it shows: every panel counts each record of the fleet once.
        fleet: opts.fleet ? opts.fleet.members : null,
      });
      return true;
    }
    if (path === '/api/time-range') {
      try {
        sendJson(res, 200, await describeRange(runSaved, Object.fromEntries(url.searchParams)));
      } catch (error) {
        if (!(error instanceof BadTime)) throw error;
        sendJson(res, 400, { field: error.field, error: error.message });
      }
      return true;
    }
    const alertPage = /^\/api\/alerts\/(\d+)$/.exec(path);
    if (alertPage) {
      try {
        sendJson(res, 200, await loadAlertPage(runHome, Number(alertPage[1])));
      } catch (error) {
        if (!(error instanceof AlertNotFound)) throw error;
        notFound(res, error.message);
      }
      return true;
    }
    if (path === '/api/queries') {
      const { queries, errors } = listQueriesIn(queryDirs);
      sendJson(res, 200, {
        queries: queries.map((q) => ({ name: q.name, description: q.description, params: q.params, sql: q.sql })),
        errors,
      });
      return true;
    }
    const saved = /^\/api\/queries\/([a-z0-9_-]+?)(\.csv)?$/.exec(path);
    if (saved) {
      await savedQueryRows(res, url, saved[1]!, saved[2] === '.csv');
      return true;
    }
    if (path === '/api/servers') {
      const rows = await runSaved(SERVERS_QUERY, {});
      sendJson(res, 200, { servers: rows.rows.map((r) => String(r.server)) });
      return true;
    }
    const one = /^\/api\/dashboards\/([a-z0-9_-]+)$/.exec(path);
    if (one) {
      const dashboard = findDashboard(one[1]!);
      if (!dashboard) return notFound(res, `no dashboard named "${one[1]}"`);
      sendJson(res, 200, describeDashboard(dashboard));
      return true;
    }
    const panel = /^\/api\/dashboards\/([a-z0-9_-]+)\/panels\/([a-z0-9_-]+?)(\.csv)?$/.exec(path);
    if (panel) {
      await panelRows(res, url, panel[1]!, panel[2]!, panel[3] === '.csv');
      return true;
    }
    return notFound(res, `not found: ${path}`);
  };

  function describeDashboard(d: Dashboard): unknown {
    return {
      ...d,
      path: undefined,
      panels: d.panels.map((p) => {
        try {
          const q = findQueryIn(queryDirs, p.query);
          return { ...p, queryDescription: q.description, queryParams: q.params.map((x) => x.name) };
        } catch (error) {
          return { ...p, queryError: (error as Error).message };
        }
      }),
    };
  }

  async function panelRows(res: ServerResponse, url: URL, dashboardName: string, panelId: string, csv: boolean): Promise<void> {
    const dashboard = findDashboard(dashboardName);
    const panel = dashboard?.panels.find((p) => p.id === panelId);
    if (!dashboard || !panel) return void notFound(res, `no panel "${panelId}" in dashboard "${dashboardName}"`);
    const page = { ...dashboard.defaults, ...Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'token')) };
    let rows;
    try {
      const query = findQueryIn(queryDirs, panel.query);
      rows = await runSaved(query, panelParams(query, panel, page));
    } catch (error) {
      // The panel shows this in its place; the rest of the dashboard is unaffected.
      opts.log.debug({ dashboard: dashboardName, panel: panelId, err: error }, 'panel query failed');
      return void sendJson(res, 422, { error: (error as Error).message });
    }
    sendRows(res, rows, csv, `${dashboardName}-${panelId}.csv`);
  }

  async function savedQueryRows(res: ServerResponse, url: URL, name: string, csv: boolean): Promise<void> {
    let rows;
    try {
      const query = findQueryIn(queryDirs, name);
      rows = await runSaved(query, queryParamsFromUrl(query, url));
    } catch (error) {
      opts.log.debug({ query: name, err: error }, 'saved query failed');
      return void sendJson(res, 422, { error: (error as Error).message });
    }
    sendRows(res, rows, csv, `${name}.csv`);
  }

  async function acknowledge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON body (the server's request guard checks Host and Origin): a page on another site cannot make a browser send this.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return sendJson(res, 415, { error: 'send JSON: {"ids": [1, 2], "comment": "...", "classification": "benign"}' });
    if (!opts.acknowledgeAlert) return sendJson(res, 409, { error: READ_ONLY_ACK_MESSAGE });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, MAX_ACK_BODY_BYTES));
    } catch (error) {
      if (error instanceof BodyTooLarge) return sendJson(res, 413, { error: error.message }, { connection: 'close' });
      return sendJson(res, 400, { error: `the body must be JSON {"ids": [...]}: ${(error as Error).message}` });
    }
    const parsed = AckSchema.safeParse(body);
    if (!parsed.success) return sendJson(res, 400, { error: `bad request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    const by = uiCaller(opts.token);
    const { ids, comment, classification } = parsed.data;
    const result = await opts.acknowledgeAlert(ids, by, { comment: comment?.trim() ? comment.trim() : null, classification });
    opts.log.info({ ids: result.acknowledged, by, classification }, 'alerts acknowledged from the web UI');
    sendJson(res, 200, result);
  }

  return [route];
}

function homeReader(opts: DashboardRoutesOptions): ReadRows {
  if (opts.read) return opts.read;
  if (opts.session) return (sql, params) => opts.session!.run(sql, params);
  if (!opts.connection) throw new Error('the dashboards need a store to read: a connection, a session or a reader');
  const session = new ReadOnlySession(opts.connection, queryLimitsFromEnv());
  return (sql, params) => session.run(sql, params);
}

function isOurs(path: string): boolean {
  return path === '/' || path.startsWith('/d/') || path.startsWith('/ui/') || path.startsWith('/api/dashboards') ||
    path === '/api/servers' || path.startsWith('/api/alerts/') || path.startsWith('/alerts/') || path.startsWith('/sql/') ||
    path === '/queries' || path.startsWith('/api/queries') || path === '/api/time-range';
}

function sendRows(res: ServerResponse, rows: Rows, csv: boolean, filename: string): void {
  if (!csv) return sendJson(res, 200, rows);
  const body = FORMATTERS.csv(rows);
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename}"`,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function notFound(res: ServerResponse, message: string): true {
  sendJson(res, 404, { error: message });
  return true;
}

async function sendFile(res: ServerResponse, file: string, type: string, cache = 'no-cache'): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return void notFound(res, `not found: ${file}`);
  }
  res.writeHead(200, { 'content-type': type, 'content-length': bytes.length, 'cache-control': cache });
  res.end(bytes);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}


