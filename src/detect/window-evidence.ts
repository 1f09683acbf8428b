/**
 * The recent rows windowed rules count (`auth_failures`, `privilege_changes`, and the logins `failures-then-success`
 * ends at), kept in memory so that a hub's next leader counts what the last one stored (docs/fleet.md): this
 * instance's own rows, as its store holds them, and the rows it adopted from the last leader's handover, which its
 * store does not hold. Only the adopted ones are added to what the store is read for (`foreign`); both are handed
 * over. Bounded: rows older than the longest window before the newest row go (logins: older than
 * failures-then-success's window), and at most `MAX_EVIDENCE_ROWS` a table are kept.
 */
import type { CommittedCheck } from '../contracts/handover-part.js';
import type { Attribution, SessionState } from '../analyze/sessions/session-tracker.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { redactStoredText } from '../redact/index.js';
import { sessionKey } from '../contracts/session-key.js';
import { identity, type ForeignRow, type HeldTable, type StoredAuthFailure, type StoredLogin, type StoredPrivilegeChange } from './stored-windows.js';

export const MAX_EVIDENCE_ROWS = 20_000;

/** Where a row came from: a record's (source, position), or a change's batch, and who stores it. */
export interface EvidenceOrigin {
  /** `source\0position[\0index]`: one row, whichever instance hands it on. */
  id: string;
  source: string;
  position: string;
  /** The instance whose store holds the row (null: this one). */
  holder: string | null;
}

type AuthRow = StoredAuthFailure & { origin: EvidenceOrigin };
type LoginRow = StoredLogin & { origin: EvidenceOrigin };
/** A change of this instance is its analyzer's object (its `effective` moves with a later ROLLBACK); an adopted one is a copy. */
type ChangeRow = { row: StoredPrivilegeChange | PrivilegeChange; origin: EvidenceOrigin };

/** The handed-over form: arrays in these orders. */
const AUTH_FIELDS = ['id', 'source', 'position', 'holder', 'server', 'atMicros', 'userName', 'clientAddr', 'sqlstate'] as const;
const CHANGE_FIELDS = ['id', 'source', 'position', 'holder', 'server', 'atMicros', 'actor', 'action', 'roleName', 'objectType', 'effective', 'sessionId'] as const;
/** The changes of a leader of the version before: without their session, they cannot be told from a copy read again. */
const CHANGE_FIELDS_WITHOUT_SESSION = CHANGE_FIELDS.slice(0, -1);
const LOGIN_FIELDS = ['id', 'source', 'position', 'holder', 'server', 'atMicros', 'userName', 'sessionId', 'clientAddr', 'databaseName'] as const;

export interface EvidenceDoc {
  authFields: readonly string[];
  changeFields: readonly string[];
  auth: unknown[][];
  changes: unknown[][];
  /** Absent from a leader of the version before. */
  loginFields?: readonly string[];
  logins?: unknown[][];
}

export class WindowEvidence {
  private readonly auth = new Map<string, AuthRow>();
  private readonly changes = new Map<string, ChangeRow>();
  /** Kept changes without an actor (stored before their session's login was read), by id: `fillActors` looks at these. */
  private readonly actorless = new Set<string>();
  /** The actors `fillActors` learnt for them, by id. */
  private readonly filledActors = new Map<string, string>();
  private readonly logins = new Map<string, LoginRow>();
  private newestMicros = -Infinity;
  private moved = 0;

  constructor(
    private readonly horizons: {
      /** The longest window a rule counts over: rows older than this before the newest go. */
      windowMinutes: number;
      /** How far back a login can end failures-then-success's window (0: the rule is off, no login is kept). */
      loginMinutes: number;
    },
  ) {}

  /** Moves whenever a row comes or goes. */
  version(): number {
    return this.moved;
  }

