import { Command } from 'commander';
import { describeConfig, loadRunConfig } from '../../config/run-config.js';
import { createLogger } from '../../logging/logger.js';
import { oneLineFields } from '../../logging/one-line-fields.js';

/** After a failed start, what is left (an SDK's timers) gets this long before the process exits anyway. */
const FAILED_START_EXIT_MS = 2_000;
/** After a clean stop, what is left gets this long before the process exits with the stop's code. */
const AFTER_STOP_EXIT_MS = 2_000;

export const runCommand = new Command('run')
  .description('the main job: consume Event Hubs (or the demo stream from samples/), store, detect, alert, serve')
  .option('--config <file>', 'a JSON configuration file (environment variables override it)')
  .option('--lake <dirOrUrl>', 'export every committed row to this lake (a directory or a Blob container URL; overrides AUDITDUCK_LAKE)')
  .action(async (opts: { config?: string; lake?: string }) => {
    const log = createLogger();
    const config = await loadRunConfig(opts.config, opts.lake ? { ...process.env, AUDITDUCK_LAKE: opts.lake } : process.env);
    const described = describeConfig(config);
    log.info({ config: described }, `starting: ${oneLineFields(described)}`);
    // Listened for before the start: a signal while it starts (the default action kills the process on the spot,
    // past every clean-up) stops the job once it has started.
    let signalled: ((signal: string) => void) | string | null = null;
    const onSignal = (signal: string) => (typeof signalled === 'function' ? signalled(signal) : (signalled ??= signal));
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    // Loaded here, not at the top: `auditduck --help` and the other commands need none of the main job's SDKs.
    const { startMainJob } = await import('../../run/start-main-job.js');
    let job;
    try {
      job = await startMainJob(config, log);
    } catch (error) {
      // The job undid what it started; a client library may still hold a timer: exit non-zero regardless.
      setTimeout(() => process.exit(1), FAILED_START_EXIT_MS).unref();
      throw error;
    }
    const started = job;
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal, timeoutMs: config.operations.shutdownTimeoutMs }, 'stopping: finishing the batch in flight');
        // The last word on the shutdown time: whatever still runs then (a hung SDK close) is cut off.
        setTimeout(() => {
          log.error('stopping took longer than operations.shutdownTimeoutMs; exiting');
          process.exit(1);
        }, config.operations.shutdownTimeoutMs).unref();
        started.stop().then(
          (clean) => {
            // Not clean: the store is still open under a statement that would not finish; leave now.
            if (!clean) process.exit(1);
            // Stopped cleanly; an SDK timer may outlive its client (@azure/event-hubs 6.0.0 keeps a receiver's
            // 45-minute token-renewal loop after its processing ended in an error): it must not hold the exit.
            setTimeout(() => process.exit(process.exitCode ?? 0), AFTER_STOP_EXIT_MS).unref();
            resolve();
          },
          (error: unknown) => {
            log.error({ err: error }, 'stopping failed');
            process.exitCode = 1;
            resolve();
          },
        );
      };
      if (typeof signalled === 'string') stop(signalled);
      else signalled = stop;
    });
  });
