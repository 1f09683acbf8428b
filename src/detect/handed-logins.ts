/**
 * The last login of each role, as a hub's leader hands it to the next one (docs/fleet.md): `dormant-role-login`
 * looks a login's previous one up in its store's `sessions`, which holds only the logins this store stored, so a
 * role whose last login the other store holds would look dormant. Kept: the latest login (session start) of each
 * (server, user) in this instance's batches (its store holds them) and, apart, in what it adopted from stores
 * that are not its own (what the rule looks up), each bounded to `MAX_LOGINS` roles (the most recent); no time
 * bound, since dormancy reaches back `dormantDays`.
 */
import type { CommittedCheck } from '../contracts/handover-part.js';
import type { SessionState } from '../analyze/sessions/session-tracker.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { sessionKey } from '../contracts/session-key.js';
import { redactStoredText } from '../redact/index.js';

export const MAX_LOGINS = 20_000;

interface LastLogin {
  server: string;
  user: string;
  atMs: number;
  sessionId: string;
  /** The batch that stored it: when it never committed, the login is not adopted (the new leader reads it again). */
  source: string;
  position: string;
  /** The instance whose store holds it (null: this one). */
  holder: string | null;
}

const FIELDS = ['server', 'user', 'atMs', 'sessionId', 'source', 'position', 'holder'] as const;

export interface LoginsDoc {
  fields: readonly string[];
  logins: unknown[][];
}

const keyOf = (server: string, user: string) => `${server}\u0000${user}`;

export class HandedLogins {
  private readonly own = new Map<string, LastLogin>();
  private readonly foreign = new Map<string, LastLogin>();
  private moved = 0;

  version(): number {
    return this.moved;
  }

  /** A written batch's logins (`connection authorized`), each at its session's start as `sessions` stores it. */
  recordBatch(batch: { entries: readonly ParsedEntry[]; sessions: readonly SessionState[]; source: string; position: string }): void {
    let states: Map<string, SessionState> | null = null;
    for (const entry of batch.entries) {
      if (entry.kind !== 'session' || entry.session.event !== 'authorized' || entry.record.sessionId === null) continue;
      states ??= new Map(batch.sessions.map((s) => [sessionKey(s.server, s.sessionId), s]));
      const state = states.get(sessionKey(entry.record.server, entry.record.sessionId));
      if (!state?.userName) continue;
      const atMs = (state.startedAt ?? entry.record.loggedAt).getTime();
      this.keep(this.own, { server: entry.record.server, user: state.userName, atMs, sessionId: entry.record.sessionId, source: batch.source, position: batch.position, holder: null });
    }
  }

  /** The latest login of `user` on `server` another store holds, before `atMs` and of another session, or null. */
  before(server: string, user: string, atMs: number, sessionId: string): Date | null {
    const l = this.foreign.get(keyOf(server, user));
    return l && l.atMs < atMs && l.sessionId !== sessionId ? new Date(l.atMs) : null;
  }

  handOver(self: string): LoginsDoc {
    const row = (l: LastLogin) => [l.server, redactStoredText(l.user), l.atMs, l.sessionId, l.source, l.position, l.holder ?? self];
    return { fields: FIELDS, logins: [...this.own.values(), ...this.foreign.values()].map(row) };
  }

  /** Takes the last leader's logins, but those of batches that never committed; those `self` holds as its own. */
  adopt(doc: LoginsDoc, self: string, committed: CommittedCheck): number {
    if (JSON.stringify(doc.fields) !== JSON.stringify(FIELDS)) throw new Error('the detection handover has logins of another shape');
    let taken = 0;
    for (const raw of doc.logins) {
      const [server, user, atMs, sessionId, source, position, holder] = Array.isArray(raw) ? raw : [];
      if (
        typeof server !== 'string' || typeof user !== 'string' || !Number.isFinite(atMs) || typeof sessionId !== 'string' || typeof source !== 'string' ||
        typeof position !== 'string' || typeof holder !== 'string'
      ) {
        throw new Error('the detection handover has a login of another shape');
      }
      if (!committed(source, position)) continue;
      const mine = holder === self;
      this.keep(mine ? this.own : this.foreign, { server, user, atMs: atMs as number, sessionId, source, position, holder: mine ? null : holder });
      taken++;
    }
    return taken;
  }

  private keep(into: Map<string, LastLogin>, login: LastLogin): void {
    const k = keyOf(login.server, login.user);
    const known = into.get(k);
    if (known && known.atMs >= login.atMs) return;
    // Re-inserted, so the Map's order is about recency: the oldest go first beyond the bound.
    into.delete(k);
    into.set(k, login);
    this.moved++;
    for (const key of into.keys()) {
      if (into.size <= MAX_LOGINS) break;
      into.delete(key);
    }
  }
}