  /** A written batch's own rows: its auth failures (as `BatchRows.addAuthFailure` stores them), its logins and its privilege changes. */
  recordBatch(batch: {
    entries: readonly ParsedEntry[];
    attributions: readonly Attribution[];
    sessions: readonly SessionState[];
    privilegeChanges: readonly PrivilegeChange[];
    source: string;
    position: string;
  }): void {
    let added = 0;
    let states: Map<string, SessionState> | null = null;
    batch.entries.forEach((entry, i) => {
      if (entry.kind === 'session' && this.horizons.loginMinutes > 0) {
        // A login as `sessions` stores it, where failures-then-success reads it: at its session's start.
        if (entry.session.event !== 'authorized' || entry.record.sessionId === null) return;
        states ??= new Map(batch.sessions.map((s) => [sessionKey(s.server, s.sessionId), s]));
        const state = states.get(sessionKey(entry.record.server, entry.record.sessionId));
        if (!state?.userName) return;
        const { record } = entry;
        const id = `${record.source}\u0000${record.position}`;
        const at = (state.startedAt ?? record.loggedAt).getTime() * 1000;
        this.logins.set(id, {
          server: record.server, atMicros: at, userName: state.userName, sessionId: record.sessionId!, clientAddr: state.clientAddr, databaseName: state.databaseName,
          origin: { id, source: record.source, position: record.position, holder: null },
        });
        this.newestMicros = Math.max(this.newestMicros, at);
        added++;
        return;
      }
      if (entry.kind !== 'auth-failure') return;
      const { record, failure } = entry;
      const who = batch.attributions[i];
      const id = `${record.source}\u0000${record.position}`;
      const at = record.loggedAt.getTime() * 1000;
      this.auth.set(id, {
        server: record.server, atMicros: at, userName: failure.userName ?? who?.userName ?? null, clientAddr: failure.clientAddr ?? who?.clientAddr ?? null,
        sqlstate: failure.sqlstate, origin: { id, source: record.source, position: record.position, holder: null },
      });
      this.newestMicros = Math.max(this.newestMicros, at);
      added++;
    });
    // A change read again (its batch committed in the last leader's store, and this one read it too) is this
    // store's now: the adopted copy goes, one for each of the batch's changes like it.
    const copies = this.foreignChangesByIdentity();
    batch.privilegeChanges.forEach((change, i) => {
      const k = changeIdentity(change);
      const copy = k === null ? undefined : copies.get(k)?.pop();
      if (copy !== undefined) this.changes.delete(copy);
      const id = `${batch.source}\u0000${batch.position}\u0000${i}`;
      this.changes.set(id, { row: change, origin: { id, source: batch.source, position: batch.position, holder: null } });
      if (change.actor === null) this.actorless.add(id);
      this.newestMicros = Math.max(this.newestMicros, change.loggedAt.getTime() * 1000);
      added++;
    });
    if (added === 0) return;
    this.moved++;
    this.prune();
  }

  /**
   * Handed changes a COMMIT read here took into effect (their rows are in their holder's store): their adopted copies
   * count as effective from now on, here and in the handover to the next leader. A change whose copy is not kept
   * (older than the window before the newest row, or past the bound) is in no window here.
   */
  takeIntoEffect(changes: readonly { change: PrivilegeChange; holder: string }[]): void {
    for (const { change, holder } of changes) {
      const at = change.loggedAt.getTime() * 1000;
      for (const [id, kept] of this.changes) {
        const r = kept.row as StoredPrivilegeChange;
        if (kept.origin.holder !== holder || r.effective || !('atMicros' in r) || r.atMicros !== at || r.server !== change.server || r.sessionId !== change.sessionId
          || r.action !== change.action || r.roleName !== change.roleName || r.objectType !== change.objectType) continue;
        this.changes.set(id, { row: { ...r, effective: true }, origin: kept.origin });
        this.moved++;
        break;
      }
    }
  }

  /** The adopted rows of `table` (held by another store), to count with the store's own. */
  foreign(table: HeldTable): ForeignRow[] {
    if (table === 'auth_failures') return [...this.auth.values()].filter((r) => r.origin.holder !== null).map((r) => ({ ...r, source: r.origin.source, position: r.origin.position }));
    if (table === 'logins') return [...this.logins.values()].filter((r) => r.origin.holder !== null);
    return [...this.changes.values()].filter((r) => r.origin.holder !== null).map((r) => this.withActor(r.origin.id, r.row as StoredPrivilegeChange));
  }

