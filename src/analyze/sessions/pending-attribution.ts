/**
 * Sessions with stored rows still lacking their user (or client address): their connection lines come in a
 * later batch. Each batch asks which of them it may complete: those it adds, and those whose session it
 * upserts. Input contract: `candidates` and `completed` follow the commit order; after a batch that did not
 * commit, the rows it added may be missing, which costs a look that finds nothing, never a row missed.
 */
import { sessionKey } from '../../contracts/session-key.js';

export interface SessionRef {
  server: string;
  sessionId: string;
}

export class PendingAttribution {
  private readonly pending = new Map<string, SessionRef>();

  constructor(known: Iterable<SessionRef> = []) {
    for (const s of known) this.pending.set(sessionKey(s.server, s.sessionId), s);
  }

  /**
   * The sessions late attribution looks at for a batch: every session the batch stores unattributed rows
   * of (now pending), and every pending one whose session line the batch brings.
   */
  candidates(unattributed: ReadonlyMap<string, SessionRef>, sessionKeys: Iterable<string>): SessionRef[] {
    for (const [k, v] of unattributed) this.pending.set(k, v);
    const out = [...unattributed.values()];
    for (const k of sessionKeys) {
      const pending = this.pending.get(k);
      if (pending && !unattributed.has(k)) out.push(pending);
    }
    return out;
  }

  /** Whether rows of some session still wait for their user. */
  any(): boolean {
    return this.pending.size > 0;
  }

  /** Of these sessions, those with stored rows still waiting for their user. */
  pendingAmong(keys: Iterable<string>): string[] {
    return [...keys].filter((k) => this.pending.has(k));
  }

  /** Sessions whose user is now known: their rows are filled in, nothing is pending for them any more. */
  completed(sessions: Iterable<SessionRef>): void {
    for (const s of sessions) this.pending.delete(sessionKey(s.server, s.sessionId));
  }
}
