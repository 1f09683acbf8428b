/**
 * A statement's events → `privilege_changes` rows, in order: who made each change (the session user, the role
 * set by SET ROLE), CURRENT_USER / SESSION_USER resolved with them, and the session's transaction and role kept
 * in step with the events.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeChange, StatementChange } from '../privilege-change.js';
import type { StatementEvent } from '../statement-changes.js';
import type { PrivilegeSession } from './privilege-session.js';
import type { IneffectiveMarks } from './ineffective-marks.js';
import { applyTransactionOp, closeAbortedTransaction } from './session-transactions.js';
import { trackChanges } from './transaction-ledger.js';

/** What rows are numbered and marked with: the analyzer's, shared by every session. */
export interface RowContext {
  marks: IneffectiveMarks;
  /** The next change's `seq`. */
  nextSeq(): number;
}

/**
 * `statementId`: the pgaudit statement id the changes are judged by (the session's ledger), or null: judged with
 * the transaction in arrival order (a `log_statement` line until pgaudit confirms it, a string with its own
 * transaction control, whose changes share one id).
 */
export function playEvents(
  rows: RowContext, entry: ParsedEntry, s: PrivilegeSession, events: StatementEvent[], userName: string | null, statement: string,
  statementId: number | null,
): PrivilegeChange[] {
  const out: PrivilegeChange[] = [];
  const byId = statementId !== null && !events.some((e) => e.kind === 'transaction');
  for (const e of events) {
    if (e.kind === 'transaction') {
      applyTransactionOp(entry, s, e.tx, rows.marks);
      continue;
    }
    closeAbortedTransaction(entry, s, rows.marks);
    const row = changeRow(entry, s, e.change, userName, statement, rows.nextSeq());
    out.push(row);
    if (s.inTx && !byId) s.txChanges.push(row);
    followRole(s, e.change);
  }
  if (byId && statementId !== null) trackChanges(s.ledger, entry.record, statementId, out, rows.marks);
  return out;
}

/** SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION change who the session's next changes are made by. */
function followRole(s: PrivilegeSession, c: StatementChange): void {
  if (c.action === 'set-role') {
    const v = c.value?.toLowerCase() === 'none' ? null : c.value;
    if (c.objectType === 'transaction') s.localRole = true;
    s.role = v;
  } else if (c.action === 'reset-role') s.role = null;
  else if (c.action === 'set-session-authorization') {
    s.sessionAuth = c.value === 'DEFAULT' ? null : c.value;
    s.role = null;
  }
}

function changeRow(entry: ParsedEntry, s: PrivilegeSession, c: StatementChange, userName: string | null, statement: string, seq: number): PrivilegeChange {
  const actor = s.sessionAuth ?? userName;
  const current = s.role ?? actor;
  const resolve = (name: string | null): string | null => {
    if (name === 'CURRENT_USER' || name === 'CURRENT_ROLE') return current ?? name;
    if (name === 'SESSION_USER') return actor ?? name;
    return name;
  };
  // Every field named, not spread: one object shape for every row the store and the replay read.
  return {
    action: c.action,
    roleName: resolve(c.roleName),
    attribute: c.attribute,
    value: c.value,
    grantedRole: resolve(c.grantedRole),
    privileges: c.privileges,
    objectType: c.objectType,
    objectName: c.objectName,
    grantee: resolve(c.grantee),
    withOption: c.withOption,
    grantor: resolve(c.grantor),
    truncated: c.truncated,
    uncertain: c.uncertain,
    passwordStrength: c.passwordStrength,
    server: entry.record.server,
    loggedAt: entry.record.loggedAt,
    sessionId: entry.record.sessionId,
    actor,
    actingRole: s.role !== null && s.role !== actor ? s.role : null,
    statement,
    effective: true,
    seq,
  };
}
