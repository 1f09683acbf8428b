/**
 * The main job's HTTP face on AUDITDUCK_HTTP_PORT: /healthz (liveness: the process serves), /readyz
 * (readiness: 503 with the reasons when a partition, the store, an alert sink or a snapshot server is failing)
 * and /metrics, plus the routes later stages mount (the dashboards). Bound to 127.0.0.1 unless configured otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { allowedHosts, guardRequest } from './request-guard.js';

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  health(): Record<string, unknown>;
  /** /readyz: 200 when `ready`, else 503; the whole object is the body. Absent: /readyz answers like /healthz. */
  readiness?(): { ready: boolean };
  /** Tried in order for any other path; a route returns true when it answered. */
  routes?: Route[];
  /** Each request refused for its Host or Origin (403), whatever its path: a sign of DNS rebinding or a cross-site page. */
  onHostOrOriginRefused?(): void;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (error as Error).message }));
    });
  });

  const hosts = allowedHosts(opts.host);
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!guardRequest(req, res, hosts)) return opts.onHostOrOriginRefused?.();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', ...opts.health() }));
      return;
    }
    if (url.pathname === '/readyz') {
      const readiness = opts.readiness?.() ?? { ready: true };
      res.writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', ...readiness }));
      return;
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': opts.registry.contentType });
      res.end(await opts.registry.metrics());
      return;
    }
    for (const route of opts.routes ?? []) if (await route(req, res, url)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `not found: ${url.pathname}` }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