  /**
   * Fills in the actor of kept changes stored without one whose session `sessions` names now, as the store's late
   * attribution fills its own rows, so the next leader gets them with their actor too. Returns the adopted ones
   * filled in: no window of this store counted them (their rows are in the other store, without an actor).
   */
  fillActors(sessions: readonly Pick<SessionState, 'server' | 'sessionId' | 'userName'>[]): StoredPrivilegeChange[] {
    if (this.actorless.size === 0) return [];
    const users = new Map<string, string>();
    for (const s of sessions) if (s.userName !== null) users.set(sessionKey(s.server, s.sessionId), s.userName);
    const filled: StoredPrivilegeChange[] = [];
    for (const id of this.actorless) {
      const kept = this.changes.get(id);
      const user = kept?.row.sessionId ? users.get(sessionKey(kept.row.server, kept.row.sessionId)) : undefined;
      if (kept === undefined || user === undefined) continue;
      this.actorless.delete(id);
      this.filledActors.set(id, user);
      this.moved++;
      if (kept.origin.holder !== null) filled.push({ ...(kept.row as StoredPrivilegeChange), actor: user });
    }
    return filled;
  }

  private withActor<R extends StoredPrivilegeChange | PrivilegeChange>(id: string, row: R): R {
    const actor = row.actor === null ? this.filledActors.get(id) : undefined;
    return actor === undefined ? row : { ...row, actor };
  }

  /** Every row kept, own ones held by `self`; text passes the store's redactor, as on its way into a row. */
  handOver(self: string): EvidenceDoc {
    const text = (v: string | null) => (v === null ? null : redactStoredText(v));
    const origin = (o: EvidenceOrigin) => [o.id, o.source, o.position, o.holder ?? self];
    return {
      authFields: AUTH_FIELDS,
      changeFields: CHANGE_FIELDS,
      auth: [...this.auth.values()].map((r) => [...origin(r.origin), r.server, r.atMicros, text(r.userName), text(r.clientAddr), r.sqlstate]),
      changes: [...this.changes.values()].map(({ row: r, origin: o }) => [
        ...origin(o), r.server, 'atMicros' in r ? r.atMicros : r.loggedAt.getTime() * 1000, text(r.actor ?? this.filledActors.get(o.id) ?? null), r.action, text(r.roleName), r.objectType, r.effective, r.sessionId ?? null,
      ]),
      loginFields: LOGIN_FIELDS,
      logins: [...this.logins.values()].map((r) => [...origin(r.origin), r.server, r.atMicros, text(r.userName), r.sessionId, text(r.clientAddr), text(r.databaseName)]),
    };
  }

