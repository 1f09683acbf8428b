/**
 * The dashboards' HTTP routes, mounted on the ops server of `auditduck run` or on the server of
 * `auditduck serve`:
 *
 *   GET  /, /d/NAME                         the page (plain HTML + JS from src/web/ui/, charts by Chart.js)
 *   GET  /ui/FILE, /ui/vendor/chart.js      static files, from the package itself (no CDN)
 *   GET  /api/dashboards                    the list, files that failed to load, whether acks are possible
 *   GET  /api/dashboards/NAME               one dashboard, its panels with their queries' descriptions
 *   GET  /api/dashboards/NAME/panels/ID     a panel's rows {columns, rows}, or {error} (422) in its place
 *   GET  /api/dashboards/NAME/panels/ID.csv the same rows as CSV
 *   GET  /api/servers                       servers in the store, for the picker
 *   GET  /sql/QUERY                         the saved query's text
 *   POST /api/alerts/acknowledge            {"ids": [1, 2]}: only with an acknowledgeAlert callback (the writer);
 *                                           acknowledged_by is who the request authenticated as, never the body
 *
 * Picker values arrive as URL parameters (since, until, server, role, ...) and reach the saved queries
 * only as the parameters they declare.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import { FORMATTERS } from '../../query/format-rows.js';
import { queryLimitsFromEnv } from '../../query/query-limits.js';
import { ReadOnlySession } from '../../query/read-only-session.js';
import { parseSavedQuery, resolveParams, type SavedQuery } from '../../query/saved-queries.js';
import type { Route } from '../ops-server.js';
import { DEFAULT_DASHBOARDS_DIR, loadDashboards, type Dashboard } from './dashboard-file.js';
import { defaultQueryDirs, findQueryIn, panelParams } from './panel-query.js';
import { checkUiToken, uiCaller } from './ui-token.js';
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

export interface DashboardRoutesOptions {
  /** A read connection of its own: statements on one connection share its transaction. */
  connection: DuckDBConnection;
  /** Required on every request when set (see ui-token.ts). */
  token?: string;
  log: Logger;
  /** The session the reads queue on, when the caller must close it (interrupting a read) before closing `connection`. */
  session?: ReadOnlySession;
  /** The writer's way to acknowledge alerts; absent in `serve`, which holds the store read-only. */
  acknowledgeAlert?: (ids: number[], by: string) => Promise<AcknowledgeResult>;
  /** Searched before the built-in dashboards/ and queries/. */
  dashboardDirs?: string[];
  queryDirs?: string[];
}

/** No `by`: who acknowledged is who the request authenticated as, not what it claims. */
const AckSchema = z.strictObject({ ids: z.array(z.number().int().positive()).min(1).max(1000) });

const SERVERS_QUERY = parseSavedQuery('servers', '-- Servers in the store, for the server picker.\nSELECT server FROM log_records GROUP BY server ORDER BY server');

/** serve's reader keeps every writer out, `alerts ack` too: the way that works is to stop it first. */
export const READ_ONLY_ACK_MESSAGE =
  'this UI holds the store read-only (auditduck serve), so it cannot acknowledge alerts, and while it runs neither can ' +
  '`auditduck alerts ack` (DuckDB lets no writer in beside a reader): stop serve, then run `auditduck alerts ack ID... [--comment TEXT]`. ' +
  'Under `auditduck run` both work: the dashboards it serves acknowledge, and so does `auditduck alerts ack`, through it.';

export function createDashboardRoutes(opts: DashboardRoutesOptions): Route[] {
  const session = opts.session ?? new ReadOnlySession(opts.connection, queryLimitsFromEnv());
  // Parameters resolve before the read queues: a bad picker value is the caller's error, not a query failure.
  const runSaved = (query: SavedQuery, given: Readonly<Record<string, string | null>>) => session.run(query.sql, resolveParams(query, given));
  const dashboardDirs = [...(opts.dashboardDirs ?? []), DEFAULT_DASHBOARDS_DIR];
  const queryDirs = defaultQueryDirs(opts.queryDirs);
  const findDashboard = (name: string): Dashboard | undefined => loadDashboards(dashboardDirs).dashboards.find((d) => d.name === name);

  const route: Route = async (req, res, url) => {
    const path = url.pathname;
    if (!isOurs(path)) return false;
    if (checkUiToken(req, res, url, opts.token) === 'answered') return true;

    if (req.method === 'POST' && path === '/api/alerts/acknowledge') {
      await acknowledge(req, res);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
      return true;
    }
    if (path === '/' || /^\/d\/[a-z0-9_-]+$/.test(path)) {
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
        dashboards: dashboards.map(({ name, title, description, params }) => ({ name, title, description, params })),
        errors,
        canAcknowledge: opts.acknowledgeAlert !== undefined,
        acknowledgeHelp: opts.acknowledgeAlert ? null : READ_ONLY_ACK_MESSAGE,
      });
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
    const sql = /^\/sql\/([a-z0-9_-]+)$/.exec(path);
    if (sql) {
      sendSqlPage(res, sql[1]!);
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
    if (!csv) return void sendJson(res, 200, rows);
    const body = FORMATTERS.csv(rows);
    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${dashboardName}-${panelId}.csv"`,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  function sendSqlPage(res: ServerResponse, name: string): void {
    let text: string;
    let title: string;
    try {
      const q = findQueryIn(queryDirs, name);
      title = `${q.name}.sql`;
      text = readFileSync(q.path, 'utf8');
    } catch (error) {
      title = name;
      text = (error as Error).message;
    }
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · auditduck</title>
<link rel="stylesheet" href="/ui/style.css"></head><body><header class="top"><a href="/">auditduck</a></header>
<main class="sql-page"><h1>${escapeHtml(title)}</h1><p>Saved query in <code>queries/</code>; run it with <code>auditduck query ${escapeHtml(name)} --param name=value</code>.</p>
<pre class="sql">${escapeHtml(text)}</pre></main></body></html>`;
    res.writeHead(200, { 'content-type': STATIC_TYPES['.html'] });
    res.end(html);
  }

  async function acknowledge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON body (the server's request guard checks Host and Origin): a page on another site cannot make a browser send this.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return sendJson(res, 415, { error: 'send JSON: {"ids": [1, 2]}' });
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
    const result = await opts.acknowledgeAlert(parsed.data.ids, by);
    opts.log.info({ ids: result.acknowledged, by }, 'alerts acknowledged from the web UI');
    sendJson(res, 200, result);
  }

  return [route];
}

function isOurs(path: string): boolean {
  return path === '/' || path.startsWith('/d/') || path.startsWith('/ui/') || path.startsWith('/api/dashboards') ||
    path === '/api/servers' || path === '/api/alerts/acknowledge' || path.startsWith('/sql/');
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

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

