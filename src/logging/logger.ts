import { pino, type Logger } from 'pino';
import { LOGGER_REDACT_PATHS } from '../parse/redact/index.js';

/**
 * One logger for the process: JSON lines on stderr by default (stdout belongs to command output such
 * as `query --format json`), pretty on a terminal. Keys and connection strings are censored by path.
 */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.AUDITDUCK_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.AUDITDUCK_LOG_FORMAT !== 'json');
  const redact = { paths: [...LOGGER_REDACT_PATHS], censor: '[REDACTED]' };
  if (pretty) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}

export type { Logger };
