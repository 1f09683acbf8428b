/**
 * A session's transaction as the log shows it: BEGIN … COMMIT / ROLLBACK, savepoints, an ERROR that aborts it,
 * a disconnection inside it. Changes it undoes are marked ineffective; a rolled back SET ROLE is undone too.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { TransactionOp } from '../statement-changes.js';
import type { PrivilegeSession } from './privilege-session.js';
import type { IneffectiveMarks } from './ineffective-marks.js';

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
      if (s.aborted) marks.mark(entry, s.txChanges, 'aborted');
      endTransaction(s, s.aborted);
      return;
    case 'rollback':
      marks.mark(entry, s.txChanges, 'rollback');
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
      marks.mark(entry, s.txChanges.slice(s.savepoints[i]!.index), 'rollback-to-savepoint');
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
  marks.mark(entry, s.txChanges, 'aborted');
  endTransaction(s, true);
}

/** An ERROR inside a transaction aborts it. */
export function abortTransaction(entry: ParsedEntry, s: PrivilegeSession, marks: IneffectiveMarks): void {
  s.aborted = true;
  // Without savepoints the whole transaction is lost, whatever ends it (its COMMIT is not even audit-logged).
  if (s.savepoints.length === 0) marks.mark(entry, s.txChanges, 'aborted');
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
