/**
 * Secrets that are found by their shape in the text rather than by SQL structure: URLs with
 * credentials, cloud connection-string keys, unique-violation DETAIL lines, and a last-chance
 * `password '…'` for log prose whose apostrophes threw the SQL lexer out of step.
 * Each row says which group is the secret and what replaces it.
 */
import type { SecretFinding } from './secret-finding.js';
import { describeSecret } from './describe-secret.js';
import { REDACTED, REDACTED_LITERAL, type Edit } from './edit.js';
import { isCredentialSetting, SECRET_JSON_KEY } from './credential-names.js';

export interface TextPattern {
  name: string;
  /** Global regex; the secret is the named group `secret`, which the `d` flag locates. */
  pattern: RegExp;
  kind: SecretFinding['kind'];
  replacement: string;
  /** Only when the SQL scan could not follow the quoting (an unclosed quote at the top level). */
  onlyWhenOutOfStep?: boolean;
  /** Decodes the matched secret to the value whose facts are reported. */
  decode?: (raw: string) => string;
  /** Extra condition on the whole match. */
  accept?: (m: RegExpExecArray) => boolean;
}

function percentDecoded(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export const TEXT_PATTERNS: readonly TextPattern[] = [
  {
    // The password runs to the last `@` before a space or a `"`: it may hold `'`, `/` or `@` itself.
    name: 'URL with credentials: postgresql://user:secret@host/db (any scheme)',
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:(?<secret>(?:[^\s"\\]|\\.)*)@/dgi,
    kind: 'connection-password',
    replacement: REDACTED,
    decode: percentDecoded,
  },
  {
    name: 'cloud connection-string keys: SharedAccessKey=, AccountKey=, SAS sig=, Pwd=',
    pattern: /\b(?:SharedAccessKey|AccountKey|AccessKey|SharedAccessSignature|sig|pwd|client_secret|sslpassword)=(?<secret>[^;&\s'"]+)/dgi,
    kind: 'connection-password',
    replacement: REDACTED,
  },
  {
    name: 'libpq environment variable in a shell command: COPY … PROGRAM \'PGPASSWORD=x psql …\'',
    pattern: /\bPGPASSWORD=(?<secret>[^\s;&'"]+)/dg,
    kind: 'connection-password',
    replacement: REDACTED,
  },
  {
    name: 'unique violation DETAIL: Key (password)=(hunter2) already exists.',
    pattern: /\bKey \((?<cols>[^)]*)\)=\((?<secret>.*?)\) (?:already exists|is not present|conflicts with)/dgi,
    kind: 'password',
    replacement: REDACTED,
    accept: (m) => /passw|secret/i.test(m.groups?.['cols'] ?? ''),
  },
  {
    name: 'JSON member whose key names a secret: {"password": "x"}, "administratorLoginPassword": "x", "client_secret": 12',
    // A value that is not a JSON string (a number, or a bare word in broken JSON) runs to the next , } ] or space.
    pattern: /"(?<key>(?:[^"\\]|\\.){1,200})"\s*:\s*(?<secret>"(?:[^"\\]|\\.)*"?|[^\s,}\]"]+)/dg,
    kind: 'password',
    replacement: `"${REDACTED}"`,
    accept: (m) => SECRET_JSON_KEY.test(m.groups?.['key'] ?? '') && !/^(?:null|true|false|\{|\[)/.test(m.groups?.['secret'] ?? ''),
    decode: (raw) => raw.replace(/^"/, '').replace(/"$/, ''),
  },
  {
    name: 'V8 JSON.parse error quoting the input: Unexpected token \'x\', "…" is not valid JSON',
    pattern: /(?<secret>"[^]*")(?:\.\.\.)? is not valid JSON/dg,
    kind: 'password',
    replacement: `"${REDACTED}"`,
    decode: (raw) => raw.slice(1, -1),
  },
  {
    name: 'postmaster reload of a credential setting: parameter "ssl_passphrase_command" changed to "…"',
    pattern: /\bparameter "(?<name>[^"]+)" (?:changed|set|cannot be changed) to "(?<secret>(?:[^"]|"")*)"/dg,
    kind: 'password',
    replacement: REDACTED,
    accept: (m) => isCredentialSetting(m.groups?.['name'] ?? ''),
  },
  {
    // libpq (through dblink, postgres_fdw, a subscription) quotes the part of a URI or conninfo it could not read.
    name: 'libpq error quoting a connection string fragment: invalid percent-encoded token: "…"',
    pattern: /\b(?:invalid percent-encoded token|forbidden value %00 in percent-encoded value|unexpected spaces found in|invalid URI query parameter|missing "=" after):? "(?<secret>(?:[^"\\]|\\.)*)"/dg,
    kind: 'connection-password',
    replacement: REDACTED,
  },
  {
    name: "log prose out of step with SQL quoting: … password 'x' (doubled quotes are content)",
    pattern: /\bpassword(?:\s+|\s*=\s*)(?<secret>'(?:[^']|'')*(?:'|$))/dgi,
    kind: 'password',
    replacement: REDACTED_LITERAL,
    onlyWhenOutOfStep: true,
    decode: (raw) => raw.replace(/^'/, '').replace(/'$/, '').replaceAll("''", "'"),
  },
];

/** Edits for every pattern row that applies; `outOfStep` enables the prose fallback rows. */
export function textPatternEdits(text: string, outOfStep: boolean): Edit[] {
  const edits: Edit[] = [];
  for (const row of TEXT_PATTERNS) {
    if (row.onlyWhenOutOfStep && !outOfStep) continue;
    row.pattern.lastIndex = 0;
    for (let m = row.pattern.exec(text); m !== null; m = row.pattern.exec(text)) {
      const span = m.indices?.groups?.['secret'];
      const raw = m.groups?.['secret'];
      if (!span || raw === undefined || (row.accept && !row.accept(m))) continue;
      const value = row.decode ? row.decode(raw) : raw;
      if (value === REDACTED || raw === REDACTED || raw === REDACTED_LITERAL || raw === row.replacement || value === '') continue;
      edits.push({ start: span[0], end: span[1], replacement: row.replacement, finding: describeSecret(row.kind, value) });
    }
  }
  return edits;
}
