/**
 * `DETAIL:  parameters: $1 = 'alice', $2 = 'hunter2'`: the bind values PostgreSQL logs with an extended-protocol
 * statement (log_parameter_max_length may cut one short: `'hunt...'`). A value is a secret by where the
 * statement puts its `$N` (`PASSWORD $2`, `password = $2`) or by what it holds (a conninfo, a URL).
 */
import type { RedactionResult } from './secret-finding.js';
import { redactParameters } from './redact-secrets.js';

const PARAMETERS_DETAIL = /^parameters: /;
const PARAMETER = /\$(\d+) = (?:'((?:[^']|'')*)'(?:\.\.\.)?|NULL)/g;

export function redactParameterDetail(statement: string | null, detail: string): RedactionResult {
  if (!PARAMETERS_DETAIL.test(detail)) return { text: detail, secrets: [] };
  const found: { index: number; start: number; end: number; value: string }[] = [];
  for (const m of detail.matchAll(PARAMETER)) {
    if (m[2] === undefined) continue;
    const start = (m.index as number) + m[0].indexOf("'") + 1;
    found.push({ index: Number(m[1]), start, end: start + m[2].length, value: m[2].replaceAll("''", "'") });
  }
  if (found.length === 0) return { text: detail, secrets: [] };
  // redactParameters numbers parameters by position: place each value at its $N.
  const values: string[] = [];
  for (const f of found) values[f.index - 1] = f.value;
  const redacted = redactParameters(statement, Array.from(values, (v) => v ?? ''));
  let out = '';
  let at = 0;
  for (const f of found) {
    const now = redacted.parameters[f.index - 1] as string;
    if (now === f.value) continue;
    out += detail.slice(at, f.start) + now.replaceAll("'", "''");
    at = f.end;
  }
  return { text: out + detail.slice(at), secrets: redacted.secrets };
}