  /**
   * Takes the rows of the last leader's handover, but those of a batch that never committed (the new leader reads
   * it again); those `self` holds as its own (its store counts them already; handed on, a later leader counts
   * them too). Throws on a malformed document.
   */
  adopt(doc: EvidenceDoc, self: string, committed: CommittedCheck): number {
    const same = (a: readonly string[] | undefined, b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b);
    const changeFields = same(doc.changeFields, CHANGE_FIELDS) ? CHANGE_FIELDS : same(doc.changeFields, CHANGE_FIELDS_WITHOUT_SESSION) ? CHANGE_FIELDS_WITHOUT_SESSION : null;
    if (!same(doc.authFields, AUTH_FIELDS) || changeFields === null || (doc.logins !== undefined && (!Array.isArray(doc.logins) || !same(doc.loginFields, LOGIN_FIELDS)))) {
      throw new Error('the detection handover has rows of another shape');
    }
    let taken = 0;
    const take = (raw: unknown[], fields: readonly string[]): { origin: EvidenceOrigin; values: Record<string, unknown> } | null => {
      if (!Array.isArray(raw) || raw.length !== fields.length) throw new Error('the detection handover has a row of another shape');
      const values: Record<string, unknown> = {};
      fields.forEach((f, i) => (values[f] = raw[i]));
      const { id, source, position, holder, server, atMicros } = values;
      if (typeof id !== 'string' || typeof source !== 'string' || typeof position !== 'string' || typeof holder !== 'string' || typeof server !== 'string' || !Number.isFinite(atMicros)) {
        throw new Error('the detection handover has a row without its origin');
      }
      if (!committed(source, position)) return null;
      this.newestMicros = Math.max(this.newestMicros, atMicros as number);
      taken++;
      // A row `self` holds is its own again: its store counts it, and the next handover carries it on.
      return { origin: { id, source, position, holder: holder === self ? null : holder }, values };
    };
    for (const raw of doc.auth) {
      const t = take(raw, AUTH_FIELDS);
      if (!t || this.auth.has(t.origin.id)) continue;
      const v = t.values as Record<string, string | null> & { atMicros: number };
      this.auth.set(t.origin.id, { server: v.server!, atMicros: v.atMicros, userName: v.userName ?? null, clientAddr: v.clientAddr ?? null, sqlstate: v.sqlstate ?? null, origin: t.origin });
    }
    // A change of another store's that this one holds as its own (it read it again) is a copy: one skipped for each own one.
    const own = new Map<string, number>();
    for (const { row, origin } of this.changes.values()) {
      const k = origin.holder === null ? changeIdentity(row) : null;
      if (k !== null) own.set(k, (own.get(k) ?? 0) + 1);
    }
    for (const raw of doc.changes) {
      const t = take(raw, changeFields);
      if (!t || this.changes.has(t.origin.id)) continue;
      const v = t.values as Record<string, string | null> & { atMicros: number; effective: boolean };
      const row: StoredPrivilegeChange = {
        server: v.server!, atMicros: v.atMicros, actor: v.actor ?? null, action: String(v.action), roleName: v.roleName ?? null, objectType: v.objectType ?? null, effective: v.effective === true,
        sessionId: typeof v.sessionId === 'string' ? v.sessionId : null,
      };
      const k = changeIdentity(row);
      if (t.origin.holder !== null && k !== null && (own.get(k) ?? 0) > 0) {
        own.set(k, own.get(k)! - 1);
        continue;
      }
      this.changes.set(t.origin.id, { row, origin: t.origin });
      if (row.actor === null) this.actorless.add(t.origin.id);
    }
    for (const raw of doc.logins ?? []) {
      const t = take(raw, LOGIN_FIELDS);
      if (!t || this.logins.has(t.origin.id)) continue;
      const v = t.values as Record<string, string | null> & { atMicros: number };
      if (typeof v.userName !== 'string' || typeof v.sessionId !== 'string') throw new Error('the detection handover has a login without its user or session');
      this.logins.set(t.origin.id, { server: v.server!, atMicros: v.atMicros, userName: v.userName, sessionId: v.sessionId, clientAddr: v.clientAddr ?? null, databaseName: v.databaseName ?? null, origin: t.origin });
    }
    this.prune();
    this.moved++;
    return taken;
  }

  /** The adopted changes' ids by identity (a change handed over without its session has none). */
  private foreignChangesByIdentity(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [id, { row, origin }] of this.changes) {
      const k = origin.holder === null ? null : changeIdentity(row);
      if (k === null) continue;
      const ids = out.get(k);
      if (ids) ids.push(id);
      else out.set(k, [id]);
    }
    return out;
  }

  private prune(): void {
    const oldestBy = (minutes: number) => this.newestMicros - minutes * 60_000_000;
    const trim = <R>(rows: Map<string, R>, at: (r: R) => number, oldest = oldestBy(this.horizons.windowMinutes)): void => {
      for (const [id, r] of rows) if (at(r) <= oldest) rows.delete(id);
      // Oldest first out beyond the bound: a Map keeps insertion order, which is about time order here.
      for (const id of rows.keys()) {
        if (rows.size <= MAX_EVIDENCE_ROWS) break;
        rows.delete(id);
      }
    };
    const size = () => this.auth.size + this.changes.size + this.logins.size;
    const before = size();
    trim(this.auth, (r) => r.atMicros);
    trim(this.changes, ({ row }) => ('atMicros' in row ? row.atMicros : row.loggedAt.getTime() * 1000));
    trim(this.logins, (r) => r.atMicros, oldestBy(this.horizons.loginMinutes));
    for (const id of this.actorless) if (!this.changes.has(id)) this.actorless.delete(id);
    for (const id of this.filledActors.keys()) if (!this.changes.has(id)) this.filledActors.delete(id);
    if (size() !== before) this.moved++;
  }
}

/** A change's identity as the store and the handover both know it (`identity`); null for a change without its session. */
function changeIdentity(row: StoredPrivilegeChange | PrivilegeChange): string | null {
  return identity('privilege_changes', 'atMicros' in row ? row : { ...row, atMicros: row.loggedAt.getTime() * 1000 });
}
