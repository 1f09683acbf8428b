/**
 * Redacts an Azure record before anything of it is kept: every field whose key names a secret
 * (`administratorLoginPassword`, `keys`, `primaryKey`, `connectionString`, `clientSecret`...) loses its value,
 * and every other string goes through the text redactor (passwords in SQL, conninfo, URLs with credentials,
 * `AccountKey=` and SAS signatures). Bodies that Azure nests as JSON text (`requestbody`, `responseBody`) are
 * parsed and redacted the same way, then written back as text.
 */
import { REDACTED, redactConnectionString, redactSecrets, SECRET_JSON_KEY as SECRET_KEY } from '../../parse/redact/index.js';

/** Deeper than any real body: a guard against hostile input, not a limit that real records reach. */
const MAX_DEPTH = 32;

export function redactJson(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (typeof value === 'string') return redactText(value, depth);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && v !== null && v !== '' ? REDACTED : redactJson(v, depth + 1);
    }
    return out;
  }
  return value;
}

function redactText(text: string, depth: number): string {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = parseJson(text);
    if (parsed !== undefined) return JSON.stringify(redactJson(parsed, depth + 1));
  }
  return redactConnectionString(redactSecrets(redactJsonPairs(text)).text);
}

/** `"key": "value"` pairs in text that is not (or no longer) valid JSON: a body cut short, a message quoting one. */
const JSON_PAIR = /"((?:[^"\\]|\\.)*)"(\s*:\s*)"((?:[^"\\]|\\.)*)("?)/g;

function redactJsonPairs(text: string): string {
  if (!text.includes('"')) return text;
  return text.replace(JSON_PAIR, (whole, key: string, colon: string, value: string, close: string) =>
    SECRET_KEY.test(key) && value !== '' ? `"${key}"${colon}"${REDACTED}${close}` : whole,
  );
}

/** Parsed JSON, or undefined when the text is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
