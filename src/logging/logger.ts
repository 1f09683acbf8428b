import { pino, type Logger } from 'pino';
import { LOGGER_REDACT_PATHS } from '../parse/redact/index.js';

/**
 * One logger for the process: JSON lines on stderr by default (stdout belongs to command output such
 * as `query --format json`), pretty on a terminal. Keys and connection strings are censored by path.
 */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.AUDITDUCK_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? prettyWanted(process.env.AUDITDUCK_LOG_FORMAT, process.stderr.isTTY === true);
  const redact = { paths: [...LOGGER_REDACT_PATHS], censor: '[REDACTED]' };
  if (pretty) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}

/** AUDITDUCK_LOG_FORMAT=pretty|json forces either (under Docker stderr is no TTY, yet a person may read it); unset follows the terminal. */
export function prettyWanted(format: string | undefined, stderrIsTty: boolean): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  if (format !== undefined && format !== '') throw new Error(`AUDITDUCK_LOG_FORMAT is "${format}": use pretty or json (or leave it unset to follow the terminal)`);
  return stderrIsTty;
}

export type { Logger };
