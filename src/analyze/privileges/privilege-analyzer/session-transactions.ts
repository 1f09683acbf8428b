/**
 * A session's transaction in the order its lines arrive: BEGIN … COMMIT / ROLLBACK, savepoints, an ERROR that aborts
 * it, a disconnection inside it. It follows the session's role (a rolled back SET ROLE is undone too) and judges the
 * changes without a statement id (`log_statement` lines pgaudit did not confirm, a string with its own transaction
 * control); the session's ledger judges the others by statement id (transaction-ledger.ts).
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { TransactionOp } from '../statement-changes.js';
import type { PrivilegeChange } from '../privilege-change.js';
import type { PrivilegeSession } from './privilege-session.js';
import type { IneffectiveMark, IneffectiveMarks } from './ineffective-marks.js';

export function applyTransactionOp(entry: ParsedEntry, s: PrivilegeSession, tx: TransactionOp, marks: IneffectiveMarks): void {
  switch (tx.op) {
    case 'begin':
      closeAbortedTransaction(entry, s, marks); // the aborted transaction before it ended without a logged COMMIT/ROLLBACK
      if (!s.inTx) {
        s.inTx = true;
        s.roleAtBegin = s.role;
      }
      return;
    case 'commit':
      // COMMIT of an aborted transaction is a rollback.
      if (s.aborted) markInOrder(entry, s, marks, s.txChanges, 'aborted');
      endTransaction(s, s.aborted);
      return;
    case 'rollback':
      markInOrder(entry, s, marks, s.txChanges, 'rollback');
      endTransaction(s, true);
      return;
    case 'savepoint':
      s.savepoints.push({ name: tx.name, index: s.txChanges.length });
      return;
    case 'release': {
      const i = lastSavepoint(s.savepoints, tx.name);
      if (i >= 0) s.savepoints.length = i;
      return;
    }
    case 'rollback-to': {
      const i = lastSavepoint(s.savepoints, tx.name);
      if (i < 0) return;
      markInOrder(entry, s, marks, s.txChanges.slice(s.savepoints[i]!.index), 'rollback-to-savepoint');
      s.txChanges.length = s.savepoints[i]!.index;
      s.savepoints.length = i + 1;
      s.aborted = false;
      return;
    }
    default: {
      const never: never = tx;
      return never;
    }
  }
}

/** An aborted transaction can run nothing: a change seen afterwards means it ended unseen. */
export function closeAbortedTransaction(entry: ParsedEntry, s: PrivilegeSession, marks: IneffectiveMarks): void {
  if (!s.aborted) return;
  markInOrder(entry, s, marks, s.txChanges, 'aborted');
  endTransaction(s, true);
}

/** An ERROR inside a transaction aborts it. */
export function abortTransaction(entry: ParsedEntry, s: PrivilegeSession, marks: IneffectiveMarks): void {
  s.aborted = true;
  // Without savepoints the whole transaction is lost, whatever ends it (its COMMIT is not even audit-logged).
  if (s.savepoints.length === 0) markInOrder(entry, s, marks, s.txChanges, 'aborted');
}

function endTransaction(s: PrivilegeSession, rolledBack: boolean): void {
  s.inTx = false;
  s.aborted = false;
  // New arrays only when used (nothing else holds these, and most transactions leave both empty).
  if (s.txChanges.length > 0) s.txChanges = [];
  if (s.savepoints.length > 0) s.savepoints = [];
  if (rolledBack || s.localRole) s.role = s.roleAtBegin;
  s.localRole = false;
}

function lastSavepoint(points: { name: string }[], name: string): number {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]!.name === name) return i;
  return -1;
}

/** Marks those of `changes` the ledger does not judge. */
export function markInOrder(
  entry: ParsedEntry, s: PrivilegeSession, marks: IneffectiveMarks, changes: PrivilegeChange[], reason: Exclude<IneffectiveMark['reason'], 'committed'>,
): void {
  if (changes.length === 0) return;
  const judged = s.ledger.judged;
  marks.mark(entry.record, judged !== null && changes.some((c) => judged.has(c)) ? changes.filter((c) => !judged.has(c)) : changes, reason);
}
