/** Cheap tests that run on every entry, before any statement is parsed. */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import { ENTRA_CALL } from '../entra-principals.js';

type AuditEntry = Extract<ParsedEntry, { kind: 'audit' }>;

const auditClasses = new Set(['ROLE', 'MISC', 'MISC_SET']);
const ddlCommands = new Set([
  'ALTER SYSTEM', 'CREATE EXTENSION', 'DROP EXTENSION', 'ALTER DATABASE', 'REASSIGN OWNED', 'DROP OWNED',
  'CREATE ROLE', 'ALTER ROLE', 'DROP ROLE', 'GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES', 'ALTER ROLE SET',
  'SECURITY LABEL',
]);
const statementStart =
  /^\s*(?:(?:create|alter|drop)\s+(?:role|user|group)\b|grant\b|revoke\b|set\b|reset\b|alter\s+(?:system|database|default)\b|reassign\b|drop\s+owned\b|(?:create|drop)\s+extension\b|security\s+label\b|do\b)/i;
const transactionStart = /^\s*(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;

/** Could this entry change privileges or security settings? */
export function mayChangePrivileges(entry: ParsedEntry): boolean {
  if (entry.kind === 'audit') {
    const a = entry.audit;
    if (auditClasses.has(a.className)) return a.className === 'ROLE' || a.command === 'SET' || a.command === 'RESET';
    if (a.className === 'DDL') return ddlCommands.has(a.command);
    if (a.className === 'FUNCTION' && a.command === 'DO') return true;
    return isEntraCall(entry);
  }
  if (entry.kind === 'statement') return statementStart.test(stripLeadingComments(entry.rawStatement)) || ENTRA_CALL.test(entry.rawStatement);
  return false;
}

/** Does a logged statement's text start with transaction control (BEGIN, COMMIT, SAVEPOINT, …)? */
export function startsWithTransactionControl(sql: string): boolean {
  return transactionStart.test(sql);
}

/**
 * The call of a function that creates an Entra principal, as pgaudit logs it: the READ entry of the statement and
 * the FUNCTION EXECUTE entries of the functions, all with the calling statement's text.
 */
export function isEntraCall(entry: AuditEntry): boolean {
  const { className, statement } = entry.audit;
  return (className === 'READ' || className === 'FUNCTION') && statement !== null && ENTRA_CALL.test(statement);
}

function stripLeadingComments(sql: string): string {
  if (!/^\s*(?:--|\/\*)/.test(sql)) return sql;
  return sql.replace(/^(?:\s*(?:--[^\n]*\n?|\/\*[\s\S]*?\*\/))+/, '');
}
