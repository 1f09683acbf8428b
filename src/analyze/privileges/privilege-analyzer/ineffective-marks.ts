/** Changes turned ineffective after they were returned, collected for the store to update the rows it wrote. */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { PrivilegeChange } from '../privilege-change.js';

/** Rows to mark `effective = false`: `seqs` are the analyzer's `seq` of each change; `from`/`until` bound their `logged_at`. */
export interface IneffectiveMark {
  server: string;
  sessionId: string | null;
  from: Date;
  until: Date;
  seqs: number[];
  reason: 'rollback' | 'rollback-to-savepoint' | 'aborted' | 'failed' | 'disconnected';
}

export interface IneffectiveMarks {
  /** Flips the changes still effective and records one mark for them, in the session of `entry`. */
  mark(entry: ParsedEntry, changes: PrivilegeChange[], reason: IneffectiveMark['reason']): void;
  /** The marks recorded since the last call. */
  drain(): IneffectiveMark[];
}

export function createIneffectiveMarks(): IneffectiveMarks {
  let marks: IneffectiveMark[] = [];
  return {
    mark(entry, changes, reason) {
      const live = changes.filter((c) => c.effective);
      if (live.length === 0) return;
      for (const c of live) c.effective = false;
      marks.push({
        server: entry.record.server,
        sessionId: entry.record.sessionId,
        from: live[0]!.loggedAt,
        until: live.at(-1)!.loggedAt,
        seqs: live.map((c) => c.seq),
        reason,
      });
    },
    drain() {
      const out = marks;
      marks = [];
      return out;
    },
  };
}
