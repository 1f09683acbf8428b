import { Command } from 'commander';
import { describeConfig, loadRunConfig } from '../../config/run-config.js';
import { createLogger } from '../../logging/logger.js';

export const runCommand = new Command('run')
  .description('the main job: consume Event Hubs (or the demo stream from samples/), store, detect, alert, serve')
  .option('--config <file>', 'a JSON configuration file (environment variables override it)')
  .action(async (opts: { config?: string }) => {
    const log = createLogger();
    const config = await loadRunConfig(opts.config);
    log.info({ config: describeConfig(config) }, 'starting');
    // Loaded here, not at the top: `auditduck --help` and the other commands need none of the main job's SDKs.
    const { startMainJob } = await import('../../main-job/start-main-job.js');
    const job = await startMainJob(config, log);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping: finishing the batch in flight');
        job.stop().then(resolve, (error: unknown) => {
          log.error({ err: error }, 'stopping failed');
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });
