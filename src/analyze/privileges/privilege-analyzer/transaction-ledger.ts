/**
 * A session's transactions by pgaudit statement id, not by the order its lines arrive in (docs/privilege-analysis.md).
 * Azure spreads a server's records over every partition of a hub and they are read at different paces, so a
 * transaction may span two event bodies read out of order. The ledger keeps the session's transaction control as
 * boundaries by statement id (BEGIN, COMMIT, ROLLBACK, savepoints), learnt in any order, and judges each change by
 * its own statement id: ineffective if it lies in a transaction that ended in ROLLBACK, that an ERROR aborted, that
 * was left open at the disconnection, or between a savepoint and a ROLLBACK TO it. Each boundary learnt re-judges
 * the session's changes: an end learnt late may undo a change, or make one the disconnection undid effective again.
 *
 * An ERROR carries no statement id: it is placed right after the last audit line of its session read before it,
 * which is where it belongs when both came in one body (they usually do; they may not).
 */
import type { PrivilegeChange } from '../privilege-change.js';
import type { TransactionOp } from '../statement-changes.js';
import type { IneffectiveMark, IneffectiveMarks, MarkedSession } from './ineffective-marks.js';

export type BoundaryKind = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to' | 'error';

type UndoneReason = Exclude<IneffectiveMark['reason'], 'committed'>;

export interface Boundary {
  /** The statement id (an ERROR's: half past the audit line before it). */
  id: number;
  kind: BoundaryKind;
  /** A savepoint's name ('' for the others). */
  name: string;
}

/**
 * A change the ledger judges, with its statement id. Only a boundary learnt between `lo` (the BEGIN, COMMIT or
 * ROLLBACK before it) and `hi` (the COMMIT or ROLLBACK after it, Infinity: none yet) can move its judgement.
 */
interface Tracked {
  id: number;
  change: PrivilegeChange;
  lo: number;
  hi: number;
}

export interface TransactionLedger {
  /** Ascending by id. */
  bounds: Boundary[];
  /** Pruned when `bounds` grows past this. */
  pruneAt: number;
  /** The changes whose judgement may still move. */
  changes: Tracked[];
  /** Every change the ledger judged (made on the first): the transaction followed in arrival order leaves them alone. */
  judged: WeakSet<PrivilegeChange> | null;
  /** The disconnection was read: a transaction still open then was rolled back. */
  disconnected: boolean;
  /** The statement id of the last audit line read (arrival order): where an ERROR read next is placed. */
  lastId: number | null;
}

/**
 * Boundaries kept beyond those the kept changes need, and how many a change's transaction end must lie behind the
 * last one for its judgement to be kept for good: late bodies rarely lag more transactions behind.
 */
export const BOUNDS_KEPT = 16;
/** At most this many boundaries a session, whatever its changes need. */
const MAX_BOUNDS = 4096;
/** At most this many changes a session are judged again; older ones keep their last judgement. */
const MAX_CHANGES = 1024;

export function newTransactionLedger(): TransactionLedger {
  return { bounds: [], pruneAt: 2 * BOUNDS_KEPT, changes: [], judged: null, disconnected: false, lastId: null };
}

/** Learns a boundary (a repeat changes nothing); returns whether it was new. */
export function learnBoundary(l: TransactionLedger, id: number, kind: BoundaryKind, name = ''): boolean {
  const b = l.bounds;
  let i = b.length;
  // Mostly appended: lines of one body come in order.
  while (i > 0 && b[i - 1]!.id > id) i--;
  for (let j = i - 1; j >= 0 && b[j]!.id === id; j--) if (b[j]!.kind === kind) return false;
  const boundary: Boundary = { id, kind, name };
  if (i === b.length) b.push(boundary);
  else b.splice(i, 0, boundary);
  if (b.length > l.pruneAt) prune(l);
  return true;
}

/**
 * An audit entry's transaction control: learnt, and the session's changes judged again if it is new. Returns whether
 * a BEGIN, COMMIT or ROLLBACK was new (what a hub's next leader is handed moved).
 */
export function learnTransactionOp(l: TransactionLedger, session: MarkedSession, tx: TransactionOp, id: number, marks: IneffectiveMarks): boolean {
  if (!learnBoundary(l, id, tx.op, tx.op === 'savepoint' || tx.op === 'release' || tx.op === 'rollback-to' ? tx.name : '')) return false;
  rejudge(l, session, marks, id);
  return tx.op === 'begin' || tx.op === 'commit' || tx.op === 'rollback';
}

