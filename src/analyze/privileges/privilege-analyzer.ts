/**
 * Parsed entries → privilege changes, with who did them and whether they took effect.
 * Input contract: entries of one event body come in log order; bodies of a session may come in any order (a hub's
 * partitions are read at different paces). `session.userName` is the session's user if the store knows it. Changes
 * are returned as soon as they are seen, judged with what is known of their transaction: a transaction is followed
 * by pgaudit statement id (privilege-analyzer/transaction-ledger.ts), so a ROLLBACK, an ERROR that aborts it, a
 * failed statement or a disconnection read later may turn them ineffective, and a COMMIT read after the
 * disconnection effective again: `ineffective()` drains those marks so the store can update rows it already wrote
 * (the same objects are also flipped).
 *
 * Dedup (one change = one row): a `log_statement` line is logged before the statement runs and pgaudit
 * after it succeeded, so the statement line comes first. Its clear text wins (no truncation); a later
 * audit entry of the same session whose text is contained in that statement's text (at top level, or
 * a substatement of the same statement id) is skipped. Audit entries alone are used when no statement line was logged.
 *
 * The parts, in privilege-analyzer/: the prefilter, the session table, statement lines and audit entries
 * (observe-*.ts), the pending statement they dedup against, Entra calls, transactions, and events → rows.
 */
import type { ParsedEntry } from '../../parse/parsed-entry.js';
import type { DeadLetter } from '../../contracts/log-record.js';
import type { PrivilegeChange } from './privilege-change.js';
import type { HandedChange, IneffectiveMark } from './privilege-analyzer/ineffective-marks.js';
import { type AnalyzerState, createAnalyzerState } from './privilege-analyzer/analyzer-state.js';
import { isEntraCall } from './privilege-analyzer/prefilter.js';
import { observeStatementLine } from './privilege-analyzer/observe-statement-line.js';
import { observeAuditEntry } from './privilege-analyzer/observe-audit-entry.js';
import { abortTransaction, markInOrder } from './privilege-analyzer/session-transactions.js';
import { failPendingStatement } from './privilege-analyzer/pending-statement.js';
import { transactionHandover } from './privilege-analyzer/transaction-handover.js';
import { learnBoundary, rejudge } from './privilege-analyzer/transaction-ledger.js';
import type { HandoverPart } from '../../contracts/handover-part.js';

export type { IneffectiveMark, HandedChange } from './privilege-analyzer/ineffective-marks.js';
export { mayChangePrivileges } from './privilege-analyzer/prefilter.js';

/**
 * Whether `observe` can do anything with this entry, whatever the analyzer knows: what it reads of the log. Read
 * and write audit lines change nothing, but for an Entra call and a multi-statement string (pgaudit logs the
 * whole string on each of its statements, whose ids chain). Whoever hands the analyzer only these (the store's
 * writer, given them by the ingest worker threads) gets what it would get from every entry.
 */
export function analyzerReads(entry: ParsedEntry): boolean {
  switch (entry.kind) {
    case 'audit': {
      const { className, statement } = entry.audit;
      if (className !== 'READ' && className !== 'WRITE') return true;
      return isEntraCall(entry) || (statement !== null && MULTI_STATEMENT.test(statement)) || (entry.rawStatement !== null && MULTI_STATEMENT.test(entry.rawStatement));
    }
    case 'statement':
      return true;
    case 'session':
      return entry.session.event === 'disconnected';
    case 'auth-failure':
      return false;
    case 'other':
      return entry.record.level === 'ERROR';
    default: {
      const never: never = entry;
      return never;
    }
  }
}

/** A statement followed by another in one string. */
const MULTI_STATEMENT = /;\s*\S/;

export interface PrivilegeAnalyzer {
  /** The changes the line makes; the array is not to be kept or changed (lines that change nothing share one). */
  observe(entry: ParsedEntry, session: { userName: string | null }): readonly PrivilegeChange[];
  /** Marks found since the last call (changes turned ineffective, or effective again). */
  ineffective(): IneffectiveMark[];
  /**
   * Changes a hub's last leader handed over (stored ineffective in its store) that a boundary read here took into
   * effect, since the last call: no row of them is here, detection judges them (docs/fleet.md).
   */
  takenOver(): HandedChange[];
  /** Statements that could change privileges but do not parse, since the last call. */
  deadLetters(): DeadLetter[];
  /** The sessions' transaction boundaries by statement id, for a hub's next leader (docs/fleet.md). */
  readonly handover: HandoverPart;
}

/** What observe returns for a line that changes nothing: one frozen array, not a new one per line. */
const NONE: readonly PrivilegeChange[] = Object.freeze([]);

export function createPrivilegeAnalyzer(): PrivilegeAnalyzer {
  const state = createAnalyzerState();
  const { sessions } = state;
  return {
    observe(entry, session) {
      // Most lines are reads and writes: they change nothing (a read or write repeating a logged statement would only
      // confirm it, and a statement whose audit lines are reads or writes changes no privilege).
      if (!analyzerReads(entry)) return NONE;
      const userName = session.userName ?? entry.record.userName;
      switch (entry.kind) {
        case 'statement':
          return observeStatementLine(state, entry, userName);
        case 'audit':
          return observeAuditEntry(state, entry, userName);
        case 'session':
          if (entry.session.event === 'disconnected') {
            // A transaction still open is rolled back, unless a COMMIT read later says it ended before.
            // Kept (among the recently ended) even for a session not seen yet: its other lines may come after it.
            const s = sessions.stateOf(entry.record.server, entry.record.sessionId);
            s.ledger.disconnected = true;
            rejudge(s.ledger, entry.record, state.marks);
            if (s.inTx) markInOrder(entry, s, state.marks, s.txChanges, 'disconnected');
            sessions.forget(entry.record.server, entry.record.sessionId);
          }
          return NONE;
        case 'auth-failure':
          return NONE;
        case 'other':
          if (entry.record.level === 'ERROR' && sessions.peek(entry.record.server, entry.record.sessionId)) observeError(state, entry);
          return NONE;
        default: {
          const never: never = entry;
          return never;
        }
      }
    },
    ineffective() {
      return state.marks.drain();
    },
    takenOver() {
      return state.marks.takenOver();
    },
    handover: transactionHandover(sessions, () => state.moved + state.marks.flips, state.marks, state.held),
    deadLetters() {
      const out = state.deadLetters;
      state.deadLetters = [];
      return out;
    },
  };
}

/**
 * An ERROR aborts the session's transaction, or is the failure of its pending statement. It has no statement id:
 * the ledger places it right after the last audit line of the session read (transaction-ledger.ts).
 */
function observeError(state: AnalyzerState, entry: ParsedEntry): void {
  const s = state.sessions.stateOf(entry.record.server, entry.record.sessionId);
  if (s.inTx) abortTransaction(entry, s, state.marks);
  else failPendingStatement(entry, s, state.marks);
  const after = s.ledger.lastId;
  if (after !== null && learnBoundary(s.ledger, after + 0.5, 'error')) rejudge(s.ledger, entry.record, state.marks);
}
