/**
 * The sessions the analyzer follows, by server then session id ('' for none): two lookups, no key string built per
 * line. A session forgotten at its disconnection leaves its transaction ledger behind for a while: lines read out of
 * order may bring its COMMIT, or a change, after the disconnection.
 */
import { newPrivilegeSession, type PrivilegeSession } from './privilege-session.js';
import { newTransactionLedger, type TransactionLedger } from './transaction-ledger.js';

/** Ledgers of disconnected sessions kept, the latest: a late body of a hub trails the others by seconds to minutes. */
export const ENDED_KEPT = 2000;

export interface SessionTable {
  /** The session's state if it was ever seen. */
  peek(server: string, sessionId: string | null): PrivilegeSession | undefined;
  /** The session's state, created on first sight (with its ledger, if it was forgotten at its disconnection lately). */
  stateOf(server: string, sessionId: string | null): PrivilegeSession;
  /** At the session's disconnection: its state goes, its ledger stays among the recently ended. */
  forget(server: string, sessionId: string | null): void;
  /** Every session followed, with its server and id ('' for none). */
  all(): IterableIterator<[server: string, sessionId: string, state: PrivilegeSession]>;
  /** The ledgers kept of disconnected sessions, the latest first, with their server and id ('' for none). */
  ended(): IterableIterator<[server: string, sessionId: string, ledger: TransactionLedger]>;
  /**
   * The ledger of a session another instance saw disconnect (a hub's last leader): the one followed here if the
   * session is, else the one kept among the recently ended, made there if none is.
   */
  endedLedger(server: string, sessionId: string | null): TransactionLedger;
}

export function createSessionTable(): SessionTable {
  const sessions = new Map<string, Map<string, PrivilegeSession>>();
  const ended = new Map<string, TransactionLedger>();
  // Sessions followed again for lines read after their disconnection, oldest first: forgotten again past ENDED_KEPT.
  const late = new Map<string, [server: string, sessionId: string | null]>();
  // The last session asked for: a session's lines mostly come in runs, and this runs for every audit line.
  let last: { server: string; sessionId: string | null; state: PrivilegeSession } | null = null;

  const peek = (server: string, sessionId: string | null): PrivilegeSession | undefined => {
    if (last !== null && last.sessionId === sessionId && last.server === server) return last.state;
    return sessions.get(server)?.get(sessionId ?? '');
  };
  const endedKey = (server: string, sessionId: string | null) => `${server}\u0000${sessionId ?? ''}`;

  return {
    peek,
    stateOf(server, sessionId) {
      let s = peek(server, sessionId);
      if (!s) {
        let ledger: TransactionLedger | undefined;
        if (ended.size > 0) {
          const key = endedKey(server, sessionId);
          ledger = ended.get(key);
          if (ledger) {
            ended.delete(key);
            late.set(key, [server, sessionId]);
          }
        }
        s = newPrivilegeSession(ledger);
        let byId = sessions.get(server);
        if (!byId) sessions.set(server, (byId = new Map()));
        byId.set(sessionId ?? '', s);
        if (late.size > ENDED_KEPT) {
          const [oldest, [lateServer, lateId]] = late.entries().next().value!;
          late.delete(oldest);
          forget(lateServer, lateId);
        }
      }
      if (last?.state !== s) last = { server, sessionId, state: s };
      return s;
    },
    *all() {
      for (const [server, byId] of sessions) for (const [sessionId, state] of byId) yield [server, sessionId, state];
    },
    *ended() {
      for (const [key, ledger] of [...ended].reverse()) {
        const cut = key.indexOf('\u0000');
        yield [key.slice(0, cut), key.slice(cut + 1), ledger];
      }
    },
    endedLedger(server, sessionId) {
      const live = peek(server, sessionId);
      if (live) return live.ledger;
      const key = endedKey(server, sessionId);
      let ledger = ended.get(key);
      if (!ledger) {
        ledger = newTransactionLedger();
        ended.set(key, ledger);
        if (ended.size > ENDED_KEPT) ended.delete(ended.keys().next().value!);
      }
      return ledger;
    },
    forget,
  };

  function forget(server: string, sessionId: string | null): void {
    const s = peek(server, sessionId);
    sessions.get(server)?.delete(sessionId ?? '');
    if (last?.state === s) last = null;
    if (!s) return;
    const key = endedKey(server, sessionId);
    late.delete(key);
    ended.delete(key);
    ended.set(key, s.ledger);
    if (ended.size > ENDED_KEPT) ended.delete(ended.keys().next().value!);
  }
}
