/**
 * The redactor every stored text column passes through (log messages, statements, pgaudit
 * statements and parameters, error messages, dead-letter raw text) before a row is built.
 *
 * Input contract: any string, SQL or not, possibly truncated (pgaudit's `PASSWORD <REDACTED>`)
 * or nested in quoting any number of levels. Output: the same text with each secret literal
 * replaced by `'<REDACTED>'` (a bare `<REDACTED>` inside conninfo values and URLs), everything
 * else byte for byte the same, and one SecretFinding per secret. Redacting twice equals once.
 * Text without a secret hint (SECRET_HINT: password, secret, ://, …) is returned as is after
 * one regex test — that is the path nearly every row takes.
 */
import type { RedactionResult, SecretFinding } from './secret-finding.js';
import { describeSecret } from './describe-secret.js';
import { REDACTED, applyEdits } from './edit.js';
import { isConninfo } from './conninfo.js';
import { SECRET_HINT, scanSql } from './sql-secret-scanner.js';
import { textPatternEdits } from './text-patterns.js';
import { isCredentialSetting } from './credential-names.js';
import { redactRawLogLines } from './raw-log-lines.js';

/**
 * JSON strings with backslash escapes (`"… PASSWORD \u0027x\u0027"`, `\"`): the SQL lexer cannot see the
 * quoting through them, so each such string is decoded, redacted as text, and written back as JSON.
 * Also strings cut short at the end of the text (a truncated body). Only in text that starts as JSON does:
 * elsewhere a `"` is a quoted SQL name, and pairing quotes from there would be out of step.
 */
const JSON_STRING = /"((?:[^"\\]|\\.)*)("|\\?$)/g;
/** An escape cut off by the end of the text: `\u00`, or a lone backslash. */
const CUT_ESCAPE = /\\(?:u[0-9A-Fa-f]{0,3})?$/;

function redactJsonStrings(text: string, depth: number): RedactionResult {
  if (depth >= MAX_JSON_DEPTH || !text.includes('\\') || !/^\s*[{[]/.test(text)) return { text, secrets: [] };
  const secrets: SecretFinding[] = [];
  // Every string is matched, in order, so quotes pair up as JSON pairs them; only those with escapes need work.
  const out = text.replace(JSON_STRING, (whole, body: string, close: string) => {
    if (!body.includes('\\')) return whole;
    let decoded: string;
    try {
      decoded = JSON.parse(`"${close === '"' ? body : body.replace(CUT_ESCAPE, '')}"`) as string;
    } catch {
      return whole;
    }
    if (!SECRET_HINT.test(decoded)) return whole;
    const r = redactText(decoded, depth + 1);
    if (r.text === decoded) return whole;
    secrets.push(...r.secrets);
    const encoded = JSON.stringify(r.text);
    return close === '"' ? encoded : encoded.slice(0, -1); // a string cut short stays open
  });
  return { text: out, secrets };
}

const MAX_JSON_DEPTH = 4;

function redact(text: string, conninfo: boolean, depth = 0): RedactionResult {
  const json = redactJsonStrings(redactRawLogLines(text), depth);
  const rest = redactSql(json.text, conninfo);
  return { text: rest.text, secrets: [...json.secrets, ...rest.secrets] };
}

function redactSql(text: string, conninfo: boolean): RedactionResult {
  const sql = scanSql(text, { conninfo, depth: 0 });
  const first = applyEdits(text, sql.edits);
  // Shape patterns run on the SQL-redacted text so they never see (or split) a literal already replaced.
  const second = applyEdits(first.text, textPatternEdits(first.text, sql.outOfStep));
  return { text: second.text, secrets: [...first.secrets, ...second.secrets] };
}

export function redactSecrets(text: string): RedactionResult {
  return redactText(text, 0);
}

function redactText(text: string, depth: number): RedactionResult {
  if (!SECRET_HINT.test(text)) return { text, secrets: [] };
  // A replacement can change how the rest reads (a pattern's value swallowed the `--` that made the rest a
  // comment): run again until nothing changes, so redacting stored text again never finds more.
  let result = redact(text, false, depth);
  for (let pass = 1; pass < MAX_PASSES; pass++) {
    const again = redact(result.text, false, depth);
    if (again.text === result.text) break;
    result = { text: again.text, secrets: [...result.secrets, ...again.secrets] };
  }
  return result;
}

const MAX_PASSES = 4;

/**
 * Redacts bind parameters: parameter N (1-based `$N`) when the statement puts it where a secret
 * goes (`PASSWORD $1`, `password = $2`, `format('… password %L', $1)`), and inside any parameter
 * that itself holds a conninfo `password=…`, a URL with credentials or a password clause.
 */
export function redactParameters(
  statement: string | null,
  parameters: string[],
): { parameters: string[]; secrets: SecretFinding[] } {
  const positions =
    statement !== null && SECRET_HINT.test(statement) ? scanSql(statement).paramIndexes : new Set<number>();
  const secrets: SecretFinding[] = [];
  const out = parameters.map((value, i) => {
    if (positions.has(i + 1)) {
      if (value === REDACTED) return value;
      secrets.push(describeSecret('parameter', value));
      return REDACTED;
    }
    if (!SECRET_HINT.test(value)) return value;
    const r = redact(value, isConninfo(value));
    secrets.push(...r.secrets);
    return r.text;
  });
  return { parameters: out, secrets };
}

/** The store's and the outputs' redactor: the text with every secret the redactor knows replaced. */
export function redactStoredText(text: string): string {
  return redactText(text, 0).text;
}

/**
 * The value a setting is given (`ALTER SYSTEM SET name = value`, a reload's `changed to`): all of it when
 * the name says credential (`ssl_passphrase_command`, `app.api_key`), else the secrets inside it
 * (a conninfo's password, a URL's).
 */
export function redactSettingValue(name: string | null, value: string): string {
  if (name !== null && isCredentialSetting(name) && value !== '') return REDACTED;
  if (!SECRET_HINT.test(value)) return value;
  return redact(value, isConninfo(value)).text;
}
