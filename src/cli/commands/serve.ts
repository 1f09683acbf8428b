import { Command } from 'commander';
import { resolveDbPath } from '../../config/store-path.js';
import { createLogger } from '../../logging/logger.js';
import { HTTP_TRUSTED_PROXIES_ENV, proxyList } from '../../web/client-address.js';
import { UI_TOKEN_ENV } from '../../web/dashboards/ui-token.js';
import { configuredLake } from '../read-target.js';

interface ServeOptions {
  db?: string;
  port: string;
  host: string;
  dashboards: string[];
  queries: string[];
  lake?: string;
  fleet: string[];
  config?: string;
  trustedProxy: string[];
}

export const serveCommand = new Command('serve')
  .description('serve the dashboards over a store opened read-only (while `auditduck run` holds the store, use the UI it serves)')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--port <n>', 'HTTP port (0 picks a free one)', '8080')
  .option('--host <address>', `address to bind; anything but loopback requires a token (${UI_TOKEN_ENV}, generated if unset; once set, loopback requires it too)`, '127.0.0.1')
  .option('--dashboards <dir>', 'a folder of your own dashboard files, searched before the built-in ones; repeat for more', collect, [] as string[])
  .option('--lake <dirOrUrl>', "serve the lake instead of the store: its Parquet as the store's tables (docs/lake.md)")
  .option(
    '--fleet <db>',
    "a store of the fleet or a peer's query API URL (repeat for each instance, as `query --fleet` takes them): every panel counts each record of the fleet once (docs/fleet.md)",
    collect,
    [] as string[],
  )
  .option('--queries <dir>', 'a folder of your own saved queries, searched before the built-in ones; repeat for more', collect, [] as string[])
  .option(
    '--trusted-proxy <address>',
    'a reverse proxy in front of serve (an address, a CIDR range, loopback, linklocal or uniquelocal; repeat for more; default: $AUDITDUCK_HTTP_TRUSTED_PROXIES): from it X-Forwarded-For names the client whose wrong tokens are counted',
    collect,
    [] as string[],
  )
  .option('--config <file>', 'a run configuration file: with a lake (its `lake`, or $AUDITDUCK_LAKE), rows hot retention dropped are read from the lake')
  .action(async (opts: ServeOptions) => {
    if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535) throw new Error(`--port ${opts.port} is not a port number (0-65535)`);
    if (opts.fleet.length > 0 && (opts.lake || opts.db)) throw new Error('give either --fleet (each store of the fleet) or --db / --lake (one store), not both');
    // The process's one logger, which redacts every line: a failed query's error may quote a credential.
    const log = createLogger();
    const { serveDashboards } = await import('../../web/dashboards/serve-dashboards.js');
    // Configured like run's: the rows its hot retention dropped are read from this lake.
    const lake = opts.fleet.length > 0 ? undefined : await configuredLake(opts.config);
    const server = await serveDashboards({
      dbPath: resolveDbPath(opts.db),
      host: opts.host,
      port: Number(opts.port),
      log,
      dashboardDirs: opts.dashboards,
      queryDirs: opts.queries,
      ...(opts.lake ? { open: () => openLakeForServe(opts.lake!) } : lake ? { open: () => openStoreAndLakeForServe(resolveDbPath(opts.db), lake) } : {}),
      ...(opts.fleet.length > 0 ? { fleet: opts.fleet } : {}),
      trustedProxies: opts.trustedProxy.length > 0 ? opts.trustedProxy : proxyList(process.env[HTTP_TRUSTED_PROXIES_ENV] ?? ''),
    });
    process.stdout.write(`auditduck dashboards (read-only) at ${server.url}\n`);
    if (server.tokenGenerated) process.stdout.write(`a token was generated for this run; set ${UI_TOKEN_ENV} to choose one\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
  });

async function openLakeForServe(lake: string) {
  const { openLakeDatabase } = await import('../../lake/index.js');
  const opened = await openLakeDatabase(lake);
  return { db: opened.db, readableDirs: [opened.dir], close: opened.close };
}

async function openStoreAndLakeForServe(dbPath: string, lake: string) {
  const { openStoreAndLakeDatabase } = await import('../../lake/index.js');
  const opened = await openStoreAndLakeDatabase(dbPath, lake);
  return { db: opened.db, readableDirs: opened.dirs, prepareReader: opened.shadow, close: opened.close };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
