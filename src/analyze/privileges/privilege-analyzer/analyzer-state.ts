/** What one analyzer keeps across lines: its sessions, the marks and dead letters not yet drained, the row counter. */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import { ParseError, type DeadLetter } from '../../../contracts/log-record.js';
import { analyzeStatement, type StatementContext, type StatementEvent } from '../statement-changes.js';
import { createSessionTable, type SessionTable } from './session-table.js';
import { createIneffectiveMarks } from './ineffective-marks.js';
import type { RowContext } from './change-rows.js';
import type { PrivilegeChange } from '../privilege-change.js';

export interface AnalyzerState extends RowContext {
  sessions: SessionTable;
  /** Statements that could change privileges but do not parse, since the last drain. */
  deadLetters: DeadLetter[];
  /** Moves whenever a BEGIN, COMMIT or ROLLBACK is learnt (with `marks.flips`: whenever what the transaction handover says moves). */
  moved: number;
  /** The instance whose store holds each change a hub's last leader handed over (transaction-handover.ts). */
  held: WeakMap<PrivilegeChange, string>;
}

export function createAnalyzerState(): AnalyzerState {
  let seq = 0;
  const held = new WeakMap<PrivilegeChange, string>();
  return { sessions: createSessionTable(), marks: createIneffectiveMarks((c) => held.get(c)), held, deadLetters: [], moved: 0, nextSeq: () => ++seq };
}

/** The statement's events, or null after a text that does not parse became a dead letter (with `redacted` as its raw). */
export function eventsOrDeadLetter(
  state: AnalyzerState, entry: ParsedEntry, sql: string, ctx: StatementContext, redacted: string,
): StatementEvent[] | null {
  try {
    return analyzeStatement(sql, ctx);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    state.deadLetters.push({ source: entry.record.source, position: entry.record.position, reason: err.message, raw: redacted });
    return null;
  }
}
