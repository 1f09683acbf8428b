/**
 * A pgaudit entry: skipped when it repeats the session's pending statement (whose changes it gives a statement id);
 * transaction control moves the session's transaction and its ledger; otherwise its text (possibly truncated at
 * `PASSWORD <REDACTED>`) gives the changes, judged by its statement id.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeChange } from '../privilege-change.js';
import { type AnalyzerState, eventsOrDeadLetter } from './analyzer-state.js';
import { isEntraCall, mayChangePrivileges } from './prefilter.js';
import { pendingStatement } from './privilege-session.js';
import { repeatsPendingStatement } from './pending-statement.js';
import { auditTransactionOp } from './audit-transaction-op.js';
import { applyTransactionOp } from './session-transactions.js';
import { learnTransactionOp, trackChanges } from './transaction-ledger.js';
import { playEvents } from './change-rows.js';
import { entraCallOf, newToEntraCall } from './entra-call.js';

export function observeAuditEntry(
  state: AnalyzerState, entry: Extract<ParsedEntry, { kind: 'audit' }>, userName: string | null,
): PrivilegeChange[] {
  const a = entry.audit;
  const text = entry.rawStatement ?? a.statement;
  const s = state.sessions.stateOf(entry.record.server, entry.record.sessionId);
  s.ledger.lastId = a.statementId;
  const tx = auditTransactionOp(a.command, text ?? '');
  if (text !== null && repeatsPendingStatement(s, a, text)) {
    const p = s.pending!;
    if (tx && learnTransactionOp(s.ledger, entry.record, tx, a.statementId, state.marks)) state.moved++;
    else if (!p.fromAudit && !p.controlsTransactions && !p.failed) trackChanges(s.ledger, entry.record, a.statementId, p.changes, state.marks);
    return [];
  }
  if (s.entraCall && a.substatementId === 1 && a.statementId !== s.entraCall.statementId) s.entraCall = null;
  if (tx) {
    applyTransactionOp(entry, s, tx, state.marks);
    if (learnTransactionOp(s.ledger, entry.record, tx, a.statementId, state.marks)) state.moved++;
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
    pending.changes = playEvents(state, entry, s, parsed, userName, stored, a.statementId);
    s.entraCall = entraCallOf(pending, a.statementId) ?? s.entraCall;
    return pending.changes;
  }
  const events = newToEntraCall(s.entraCall, a, parsed);
  if (s.entraCall && events !== parsed) {
    const added = playEvents(state, entry, s, events, userName, stored, a.statementId);
    s.entraCall.pending.changes.push(...added);
    return added;
  }
  // A DO block's substatements (same statement id) repeat what the block already said, and pgaudit ≤ 16
  // logs a multi-statement string whole on each of its statements (consecutive ids): read it once.
  if (a.command === 'DO' || /;\s*\S/.test(text)) {
    s.pending = pendingStatement(text, stored, { statementId: a.statementId, fromAudit: true, confirmed: true });
  }
  return playEvents(state, entry, s, events, userName, stored, a.statementId);
}
