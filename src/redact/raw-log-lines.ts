/**
 * Raw log lines kept whole (a dead letter: a line whose prefix did not match, a body that did not decode)
 * carry bind values the parse stage never got to place: pgaudit's parameter field after its statement, and
 * `DETAIL:  parameters: $1 = '…'`, whose statement is on another line. The pgaudit field is redacted by the
 * positions its own statement gives; a DETAIL line's statement is out of sight, so all its values are.
 */
import { parseAuditMessage, renderAuditMessage, renderCsv } from '../pgaudit/index.js';
import { REDACTED } from './edit.js';
import { redactParameters } from './redact-secrets.js';

const AUDIT_LINE = /AUDIT: (?:SESSION|OBJECT),[^\n]*/g;
/** A raw DETAIL line, or an Azure record's `"detail":"parameters: …"` member (quotes maybe escaped as \u0027). */
const DETAIL_PARAMETERS = /\bDETAIL:\s+parameters: [^\n]*|"detail"\s*:\s*"parameters: (?:[^"\\]|\\.)*/gi;
const PARAMETER_VALUE = /(\$\d+ = )(?:'(?:[^']|'')*'|\\u0027(?:(?!\\u0027).)*\\u0027|'[^]*$)(?:\.\.\.)?/g;

export function redactRawLogLines(text: string): string {
  let out = text;
  if (out.includes('AUDIT: ')) {
    out = out.replace(AUDIT_LINE, (line) => {
      try {
        const audit = parseAuditMessage(line);
        if (audit.parameters === null) return line;
        const redacted = redactParameters(audit.statement, audit.parameters);
        if (redacted.secrets.length === 0) return line;
        return renderAuditMessage({ ...audit, parameters: redacted.parameters, parameter: renderCsv(redacted.parameters) });
      } catch {
        return line; // a cut or broken entry: the other rules still apply to it
      }
    });
  }
  if (out.includes('parameters: $')) {
    out = out.replace(DETAIL_PARAMETERS, (line) => line.replace(PARAMETER_VALUE, (_m, head: string) => `${head}'${REDACTED}'`));
  }
  return out;
}
