/**
 * A pgaudit entry: skipped when it repeats the session's pending statement; transaction control moves the
 * session's transaction; otherwise its text (possibly truncated at `PASSWORD <REDACTED>`) gives the changes.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeChange } from '../privilege-change.js';
import { type AnalyzerState, eventsOrDeadLetter } from './analyzer-state.js';
import { isEntraCall, mayChangePrivileges } from './prefilter.js';
import { pendingStatement } from './privilege-session.js';
import { repeatsPendingStatement } from './pending-statement.js';
import { auditTransactionOp } from './audit-transaction-op.js';
import { applyTransactionOp } from './session-transactions.js';
import { noteTransactionOp, settleForeignEnd } from './transaction-handover.js';
import { playEvents } from './change-rows.js';
import { entraCallOf, newToEntraCall } from './entra-call.js';

export function observeAuditEntry(
  state: AnalyzerState, entry: Extract<ParsedEntry, { kind: 'audit' }>, userName: string | null,
): PrivilegeChange[] {
  const a = entry.audit;
  const text = entry.rawStatement ?? a.statement;
  const s = state.sessions.stateOf(entry.record.server, entry.record.sessionId);
  if (text !== null && repeatsPendingStatement(s, a, text)) return [];
  if (s.entraCall && a.substatementId === 1 && a.statementId !== s.entraCall.statementId) s.entraCall = null;
  // A transaction opened here whose COMMIT a hub's last leader read ends before this statement (docs/fleet.md).
  if (settleForeignEnd(entry, s, a.statementId, state.marks)) state.moved++;
  const tx = auditTransactionOp(a.command, text ?? '');
  if (tx) {
    const wasInTx = s.inTx;
    applyTransactionOp(entry, s, tx, state.marks);
    if (noteTransactionOp(s, tx.op, a.statementId, wasInTx)) state.moved++;
    return [];
  }
  if (!mayChangePrivileges(entry) || text === null) return [];
  const truncated = /<REDACTED>\s*$/.test(text) && (a.command === 'CREATE ROLE' || a.command === 'ALTER ROLE');
  const stored = a.statement ?? '';
  const parsed = eventsOrDeadLetter(state, entry, text, { truncated, command: a.command }, stored);
  if (!parsed) return [];
  if (isEntraCall(entry)) {
    // The READ entry of the call and the FUNCTION entries after it carry the same text: read the first. The call
    // is pending until its statement ends: an ERROR for it (the role exists) means it changed nothing.
    const pending = pendingStatement(text, stored, { statementId: a.statementId, fromAudit: true, confirmed: false });
    s.pending = pending;
    pending.changes = playEvents(state, entry, s, parsed, userName, stored);
    s.entraCall = entraCallOf(pending, a.statementId) ?? s.entraCall;
    return pending.changes;
  }
  const events = newToEntraCall(s.entraCall, a, parsed);
  if (s.entraCall && events !== parsed) {
    const added = playEvents(state, entry, s, events, userName, stored);
    s.entraCall.pending.changes.push(...added);
    return added;
  }
  // A DO block's substatements (same statement id) repeat what the block already said, and pgaudit ≤ 16
  // logs a multi-statement string whole on each of its statements (consecutive ids): read it once.
  if (a.command === 'DO' || /;\s*\S/.test(text)) {
    s.pending = pendingStatement(text, stored, { statementId: a.statementId, fromAudit: true, confirmed: true });
  }
  return playEvents(state, entry, s, events, userName, stored);
}