/** Judges the changes from now on by their statement id (their current judgement is corrected at once). */
export function trackChanges(l: TransactionLedger, session: MarkedSession, id: number, changes: readonly PrivilegeChange[], marks: IneffectiveMarks): void {
  if (changes.length === 0) return;
  const judged = (l.judged ??= new WeakSet());
  // A statement confirmed twice (an Entra call's READ and FUNCTION entries) is tracked once.
  const fresh = changes.filter((change) => !judged.has(change)).map((change): Tracked => ({ id, change, lo: -Infinity, hi: Infinity }));
  for (const t of fresh) {
    l.changes.push(t);
    judged.add(t.change);
  }
  if (l.changes.length > MAX_CHANGES) l.changes.splice(0, l.changes.length - MAX_CHANGES);
  settle(l, session, fresh, marks);
}

/** Changes judged for good elsewhere (a statement that failed): no boundary moves them any more. */
export function untrackChanges(l: TransactionLedger, changes: readonly PrivilegeChange[]): void {
  if (l.changes.length === 0 || changes.length === 0) return;
  const gone = new Set(changes);
  l.changes = l.changes.filter((t) => !gone.has(t.change));
}

/** Judges the session's changes again after it learnt a boundary (of id `at`; none: its disconnection, or many). */
export function rejudge(l: TransactionLedger, session: MarkedSession, marks: IneffectiveMarks, at?: number): void {
  if (l.changes.length === 0) return;
  if (at === undefined) return settle(l, session, l.changes, marks);
  // Most boundaries come after every change's transaction ended: nothing to judge, nothing built.
  let moved: Tracked[] | undefined;
  for (const t of l.changes) if (t.lo < at && at < t.hi) (moved ??= []).push(t);
  if (moved) settle(l, session, moved, marks);
}

/** Why the change of statement id `x` did not take effect, or null if it did (as far as the ledger knows). */
export function judge(l: TransactionLedger, x: number): UndoneReason | null {
  const b = l.bounds;
  let i = b.length - 1;
  while (i >= 0 && b[i]!.id >= x) i--;
  // The transaction x is in begins at the last BEGIN before it, if no COMMIT or ROLLBACK came between.
  let start = i;
  while (start >= 0 && b[start]!.kind !== 'begin') {
    if (b[start]!.kind === 'commit' || b[start]!.kind === 'rollback') return null;
    start--;
  }
  if (start < 0) return null;
  const points: Boundary[] = [];
  let aborted = false; // an ERROR since the last ROLLBACK TO
  let lost = false; // an ERROR with no savepoint: nothing of the transaction survives
  let undone = false; // x lies between a savepoint and a ROLLBACK TO it
  let passed = false; // the walk is past x
  for (let j = start + 1; j < b.length; j++) {
    const at = b[j]!;
    if (!passed && at.id > x) {
      passed = true;
      // An aborted transaction runs nothing: a change after its ERROR means it ended unseen before the change.
      if (aborted || lost) return null;
    }
    switch (at.kind) {
      case 'commit':
        return aborted || lost ? 'aborted' : undone ? 'rollback-to-savepoint' : null;
      case 'rollback':
        return aborted || lost ? 'aborted' : 'rollback';
      case 'begin':
        // In an aborted transaction a BEGIN fails (not logged): one logged means that transaction ended unseen.
        if (aborted || lost) return 'aborted';
        break;
      case 'savepoint':
        points.push(at);
        break;
      case 'release': {
        const k = lastNamed(points, at.name);
        if (k >= 0) points.length = k;
        break;
      }
      case 'rollback-to': {
        const k = lastNamed(points, at.name);
        if (k < 0) break;
        if (points[k]!.id < x && x < at.id) undone = true;
        points.length = k + 1;
        aborted = false;
        break;
      }
      case 'error':
        if (points.length === 0) lost = true;
        else aborted = true;
        break;
      default: {
        const never: never = at.kind;
        return never;
      }
    }
  }
  if (!passed && (aborted || lost)) return null;
  if (lost) return 'aborted';
  if (l.disconnected) return aborted ? 'aborted' : 'disconnected';
  return undone ? 'rollback-to-savepoint' : null;
}

/** The ids of the session's BEGINs and of its COMMITs and ROLLBACKs (true: rolled back), as kept. */
export function transactionBounds(l: TransactionLedger): { begins: number[]; ends: [id: number, rolledBack: boolean][] } {
  const begins: number[] = [];
  const ends: [number, boolean][] = [];
  for (const b of l.bounds) {
    if (b.kind === 'begin') begins.push(b.id);
    else if (b.kind === 'commit' || b.kind === 'rollback') ends.push([b.id, b.kind === 'rollback']);
  }
  return { begins, ends };
}

