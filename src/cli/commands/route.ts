import { createServer } from 'node:http';
import { Command } from 'commander';
import { createLogger } from '../../logging/logger.js';
import { oneLineFields } from '../../logging/one-line-fields.js';
import { describeRouteConfig, loadRouteConfig } from '../../route/route-config.js';

export const routeCommand = new Command('route')
  .description('re-key a hub into a second hub: each record republished with its server as partition key (docs/fleet.md)')
  .option('--config <file>', 'a JSON configuration file: { "from": {...}, "to": {...} } (environment variables override it)')
  .option('--from-hub <name>', 'the hub to read (overrides from.hubName)')
  .option('--to-hub <name>', 'the keyed hub to write (overrides to.hubName)')
  .option('--port <n>', '/healthz on this port (0 = off)', (value) => Number(value))
  .action(async (opts: { config?: string; fromHub?: string; toHub?: string; port?: number }) => {
    const log = createLogger();
    const config = await loadRouteConfig(opts.config, process.env, { fromHub: opts.fromHub, toHub: opts.toHub, port: opts.port });
    const described = describeRouteConfig(config);
    log.info({ config: described }, `starting route: ${oneLineFields(described)}`);
    const { startRoute } = await import('../../route/route-hub.js');
    const route = await startRoute({ config, log });
    const server =
      config.http.port > 0
        ? createServer((request, response) => {
            if (request.url !== '/healthz') {
              response.writeHead(404).end();
              return;
            }
            response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...route.stats() }));
          }).listen(config.http.port, config.http.host)
        : null;
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info({ signal }, 'stopping: finishing the batch in flight');
        setTimeout(() => process.exit(1), 30_000).unref();
        server?.close();
        route.close().then(resolve, (error: unknown) => {
          log.error({ err: error }, 'stopping failed');
          process.exitCode = 1;
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });
