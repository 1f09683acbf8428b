/** The sessions the analyzer follows, by server then session id ('' for none): two lookups, no key string built per line. */
import { newPrivilegeSession, type PrivilegeSession } from './privilege-session.js';

export interface SessionTable {
  /** The session's state if it was ever seen. */
  peek(server: string, sessionId: string | null): PrivilegeSession | undefined;
  /** The session's state, created on first sight. */
  stateOf(server: string, sessionId: string | null): PrivilegeSession;
  forget(server: string, sessionId: string | null): void;
  /** Every session followed, with its server and id ('' for none). */
  all(): IterableIterator<[server: string, sessionId: string, state: PrivilegeSession]>;
}

export function createSessionTable(): SessionTable {
  const sessions = new Map<string, Map<string, PrivilegeSession>>();
  // The last session asked for: a session's lines mostly come in runs, and this runs for every audit line.
  let last: { server: string; sessionId: string | null; state: PrivilegeSession } | null = null;

  const peek = (server: string, sessionId: string | null): PrivilegeSession | undefined => {
    if (last !== null && last.sessionId === sessionId && last.server === server) return last.state;
    return sessions.get(server)?.get(sessionId ?? '');
  };

  return {
    peek,
    stateOf(server, sessionId) {
      let s = peek(server, sessionId);
      if (!s) {
        s = newPrivilegeSession();
        let byId = sessions.get(server);
        if (!byId) sessions.set(server, (byId = new Map()));
        byId.set(sessionId ?? '', s);
      }
      if (last?.state !== s) last = { server, sessionId, state: s };
      return s;
    },
    *all() {
      for (const [server, byId] of sessions) for (const [sessionId, state] of byId) yield [server, sessionId, state];
    },
    forget(server, sessionId) {
      const s = peek(server, sessionId);
      sessions.get(server)?.delete(sessionId ?? '');
      if (last?.state === s) last = null;
    },
  };
}