/**
 * The changes undone only because their transaction was open at the disconnection, its end not known: a COMMIT read
 * later takes them into effect. A hub's next leader is handed them (transaction-handover.ts) with the BEGINs, COMMITs
 * and ROLLBACKs only, so not those whose transaction holds a savepoint or an ERROR: their judgement rests on more.
 */
export function reopenable(l: TransactionLedger): { id: number; change: PrivilegeChange }[] {
  const handedAlone = (t: Tracked) => !l.bounds.some((b) => b.id > t.lo && b.kind !== 'begin' && b.kind !== 'commit' && b.kind !== 'rollback');
  return l.changes
    .filter((t) => !t.change.effective && t.hi === Infinity && judge(l, t.id) === 'disconnected' && handedAlone(t))
    .map((t) => ({ id: t.id, change: t.change }));
}

/** The last BEGIN if no end follows it: the transaction open as far as the ledger knows. */
export function openSince(l: TransactionLedger): number | null {
  for (let i = l.bounds.length - 1; i >= 0; i--) {
    const k = l.bounds[i]!.kind;
    if (k === 'begin') return l.bounds[i]!.id;
    if (k === 'commit' || k === 'rollback') return null;
  }
  return null;
}

/** Flips the changes whose judgement moved, one mark a reason (or one for those effective again). */
function settle(l: TransactionLedger, session: MarkedSession, tracked: readonly Tracked[], marks: IneffectiveMarks): void {
  if (tracked.length === 0) return;
  let undone: Map<UndoneReason, PrivilegeChange[]> | undefined;
  let redone: PrivilegeChange[] | undefined;
  for (const t of tracked) {
    const { change } = t;
    const reason = judge(l, t.id);
    window(l, t);
    if (reason !== null && change.effective) {
      undone ??= new Map();
      const list = undone.get(reason);
      if (list) list.push(change);
      else undone.set(reason, [change]);
    } else if (reason === null && !change.effective) (redone ??= []).push(change);
  }
  if (undone) for (const [reason, changes] of undone) marks.mark(session, changes, reason);
  if (redone) marks.restore(session, redone);
}

/** The ids of the transaction boundaries around the change: only a boundary learnt between them moves it. */
function window(l: TransactionLedger, t: Tracked): void {
  const b = l.bounds;
  t.lo = -Infinity;
  t.hi = Infinity;
  for (let i = b.length - 1; i >= 0; i--) {
    const k = b[i]!.kind;
    if (b[i]!.id > t.id) {
      if (k === 'commit' || k === 'rollback') t.hi = b[i]!.id;
    } else if (k === 'begin' || k === 'commit' || k === 'rollback') {
      t.lo = b[i]!.id;
      return;
    }
  }
}

/**
 * Drops the changes whose transaction ended BOUNDS_KEPT boundaries ago (their judgement stays), then the oldest
 * boundaries the kept changes do not need beyond the last BOUNDS_KEPT. A transaction the dropped ones leave open
 * keeps its BEGIN, so a change after it is still judged inside it.
 */
function prune(l: TransactionLedger): void {
  const b = l.bounds;
  let cut = b.length - BOUNDS_KEPT;
  if (l.changes.length > 0) {
    const settledBefore = b[cut]!.id;
    if (l.changes.some((t) => t.hi < settledBefore)) l.changes = l.changes.filter((t) => t.hi >= settledBefore);
    if (l.changes.length > 0) {
      let lo = Infinity;
      for (const t of l.changes) lo = Math.min(lo, t.lo);
      let need = 0;
      while (need < b.length && b[need]!.id < lo) need++;
      cut = Math.max(Math.min(cut, need), b.length - MAX_BOUNDS);
    }
  }
  if (cut > 0) {
    let open: Boundary | null = null;
    for (let i = 0; i < cut; i++) {
      const k = b[i]!.kind;
      if (k === 'begin') open = b[i]!;
      else if (k === 'commit' || k === 'rollback') open = null;
    }
    const floor = b[cut]!.id;
    l.bounds = open ? [open, ...b.slice(cut)] : b.slice(cut);
    // Past MAX_BOUNDS: changes whose boundaries went keep their last judgement.
    if (l.changes.some((t) => t.lo < floor && t.lo !== open?.id)) l.changes = l.changes.filter((t) => t.lo >= floor || t.lo === open?.id);
  }
  l.pruneAt = Math.max(2 * BOUNDS_KEPT, 2 * l.bounds.length);
}

function lastNamed(points: readonly Boundary[], name: string): number {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]!.name === name) return i;
  return -1;
}
