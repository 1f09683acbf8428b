/**
 * A `log_statement` line: logged before the statement runs, so it becomes the session's pending statement. Its
 * clear text (never truncated) gives the changes; the audit entries that repeat it are skipped later.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeChange } from '../privilege-change.js';
import { type AnalyzerState, eventsOrDeadLetter } from './analyzer-state.js';
import { mayChangePrivileges, startsWithTransactionControl } from './prefilter.js';
import { pendingStatement } from './privilege-session.js';
import { playEvents } from './change-rows.js';
import { entraCallOf } from './entra-call.js';

export function observeStatementLine(
  state: AnalyzerState, entry: Extract<ParsedEntry, { kind: 'statement' }>, userName: string | null,
): PrivilegeChange[] {
  const s = state.sessions.stateOf(entry.record.server, entry.record.sessionId);
  const raw = entry.rawStatement;
  const pending = pendingStatement(raw, entry.statement, { statementId: null, fromAudit: false, confirmed: false });
  s.pending = pending;
  s.entraCall = null;
  if (!mayChangePrivileges(entry) && !startsWithTransactionControl(raw)) return [];
  const events = eventsOrDeadLetter(state, entry, raw, { truncated: false }, entry.statement);
  if (!events) return [];
  pending.controlsTransactions = events.some((e) => e.kind === 'transaction');
  pending.changes = playEvents(state, entry, s, events, userName, entry.statement, null);
  s.entraCall = entraCallOf(pending, null);
  return pending.changes;
}
