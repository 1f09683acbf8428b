/**
 * The transactions a hub's leader hands to the next one (docs/fleet.md). A session's lines are spread over the
 * hub's partitions, so across a takeover its BEGIN may be read by one leader and its COMMIT by the other. Handed
 * over, per session the analyzer follows: the statement ids of the BEGINs, COMMITs and ROLLBACKs its ledger keeps
 * (transaction-ledger.ts). The next leader learns them as if it had read them, so it judges the changes it reads
 * as one store reading every line would, by pgaudit's statement ids.
 *
 * A row: [server, session id, open since, ends, begins]. An older leader's rows have no begins: its `open since`
 * (the BEGIN of the transaction open there) is one.
 */
import type { CommittedCheck, HandoverPart } from '../../../contracts/handover-part.js';
import type { SessionTable } from './session-table.js';
import type { IneffectiveMarks } from './ineffective-marks.js';
import { learnBoundary, openSince, rejudge, transactionBounds } from './transaction-ledger.js';

/** Sessions handed over at most. */
export const MAX_TRANSACTION_SESSIONS = 10_000;

type Row = [server: string, sessionId: string, openSince: number | null, ends: [id: number, rolledBack: 0 | 1][], begins: number[]];

export function transactionHandover(sessions: SessionTable, moved: () => number, marks: IneffectiveMarks): HandoverPart {
  return {
    name: 'transactions',
    version: moved,
    handOver(): Row[] {
      const rows: Row[] = [];
      for (const [server, sessionId, s] of sessions.all()) {
        const { begins, ends } = transactionBounds(s.ledger);
        if (begins.length === 0 && ends.length === 0) continue;
        rows.push([server, sessionId, openSince(s.ledger), ends.map(([id, rolledBack]): [number, 0 | 1] => [id, rolledBack ? 1 : 0]), begins]);
        if (rows.length >= MAX_TRANSACTION_SESSIONS) break;
      }
      return rows;
    },
    adopt(doc: unknown, _self: string, _committed: CommittedCheck): number {
      if (!Array.isArray(doc)) throw new Error('the transaction handover is not a list');
      let taken = 0;
      for (const raw of doc as unknown[]) {
        const [server, sessionId, open, ends, begins] = Array.isArray(raw) ? (raw as unknown[]) : [];
        if (
          typeof server !== 'string' || typeof sessionId !== 'string' || !(open === null || Number.isSafeInteger(open)) || !Array.isArray(ends)
          || !(begins === undefined || (Array.isArray(begins) && begins.every((id) => Number.isSafeInteger(id))))
        ) {
          throw new Error('the transaction handover has a session of another shape');
        }
        for (const e of ends as unknown[]) {
          if (!Array.isArray(e) || !Number.isSafeInteger(e[0])) throw new Error('the transaction handover has an end of another shape');
        }
        const s = sessions.stateOf(server, sessionId === '' ? null : sessionId);
        for (const id of [...((begins as number[] | undefined) ?? []), ...(open === null ? [] : [open as number])]) learnBoundary(s.ledger, id, 'begin');
        for (const [id, rolledBack] of ends as [number, unknown][]) learnBoundary(s.ledger, id, rolledBack === 1 ? 'rollback' : 'commit');
        rejudge(s.ledger, { server, sessionId: sessionId === '' ? null : sessionId }, marks);
        taken++;
      }
      return taken;
    },
  };
}
