/**
 * A session's pending statement: an audit entry that repeats it is skipped (one change = one row), and an ERROR
 * right after it, before pgaudit confirmed it ran, means it failed.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeSession } from './privilege-session.js';
import type { IneffectiveMarks } from './ineffective-marks.js';
import { untrackChanges } from './transaction-ledger.js';

type Audit = Extract<ParsedEntry, { kind: 'audit' }>['audit'];

/**
 * Does this audit entry repeat the session's pending statement? Its text must be contained in the statement's,
 * at top level or as a substatement of the same statement id. A repeat confirms the statement ran, except an
 * Entra call's: pgaudit logs a call's READ and FUNCTION entries as it starts, so the call may still fail.
 */
export function repeatsPendingStatement(s: PrivilegeSession, audit: Audit, text: string): boolean {
  const p = s.pending;
  if (!p) return false;
  const core = text.replace(/\s*<REDACTED>\s*$/, '').replace(/;\s*$/, '').trim();
  if (!core || !(p.raw.includes(core) || p.unquoted.includes(core))) return false;
  if (p.fromAudit) {
    if (p.statementId === null || (audit.statementId !== p.statementId && audit.statementId !== p.statementId + 1)) return false;
  } else if (audit.substatementId !== 1 && audit.statementId !== p.statementId) return false;
  p.statementId = audit.statementId;
  if (s.entraCall?.pending === p) {
    s.entraCall.statementId ??= audit.statementId;
    return true;
  }
  p.confirmed = true;
  return true;
}

/** An ERROR outside a transaction: the pending statement failed if the ERROR is for it (or names no statement). */
export function failPendingStatement(entry: ParsedEntry, s: PrivilegeSession, marks: IneffectiveMarks): void {
  const p = s.pending;
  if (!p || p.confirmed || p.failed) return;
  const failing = entry.record.statement;
  if (failing !== null && failing.trim() !== p.text.trim() && failing.trim() !== p.raw.trim()) return;
  p.failed = true;
  untrackChanges(s.ledger, p.changes);
  marks.mark(entry.record, p.changes, 'failed');
}
