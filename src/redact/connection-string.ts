/**
 * For the logger: connection strings and keys must never reach a log line. `redactConnectionString`
 * masks the secret values of Event Hubs / Storage connection strings, SAS tokens, libpq conninfo
 * and URLs while keeping the rest (endpoint, entity, account) readable for troubleshooting.
 */

/** Key=value pairs whose value is a secret, as they appear in Azure and libpq connection strings. */
const SECRET_KEYS = ['SharedAccessKey', 'AccountKey', 'AccessKey', 'SharedAccessSignature', 'sig', 'password', 'pwd', 'client_secret'];

const KEY_VALUE = new RegExp(`\\b(${SECRET_KEYS.join('|')})(\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'?|[^;&\\s]+)`, 'gi');
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)[^\s/'"]*@/gi;

export const REDACTED_VALUE = '<REDACTED>';

export function redactConnectionString(s: string): string {
  return s
    .replace(KEY_VALUE, (_m, key: string, eq: string) => `${key}${eq}${REDACTED_VALUE}`)
    .replace(URL_CREDENTIALS, (_m, head: string) => `${head}${REDACTED_VALUE}@`);
}

/**
 * pino `redact.paths` for objects the logger may be handed (config, errors from the Azure SDK).
 * The logger censors them with `censorSecret`, so connection strings keep their non-secret parts.
 */
export const LOGGER_REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  '*.*.connectionString',
  'eventhubConnectionString',
  '*.eventhubConnectionString',
  'blobConnectionString',
  '*.blobConnectionString',
  'webhookUrl',
  '*.webhookUrl',
  'headers.authorization',
  '*.headers.authorization',
  'sharedAccessKey',
  '*.sharedAccessKey',
  'accountKey',
  '*.accountKey',
];

/** pino `redact.censor`: masks inside strings that are connection strings, replaces anything else. */
export function censorSecret(value: unknown): unknown {
  if (typeof value !== 'string') return value === undefined ? undefined : REDACTED_VALUE;
  // The logger's string redaction may already have masked the key: a string with the shape of a
  // connection string keeps its readable parts either way.
  return holdsConnectionSecret(value) ? redactConnectionString(value) : REDACTED_VALUE;
}

function holdsConnectionSecret(s: string): boolean {
  return new RegExp(KEY_VALUE.source, 'i').test(s) || new RegExp(URL_CREDENTIALS.source, 'i').test(s);
}
