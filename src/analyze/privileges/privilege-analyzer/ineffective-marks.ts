/**
 * Changes whose effect was judged again after they were returned, collected for the store to update the rows it
 * wrote: most turn ineffective (a ROLLBACK, an abort); one the disconnection undid turns effective again when the
 * COMMIT of its transaction arrives after it (lines read out of order, transaction-ledger.ts).
 */
import type { PrivilegeChange } from '../privilege-change.js';

/**
 * Rows to set `effective` on: `seqs` are the analyzer's `seq` of each change; `from`/`until` bound their `logged_at`.
 * `effective` is false for the reasons a change is undone, true (reason `committed`) when it took effect after all.
 */
export interface IneffectiveMark {
  server: string;
  sessionId: string | null;
  from: Date;
  until: Date;
  seqs: number[];
  effective: boolean;
  reason: 'rollback' | 'rollback-to-savepoint' | 'aborted' | 'failed' | 'disconnected' | 'committed';
}

/** The session marks are made in. */
export interface MarkedSession {
  server: string;
  sessionId: string | null;
}

export interface IneffectiveMarks {
  /** Flips the changes still effective and records one mark for them, in `session`. */
  mark(session: MarkedSession, changes: PrivilegeChange[], reason: Exclude<IneffectiveMark['reason'], 'committed'>): void;
  /** Flips the changes judged ineffective back and records one mark for them: they took effect after all. */
  restore(session: MarkedSession, changes: PrivilegeChange[]): void;
  /** The marks recorded since the last call, in the order they were made (a later one wins). */
  drain(): IneffectiveMark[];
}

export function createIneffectiveMarks(): IneffectiveMarks {
  let marks: IneffectiveMark[] = [];
  const record = (session: MarkedSession, changes: PrivilegeChange[], effective: boolean, reason: IneffectiveMark['reason']): void => {
    const moved = changes.filter((c) => c.effective !== effective);
    if (moved.length === 0) return;
    for (const c of moved) c.effective = effective;
    marks.push({
      server: session.server,
      sessionId: session.sessionId,
      from: moved.reduce((t, c) => (c.loggedAt < t ? c.loggedAt : t), moved[0]!.loggedAt),
      until: moved.reduce((t, c) => (c.loggedAt > t ? c.loggedAt : t), moved[0]!.loggedAt),
      seqs: moved.map((c) => c.seq),
      effective,
      reason,
    });
  };
  return {
    mark: (session, changes, reason) => record(session, changes, false, reason),
    restore: (session, changes) => record(session, changes, true, 'committed'),
    drain() {
      const out = marks;
      marks = [];
      return out;
    },
  };
}
