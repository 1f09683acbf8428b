/**
 * The transactions a hub's leader hands to the next one (docs/fleet.md). A session's lines are spread over the
 * hub's partitions, so across a takeover its BEGIN may be read by one leader and its COMMIT by the other: without
 * the other's lines, a change after that BEGIN looks like part of a transaction its disconnection rolls back.
 * Handed over, per session the analyzer follows: the statement id of the BEGIN of its open transaction, and the
 * statement ids of the last COMMITs and ROLLBACKs seen. The next leader opens the transaction it did not see
 * begin, and ends one it saw begin at an end the last leader saw (`settleForeignEnd`), judged by pgaudit's
 * statement ids (ascending within a session), not by the order the partitions happen to be read in.
 */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { CommittedCheck, HandoverPart } from '../../../contracts/handover-part.js';
import type { PrivilegeSession, TransactionEnd } from './privilege-session.js';
import type { SessionTable } from './session-table.js';
import type { IneffectiveMarks } from './ineffective-marks.js';
import { applyTransactionOp } from './session-transactions.js';

/** Ends kept a session: a session's transactions seldom interleave with a takeover by more. */
export const ENDS_KEPT = 4;
/** Sessions handed over at most. */
export const MAX_TRANSACTION_SESSIONS = 10_000;

const COMMIT = Object.freeze({ op: 'commit' as const });
const ROLLBACK = Object.freeze({ op: 'rollback' as const });

/** A transaction op of an audit entry with its statement id: what the handover will say of the session. */
export function noteTransactionOp(s: PrivilegeSession, op: string, statementId: number, wasInTx: boolean): boolean {
  if (op === 'begin') {
    if (!wasInTx && s.inTx) s.beginId = statementId;
    return !wasInTx;
  }
  if (op !== 'commit' && op !== 'rollback') return false;
  s.beginId = null;
  s.ends.push({ id: statementId, rolledBack: op === 'rollback' });
  if (s.ends.length > ENDS_KEPT) s.ends.shift();
  return true;
}

/**
 * Before a line of statement id `before` (Infinity: the disconnection): a transaction opened here whose end the
 * last leader saw ends there, committed or rolled back as it was.
 */
export function settleForeignEnd(entry: ParsedEntry, s: PrivilegeSession, before: number, marks: IneffectiveMarks): boolean {
  if (s.foreignEnds.length === 0 || !s.inTx || s.beginId === null) return false;
  const begin = s.beginId;
  const end = s.foreignEnds.find((e) => e.id > begin && e.id < before);
  if (!end) return false;
  s.foreignEnds = s.foreignEnds.filter((e) => e.id > end.id);
  applyTransactionOp(entry, s, end.rolledBack ? ROLLBACK : COMMIT, marks);
  s.beginId = null;
  return true;
}

type Row = [server: string, sessionId: string, openSince: number | null, ends: [id: number, rolledBack: 0 | 1][]];

export function transactionHandover(sessions: SessionTable, moved: () => number): HandoverPart {
  return {
    name: 'transactions',
    version: moved,
    handOver(): Row[] {
      const rows: Row[] = [];
      for (const [server, sessionId, s] of sessions.all()) {
        const openSince = s.inTx ? s.beginId : null;
        if (openSince === null && s.ends.length === 0 && s.foreignEnds.length === 0) continue;
        const ends = mergeEnds(s.ends, s.foreignEnds).map((e): [number, 0 | 1] => [e.id, e.rolledBack ? 1 : 0]);
        rows.push([server, sessionId, openSince, ends]);
        if (rows.length >= MAX_TRANSACTION_SESSIONS) break;
      }
      return rows;
    },
    adopt(doc: unknown, _self: string, _committed: CommittedCheck): number {
      if (!Array.isArray(doc)) throw new Error('the transaction handover is not a list');
      let taken = 0;
      for (const raw of doc as unknown[]) {
        const [server, sessionId, openSince, ends] = Array.isArray(raw) ? (raw as unknown[]) : [];
        if (typeof server !== 'string' || typeof sessionId !== 'string' || !(openSince === null || Number.isSafeInteger(openSince)) || !Array.isArray(ends)) {
          throw new Error('the transaction handover has a session of another shape');
        }
        const handed: TransactionEnd[] = ends.map((e: unknown) => {
          if (!Array.isArray(e) || !Number.isSafeInteger(e[0])) throw new Error('the transaction handover has an end of another shape');
          return { id: e[0] as number, rolledBack: e[1] === 1 };
        });
        adoptSession(sessions.stateOf(server, sessionId === '' ? null : sessionId), openSince as number | null, handed);
        taken++;
      }
      return taken;
    },
  };
}

/**
 * The last leader's view of one session: ends this instance did not see become foreign ends; a transaction open
 * there is open here too, unless this instance saw it end (or a later one begin).
 */
function adoptSession(s: PrivilegeSession, openSince: number | null, handed: readonly TransactionEnd[]): void {
  const known = new Set([...s.ends, ...s.foreignEnds].map((e) => e.id));
  s.foreignEnds = [...s.foreignEnds, ...handed.filter((e) => !known.has(e.id))].sort((a, b) => a.id - b.id).slice(-ENDS_KEPT);
  if (openSince === null || s.inTx) return;
  const endedHere = s.ends.some((e) => e.id > openSince);
  if (endedHere) return;
  s.inTx = true;
  s.beginId = openSince;
  s.roleAtBegin = s.role;
}

function mergeEnds(own: readonly TransactionEnd[], foreign: readonly TransactionEnd[]): TransactionEnd[] {
  const byId = new Map<number, TransactionEnd>();
  for (const e of [...foreign, ...own]) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => a.id - b.id).slice(-ENDS_KEPT);
}
