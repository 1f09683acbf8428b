/**
 * LogRecord → ParsedEntry: says what a record is (audit entry, session line, auth failure, logged
 * statement, anything else) and redacts every text field on the way. Pure; order-independent.
 * A record whose AUDIT text does not parse is still kept as `other` and also reported as a dead letter.
 */
import type { DeadLetter, LogRecord } from '../contracts/log-record.js';
import { ParseError } from '../contracts/log-record.js';
import type { ParsedEntry } from './parsed-entry.js';
import { isAuditMessage, parseAuditMessage, renderAuditMessage, renderCsv } from '../pgaudit/index.js';
import { redactParameterDetail, redactParameters, redactSecrets } from '../redact/index.js';
import type { SecretFinding } from '../redact/secret-finding.js';
import { parseAuthFailure } from './session/auth-failure.js';
import { mayBeSessionLine, parseSessionLine } from './session/session-line.js';

export interface ParseOutcome {
  entry: ParsedEntry;
  dead?: DeadLetter;
}

const LOGGED_STATEMENT = /^(?:duration: [\d.]+ ms {2})?(?:statement|execute [^:]*): /s;

export function parseRecord(raw: LogRecord): ParseOutcome {
  const secrets: SecretFinding[] = [];
  const record = redactRecord(raw, secrets);

  if (raw.level === 'LOG' || raw.level === 'NOTICE' || raw.level === 'WARNING' || raw.level === 'INFO') {
    if (isAuditMessage(raw.message)) return parseAudit(raw, record, secrets);
    if (raw.level === 'LOG') {
      if (mayBeSessionLine(raw.message)) {
        const session = parseSessionLine(raw.message);
        if (session) return { entry: { kind: 'session', record, session } };
      }
      const logged = LOGGED_STATEMENT.exec(raw.message);
      if (logged) {
        const rawStatement = raw.message.slice(logged[0].length);
        const statement = record.message.slice(LOGGED_STATEMENT.exec(record.message)?.[0].length ?? 0);
        return { entry: { kind: 'statement', record, statement, rawStatement, secrets } };
      }
    }
  } else if (raw.level === 'FATAL') {
    const failure = parseAuthFailure(raw.level, raw.sqlstate, raw.message, raw.detail);
    if (failure) return { entry: { kind: 'auth-failure', record, failure } };
  }
  return { entry: { kind: 'other', record, secrets } };
}

function parseAudit(raw: LogRecord, record: LogRecord, secrets: SecretFinding[]): ParseOutcome {
  try {
    const audit = parseAuditMessage(raw.message);
    const rawStatement = audit.statement;
    if (audit.statement !== null) {
      const redacted = redactSecrets(audit.statement);
      audit.statement = redacted.text;
    }
    if (audit.parameters !== null) {
      const redacted = redactParameters(rawStatement, audit.parameters);
      secrets.push(...redacted.secrets);
      audit.parameters = redacted.parameters;
      if (redacted.secrets.length > 0) {
        audit.parameter = renderCsv(redacted.parameters);
        // The message repeats the parameters: store it as rebuilt from the redacted fields.
        return { entry: { kind: 'audit', record: { ...record, message: renderAuditMessage(audit) }, audit, secrets, rawStatement } };
      }
    }
    return { entry: { kind: 'audit', record, audit, secrets, rawStatement } };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return {
      entry: { kind: 'other', record, secrets },
      dead: { source: raw.source, position: raw.position, reason: `pgaudit entry: ${error.message}`, raw: record.message },
    };
  }
}

/** The statement a `parameters: $1 = …` DETAIL binds: the logged one (`execute S_1: …`) or the STATEMENT of an error. */
function boundStatement(raw: LogRecord): string | null {
  const logged = LOGGED_STATEMENT.exec(raw.message);
  return logged ? raw.message.slice(logged[0].length) : raw.statement;
}

/** Every text column of a record, redacted; findings are collected once (from the message and statement). */
function redactRecord(raw: LogRecord, secrets: SecretFinding[]): LogRecord {
  const message = redactSecrets(raw.message);
  secrets.push(...message.secrets);
  const statement = raw.statement === null ? null : redactSecrets(raw.statement);
  if (statement) secrets.push(...statement.secrets);
  const detail = raw.detail === null ? null : redactSecrets(redactParameterDetail(boundStatement(raw), raw.detail).text).text;
  const hint = raw.hint === null ? null : redactSecrets(raw.hint).text;
  const unchanged = message.text === raw.message && (statement === null || statement.text === raw.statement);
  if (unchanged && detail === raw.detail && hint === raw.hint) return raw;
  return { ...raw, message: message.text, statement: statement?.text ?? null, detail, hint };
}
