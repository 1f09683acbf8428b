/**
 * Changes whose effect was judged again after they were returned, collected for the store to update the rows it
 * wrote: most turn ineffective (a ROLLBACK, an abort); one the disconnection undid turns effective again when the
 * COMMIT of its transaction arrives after it (lines read out of order, transaction-ledger.ts). A change a hub's last
 * leader handed over (its row is in that leader's store, transaction-handover.ts) makes no mark: taken into effect,
 * it is collected apart (`takenOver`), for detection to judge it here.
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
  /**
   * Taken into effect by a hub's other leader, which read the COMMIT and whose detection judged the changes
   * (transaction-handover.ts): this store's rows and roles follow, its rules judge them no more.
   */
  elsewhere?: true;
}

/** The session marks are made in. */
export interface MarkedSession {
  server: string;
  sessionId: string | null;
}

/** A change another store holds (handed over by a hub's last leader), taken into effect by a boundary read here. */
export interface HandedChange {
  change: PrivilegeChange;
  /** The instance whose store holds its row. */
  holder: string;
}

export interface IneffectiveMarks {
  /** Flips the changes still effective and records one mark for them, in `session`. */
  mark(session: MarkedSession, changes: PrivilegeChange[], reason: Exclude<IneffectiveMark['reason'], 'committed'>): void;
  /**
   * Flips the changes judged ineffective back and records one mark for them: they took effect after all (`elsewhere`:
   * by a COMMIT another leader of the hub read, which judged them).
   */
  restore(session: MarkedSession, changes: PrivilegeChange[], elsewhere?: boolean): void;
  /** The marks recorded since the last call, in the order they were made (a later one wins). */
  drain(): IneffectiveMark[];
  /** The handed changes taken into effect since the last call. */
  takenOver(): HandedChange[];
  /** Moves whenever a change's judgement moved. */
  readonly flips: number;
}

/** `holderOf`: the instance whose store holds a handed change's row; undefined for this store's own. */
export function createIneffectiveMarks(holderOf: (change: PrivilegeChange) => string | undefined = () => undefined): IneffectiveMarks {
  let marks: IneffectiveMark[] = [];
  let taken: HandedChange[] = [];
  let flips = 0;
  const record = (session: MarkedSession, changes: PrivilegeChange[], effective: boolean, reason: IneffectiveMark['reason'], elsewhere = false): void => {
    const flipped = changes.filter((c) => c.effective !== effective);
    if (flipped.length === 0) return;
    flips++;
    for (const c of flipped) c.effective = effective;
    const moved: PrivilegeChange[] = [];
    for (const c of flipped) {
      const holder = holderOf(c);
      // No row of a handed change is here to mark; one undone again after it was judged here stays judged (docs/fleet.md).
      if (holder === undefined) moved.push(c);
      else if (effective) taken.push({ change: c, holder });
    }
    if (moved.length === 0) return;
    marks.push({
      server: session.server,
      sessionId: session.sessionId,
      from: moved.reduce((t, c) => (c.loggedAt < t ? c.loggedAt : t), moved[0]!.loggedAt),
      until: moved.reduce((t, c) => (c.loggedAt > t ? c.loggedAt : t), moved[0]!.loggedAt),
      seqs: moved.map((c) => c.seq),
      effective,
      reason,
      ...(elsewhere ? { elsewhere: true as const } : {}),
    });
  };
  return {
    mark: (session, changes, reason) => record(session, changes, false, reason),
    restore: (session, changes, elsewhere) => record(session, changes, true, 'committed', elsewhere),
    drain() {
      const out = marks;
      marks = [];
      return out;
    },
    takenOver() {
      const out = taken;
      taken = [];
      return out;
    },
    get flips() {
      return flips;
    },
  };
}
