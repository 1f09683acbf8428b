/**
 * The recent rows windowed rules count (`auth_failures`, `privilege_changes`), kept in memory so that a hub's
 * next leader counts what the last one stored (docs/fleet.md): this instance's own rows, as its store holds
 * them, and the rows it adopted from the last leader's handover, which its store does not hold. Only the
 * adopted ones are added to what the store is read for (`foreign`); both are handed over. Bounded: rows older
 * than the longest window before the newest row go, and at most `MAX_ROWS` a table are kept.
 */
import type { CommittedCheck } from '../contracts/handover-part.js';
import type { Attribution } from '../analyze/sessions/session-tracker.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { redactStoredText } from '../redact/index.js';
import type { StoredAuthFailure, StoredPrivilegeChange, StoredTable } from './stored-windows.js';

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
/** A change of this instance is its analyzer's object (its `effective` moves with a later ROLLBACK); an adopted one is a copy. */
type ChangeRow = { row: StoredPrivilegeChange | PrivilegeChange; origin: EvidenceOrigin };

/** The handed-over form: arrays in these orders. */
const AUTH_FIELDS = ['id', 'source', 'position', 'holder', 'server', 'atMicros', 'userName', 'clientAddr', 'sqlstate'] as const;
const CHANGE_FIELDS = ['id', 'source', 'position', 'holder', 'server', 'atMicros', 'actor', 'action', 'roleName', 'objectType', 'effective'] as const;

export interface EvidenceDoc {
  authFields: readonly string[];
  changeFields: readonly string[];
  auth: unknown[][];
  changes: unknown[][];
}

export class WindowEvidence {
  private readonly auth = new Map<string, AuthRow>();
  private readonly changes = new Map<string, ChangeRow>();
  private newestMicros = -Infinity;
  private moved = 0;

  constructor(
    /** The longest window a rule counts over: rows older than this before the newest go. */
    private readonly horizonMinutes: number,
  ) {}

  /** Moves whenever a row comes or goes. */
  version(): number {
    return this.moved;
  }

  /** A written batch's own rows: its auth failures (as `BatchRows.addAuthFailure` stores them) and its privilege changes. */
  recordBatch(batch: { entries: readonly ParsedEntry[]; attributions: readonly Attribution[]; privilegeChanges: readonly PrivilegeChange[]; source: string; position: string }): void {
    let added = 0;
    batch.entries.forEach((entry, i) => {
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
    batch.privilegeChanges.forEach((change, i) => {
      const id = `${batch.source}\u0000${batch.position}\u0000${i}`;
      this.changes.set(id, { row: change, origin: { id, source: batch.source, position: batch.position, holder: null } });
      this.newestMicros = Math.max(this.newestMicros, change.loggedAt.getTime() * 1000);
      added++;
    });
    if (added === 0) return;
    this.moved++;
    this.prune();
  }

  /** The adopted rows of `table` (held by another store), to count with the store's own. */
  foreign(table: StoredTable): (StoredAuthFailure | StoredPrivilegeChange)[] {
    if (table === 'auth_failures') return [...this.auth.values()].filter((r) => r.origin.holder !== null);
    return [...this.changes.values()].filter((r) => r.origin.holder !== null).map((r) => r.row as StoredPrivilegeChange);
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
        ...origin(o), r.server, 'atMicros' in r ? r.atMicros : r.loggedAt.getTime() * 1000, text(r.actor), r.action, text(r.roleName), r.objectType, r.effective,
      ]),
    };
  }

  /**
   * Takes the rows of the last leader's handover, but those of a batch that never committed (the new leader reads
   * it again); those `self` holds as its own (its store counts them already; handed on, a later leader counts
   * them too). Throws on a malformed document.
   */
  adopt(doc: EvidenceDoc, self: string, committed: CommittedCheck): number {
    if (JSON.stringify(doc.authFields) !== JSON.stringify(AUTH_FIELDS) || JSON.stringify(doc.changeFields) !== JSON.stringify(CHANGE_FIELDS)) {
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
    for (const raw of doc.changes) {
      const t = take(raw, CHANGE_FIELDS);
      if (!t || this.changes.has(t.origin.id)) continue;
      const v = t.values as Record<string, string | null> & { atMicros: number; effective: boolean };
      const row: StoredPrivilegeChange = {
        server: v.server!, atMicros: v.atMicros, actor: v.actor ?? null, action: String(v.action), roleName: v.roleName ?? null, objectType: v.objectType ?? null, effective: v.effective === true,
      };
      this.changes.set(t.origin.id, { row, origin: t.origin });
    }
    this.prune();
    this.moved++;
    return taken;
  }

  private prune(): void {
    const oldest = this.newestMicros - this.horizonMinutes * 60_000_000;
    const trim = <R>(rows: Map<string, R>, at: (r: R) => number): void => {
      for (const [id, r] of rows) if (at(r) <= oldest) rows.delete(id);
      // Oldest first out beyond the bound: a Map keeps insertion order, which is about time order here.
      for (const id of rows.keys()) {
        if (rows.size <= MAX_EVIDENCE_ROWS) break;
        rows.delete(id);
      }
    };
    const before = this.auth.size + this.changes.size;
    trim(this.auth, (r) => r.atMicros);
    trim(this.changes, ({ row }) => ('atMicros' in row ? row.atMicros : row.loggedAt.getTime() * 1000));
    if (this.auth.size + this.changes.size !== before) this.moved++;
  }
}
