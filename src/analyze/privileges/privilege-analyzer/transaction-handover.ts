/**
 * The transactions a hub's leader hands to the next one (docs/fleet.md). A session's lines are spread over the
 * hub's partitions, so across a takeover its BEGIN may be read by one leader and its COMMIT by the other. Handed
 * over, per session the analyzer follows: the statement ids of the BEGINs, COMMITs and ROLLBACKs its ledger keeps
 * (transaction-ledger.ts). The next leader learns them as if it had read them, so it judges the changes it reads
 * as one store reading every line would, by pgaudit's statement ids.
 *
 * Handed over too: the changes judged ineffective whose transaction's end is not known yet (`reopenable`: most
 * often left open at the disconnection, which a hub read out of order may bring before the COMMIT), of live sessions
 * and of those that disconnected, with the instance whose store holds each row. The next leader follows them in its
 * ledgers: a COMMIT it reads takes them into effect (`IneffectiveMarks.takenOver`), for its detection to judge them.
 * Those it took into effect it hands on as effective, while its ledger follows them: the leader whose store holds one,
 * leading again, takes its row into effect (a mark `elsewhere`: its rows and roles follow, its rules judge it no more).
 *
 * A row: [server, session id, open since, ends, begins, disconnected, changes]. An older leader's rows have no
 * begins (its `open since`, the BEGIN of the transaction open there, is one), nor the last two: it handed no
 * disconnected session and no change.
 */
import type { CommittedCheck, HandoverPart } from '../../../contracts/handover-part.js';
import type { PrivilegeAction, PrivilegeChange, StatementChange } from '../privilege-change.js';
import type { SessionTable } from './session-table.js';
import type { IneffectiveMarks, MarkedSession } from './ineffective-marks.js';
import { learnBoundary, openSince, rejudge, reopenable, trackChanges, transactionBounds, type TransactionLedger } from './transaction-ledger.js';

/** Sessions handed over at most. */
export const MAX_TRANSACTION_SESSIONS = 10_000;
/** Changes awaiting their transaction's end handed over at most: those of the sessions followed, then of the latest ended. */
export const MAX_HANDED_CHANGES = 10_000;

type Bounds = [server: string, sessionId: string, openSince: number | null, ends: [id: number, rolledBack: 0 | 1][], begins: number[]];
type Row = Bounds | [...Bounds, disconnected: 0 | 1, changes: HandedDoc[]];

/** A change as its row holds it (the statement text is redacted), its statement id, and which store holds it. */
interface HandedDoc extends StatementChange {
  statementId: number;
  holder: string;
  /** Taken into effect by the leader that handed it (or one before), which judged it. */
  effective: boolean;
  atMs: number;
  seq: number;
  actor: string | null;
  actingRole: string | null;
  statement: string;
}

