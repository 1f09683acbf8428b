import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { censorSecret, LOGGER_REDACT_PATHS, redactStoredText, redactStrings } from '../redact/index.js';

/**
 * Fields whose line's message already says what a person needs: an alert (`[high] admin-granted ...`,
 * alert/sinks/log-sink.ts) and the configuration at start (`starting: db=... http.port=...`). Pretty
 * output leaves them out, so each stays one line on a terminal; JSON lines keep them for machines.
 */
export const FIELDS_IN_MESSAGE = ['alert', 'config'] as const;

/**
 * One logger for the process: JSON lines on stderr by default (stdout belongs to command output such
 * as `query --format json`), pretty on a terminal. Keys and connection strings are censored by path, and
 * every string of a line (message, fields, an error's message and stack) passes the same redactor as a
 * stored row: a log line is output too.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: DestinationStream } = {}): Logger {
  const level = opts.level ?? process.env.AUDITDUCK_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? prettyWanted(process.env.AUDITDUCK_LOG_FORMAT, process.stderr.isTTY === true);
  const options: LoggerOptions = {
    level,
    redact: { paths: [...LOGGER_REDACT_PATHS], censor: censorSecret },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactStoredText(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { log: (object) => redactStrings(object) },
    // The standard serializer's object has a prototype of its own: as plain JSON, every string of it is reached.
    serializers: { err: (e: Error) => redactStrings(JSON.parse(JSON.stringify(pino.stdSerializers.err(e))) as Record<string, unknown>) },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: ['hostname', ...FIELDS_IN_MESSAGE].join(',') } } });
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

/** AUDITDUCK_LOG_FORMAT=pretty|json forces either (under Docker stderr is no TTY, yet a person may read it); unset follows the terminal. */
export function prettyWanted(format: string | undefined, stderrIsTty: boolean): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  if (format !== undefined && format !== '') throw new Error(`AUDITDUCK_LOG_FORMAT is "${format}": use pretty or json (or leave it unset to follow the terminal)`);
  return stderrIsTty;
}

export type { Logger };