/** `held`: the instance whose store holds each handed change followed here (this store's own are not in it). */
export function transactionHandover(sessions: SessionTable, moved: () => number, marks: IneffectiveMarks, held: WeakMap<PrivilegeChange, string>): HandoverPart {
  return {
    name: 'transactions',
    version: moved,
    handOver(self: string): Row[] {
      const rows: Row[] = [];
      let changes = 0;
      const handed = (ledger: TransactionLedger): HandedDoc[] => {
        const out: HandedDoc[] = [];
        const takenHere = ledger.changes.filter((t) => t.change.effective && held.has(t.change));
        for (const { id, change } of [...reopenable(ledger), ...takenHere]) {
          if (changes >= MAX_HANDED_CHANGES) break;
          out.push(toDoc(id, change, held.get(change) ?? self));
          changes++;
        }
        return out;
      };
      const row = (server: string, sessionId: string, ledger: TransactionLedger, docs: HandedDoc[]): Row => {
        const { begins, ends } = transactionBounds(ledger);
        const bounds: Bounds = [server, sessionId, openSince(ledger), ends.map(([id, rolledBack]): [number, 0 | 1] => [id, rolledBack ? 1 : 0]), begins];
        return docs.length === 0 ? bounds : [...bounds, ledger.disconnected ? 1 : 0, docs];
      };
      for (const [server, sessionId, s] of sessions.all()) {
        if (rows.length >= MAX_TRANSACTION_SESSIONS) break;
        const docs = handed(s.ledger);
        if (docs.length > 0 || s.ledger.bounds.some((b) => b.kind === 'begin' || b.kind === 'commit' || b.kind === 'rollback')) rows.push(row(server, sessionId, s.ledger, docs));
      }
      for (const [server, sessionId, ledger] of sessions.ended()) {
        if (changes >= MAX_HANDED_CHANGES) break;
        const docs = handed(ledger);
        if (docs.length > 0) rows.push(row(server, sessionId, ledger, docs));
      }
      return rows;
    },
    adopt(doc: unknown, self: string, _committed: CommittedCheck): number {
      if (!Array.isArray(doc)) throw new Error('the transaction handover is not a list');
      let taken = 0;
      for (const raw of doc as unknown[]) {
        const [server, sessionId, open, ends, begins, disconnected, docs] = Array.isArray(raw) ? (raw as unknown[]) : [];
        if (
          typeof server !== 'string' || typeof sessionId !== 'string' || !(open === null || Number.isSafeInteger(open)) || !Array.isArray(ends)
          || !(begins === undefined || (Array.isArray(begins) && begins.every((id) => Number.isSafeInteger(id))))
          || !(disconnected === undefined || disconnected === 0 || disconnected === 1) || !(docs === undefined || Array.isArray(docs))
        ) {
          throw new Error('the transaction handover has a session of another shape');
        }
        for (const e of ends as unknown[]) {
          if (!Array.isArray(e) || !Number.isSafeInteger(e[0])) throw new Error('the transaction handover has an end of another shape');
        }
        const session = { server, sessionId: sessionId === '' ? null : sessionId };
        const handed = ((docs as unknown[] | undefined) ?? []).map((d) => fromDoc(d, server, session.sessionId));
        const ledger = disconnected === 1 ? sessions.endedLedger(server, session.sessionId) : sessions.stateOf(server, session.sessionId).ledger;
        if (disconnected === 1) ledger.disconnected = true;
        for (const id of [...((begins as number[] | undefined) ?? []), ...(open === null ? [] : [open as number])]) learnBoundary(ledger, id, 'begin');
        for (const [id, rolledBack] of ends as [number, unknown][]) learnBoundary(ledger, id, rolledBack === 1 ? 'rollback' : 'commit');
        for (const h of handed) follow(ledger, session, h, self);
        rejudge(ledger, session, marks);
        taken++;
      }
      return taken;
    },
  };

  /**
   * A handed change into the session's ledger: another store's is followed (once); this store's own, still awaiting
   * its end, too (a new process does not follow it yet); this store's own taken into effect by a leader since, which
   * judged it, is marked effective here as judged elsewhere: its row and roles follow.
   */
  function follow(ledger: TransactionLedger, session: MarkedSession, handed: Handed, self: string): void {
    const { statementId, holder, change } = handed;
    const same = (c: PrivilegeChange) => c.seq === change.seq && c.loggedAt.getTime() === change.loggedAt.getTime() && (held.get(c) ?? self) === holder;
    const followed = ledger.changes.find((t) => same(t.change))?.change;
    if (holder !== self) {
      if (followed) return;
      held.set(change, holder);
      trackChanges(ledger, session, statementId, [change], marks);
    } else if (change.effective) {
      const own = followed ?? { ...change, effective: false };
      marks.restore(session, [own], true);
      if (!followed) trackChanges(ledger, session, statementId, [own], marks);
    } else if (!followed) trackChanges(ledger, session, statementId, [change], marks);
  }
}

function toDoc(statementId: number, c: PrivilegeChange, holder: string): HandedDoc {
  return {
    statementId, holder, effective: c.effective, atMs: c.loggedAt.getTime(), seq: c.seq, actor: c.actor, actingRole: c.actingRole, action: c.action, roleName: c.roleName,
    attribute: c.attribute, value: c.value, grantedRole: c.grantedRole, privileges: c.privileges, objectType: c.objectType, objectName: c.objectName,
    grantee: c.grantee, withOption: c.withOption, grantor: c.grantor, statement: c.statement, truncated: c.truncated, uncertain: c.uncertain,
    passwordStrength: c.passwordStrength,
  };
}

interface Handed {
  statementId: number;
  holder: string;
  change: PrivilegeChange;
}

/** The change of a handed row, effective or not as it was handed; throws on one of another shape. */
function fromDoc(raw: unknown, server: string, sessionId: string | null): Handed {
  const d = raw as Partial<HandedDoc> | null;
  const text = (v: unknown): v is string | null => v === null || typeof v === 'string';
  const texts = (v: unknown): v is string[] | null => v === null || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  if (
    !d || typeof d !== 'object' || !Number.isSafeInteger(d.statementId) || typeof d.holder !== 'string' || typeof d.effective !== 'boolean' || !Number.isFinite(d.atMs) || !Number.isSafeInteger(d.seq)
    || typeof d.action !== 'string' || typeof d.statement !== 'string' || typeof d.truncated !== 'boolean' || !(d.withOption === null || typeof d.withOption === 'boolean')
    || ![d.actor, d.actingRole, d.roleName, d.attribute, d.value, d.grantedRole, d.objectType, d.objectName, d.grantee, d.grantor].every(text)
    || !texts(d.privileges) || !texts(d.uncertain) || !(d.passwordStrength === null || typeof d.passwordStrength === 'object')
  ) {
    throw new Error('the transaction handover has a change of another shape');
  }
  return {
    statementId: d.statementId!,
    holder: d.holder,
    // Every field named in the order change-rows.ts makes them: one object shape for every change.
    change: {
      action: d.action as PrivilegeAction, roleName: d.roleName!, attribute: d.attribute!, value: d.value!, grantedRole: d.grantedRole!, privileges: d.privileges!,
      objectType: d.objectType!, objectName: d.objectName!, grantee: d.grantee!, withOption: d.withOption!, grantor: d.grantor!, truncated: d.truncated,
      uncertain: d.uncertain!, passwordStrength: d.passwordStrength!, server, loggedAt: new Date(d.atMs!), sessionId, actor: d.actor!,
      actingRole: d.actingRole!, statement: d.statement, effective: d.effective!, seq: d.seq!,
    },
  };
}
