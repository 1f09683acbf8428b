/**
 * A role's Entra mapping (or another attribute) just before a change, for the Entra rules, without reading
 * `privilege_changes` every batch: for every role, its latest effective CREATE or DROP and its latest effective
 * setting of each attribute asked for, read from the store once (the first batch after start, inside its
 * transaction), then kept in step with it by each batch's changes. A rollback that a later batch brings
 * (`WrittenBatch.ineffective`) and that undoes a kept row makes the role's rows read again; a change taken back into
 * effect, or a rolled-back batch, makes them all be read again (`forget`).
 *
 * The answer is what the query over `privilege_changes` gave: the value of the latest effective row of the role,
 * among its CREATE/DROP and settings of the attribute, before the change in (logged_at, seq) order; undefined when
 * that row is a CREATE or DROP or there is none, null when the attribute was set to NULL. A change earlier than a
 * kept row (it arrived out of order), or one whose answer ties with another row, is looked up in the store as before.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { runQueryOverRows } from '../query/run-query.js';
import { sqlString } from '../store/sql-literal.js';
import { boundRows } from '../store/bound-rows.js';
import { pairKey, splitPairKey } from '../contracts/session-key.js';
import type { WrittenBatch } from './written-batch.js';

/** A `privilege_changes` row as kept: where it is in (logged_at, seq) order and what it says. */
interface KeptRow {
  micros: number;
  seq: number;
  sessionId: string | null;
  /** null for a CREATE or DROP; the attribute's value otherwise. */
  value: string | null;
  lifecycle: boolean;
}

/** A role's latest CREATE or DROP, and latest setting of each attribute. */
interface RoleRows {
  lifecycle?: KeptRow;
  attributes: Map<string, KeptRow>;
}

/** What the kept rows cannot tell: the store is asked. */
const ASK = Symbol('ask the store');

export class RoleAttributes {
  private roles: Map<string, RoleRows> | null = null;
  /** Roles with two rows at the same (logged_at, seq): which one the store's query picks is its own. */
  private ties = new Set<string>();
  /** Roles a later rollback took a kept row from, this batch: answered by the store, then read again. */
  private unsure = new Set<string>();
  /** This batch's effective rows of the attributes kept, by role, in (logged_at, seq) order. */
  private batch = new Map<string, KeptRow[]>();

  constructor(private readonly attributes: readonly string[]) {}

  forget(): void {
    this.roles = null;
    this.ties.clear();
    this.unsure.clear();
    this.batch.clear();
  }

  /** Before the rules: read the rows the first time, take in the batch's rollbacks of earlier rows, hold its rows. */
  async begin(connection: DuckDBConnection, written: WrittenBatch): Promise<void> {
    // A change taken back into effect (its COMMIT arrived after the disconnection) is a row the kept ones never held:
    // read them all again, in this transaction, where the store's UPDATE has restored it. Rare.
    if (written.ineffective.some((m) => m.effective)) this.roles = null;
    if (this.roles === null) await this.read(connection, null);
    const marks = written.ineffective.filter((m) => !m.effective);
    const undone = (server: string, r: KeptRow | undefined) =>
      r !== undefined &&
      marks.some((m) => m.server === server && m.sessionId === r.sessionId && m.seqs.includes(r.seq) && r.micros >= m.from.getTime() * 1000 && r.micros <= m.until.getTime() * 1000);
    if (marks.length > 0) {
      for (const [key, rows] of this.roles!) {
        const [server] = splitPairKey(key);
        if (undone(server, rows.lifecycle) || [...rows.attributes.values()].some((r) => undone(server, r))) this.unsure.add(key);
      }
    }
    this.batch = new Map();
    for (const c of written.privilegeChanges) {
      const row = this.rowOf(c);
      // The store's UPDATE of the marks meets the batch's own rows too.
      if (row === null || undone(c.server, row)) continue;
      const key = roleKey(c.server, c.roleName!);
      let rows = this.batch.get(key);
      if (!rows) this.batch.set(key, (rows = []));
      rows.push(row);
    }
  }

  /**
   * The value `attribute` of each change's role had just before it, as `privilege_changes` says in the batch's
   * transaction. One query for the changes the kept rows cannot answer (usually none).
   */
  async before(connection: DuckDBConnection, changes: readonly PrivilegeChange[], attribute: string): Promise<(string | null | undefined)[]> {
    const answers = changes.map((c) => this.answer(c, attribute));
    const unknown = changes.flatMap((c, i) => (answers[i] === ASK ? [{ c, i }] : []));
    const rows = await runQueryOverRows(
      connection,
      { w_server: 'VARCHAR', w_role: 'VARCHAR', w_at: 'TIMESTAMPTZ', w_seq: 'BIGINT' },
      unknown.map(({ c }) => ({ w_server: c.server, w_role: c.roleName ?? '', w_at: c.loggedAt, w_seq: Number(c.seq) })),
      (list) => `SELECT w.i, r.action, r.value
         FROM ${list} w
         LEFT JOIN privilege_changes r ON r.server = w.w_server AND r.role_name = w.w_role AND r.effective
           AND (r.action IN ('create-role', 'drop-role') OR (r.action = 'set-attribute' AND r.attribute = ${sqlString(attribute)}))
           AND (r.logged_at < w.w_at OR (r.logged_at = w.w_at AND r.seq < w.w_seq))
         QUALIFY row_number() OVER (PARTITION BY w.i ORDER BY r.logged_at DESC, r.seq DESC) = 1
         ORDER BY w.i`,
    );
    unknown.forEach(({ i }, k) => {
      const row = rows[k]!;
      answers[i] = row.action !== 'set-attribute' ? undefined : row.value === null ? null : String(row.value);
    });
    return answers as (string | null | undefined)[];
  }

  /** After the rules: the batch's rows join the kept ones; roles a rollback touched are read again. */
  async end(connection: DuckDBConnection): Promise<void> {
    for (const [key, rows] of this.batch) {
      if (this.unsure.has(key)) continue;
      let kept = this.roles!.get(key);
      if (!kept) this.roles!.set(key, (kept = { attributes: new Map() }));
      for (const row of rows) this.keep(key, kept, row.lifecycle ? null : this.attributeOf(row), row);
    }
    this.batch = new Map();
    if (this.unsure.size > 0) await this.read(connection, [...this.unsure]);
  }

  private answer(c: PrivilegeChange, attribute: string): string | null | undefined | typeof ASK {
    if (c.roleName === null) return undefined;
    const key = roleKey(c.server, c.roleName);
    if (this.unsure.has(key) || this.ties.has(key)) return ASK;
    const at = c.loggedAt.getTime() * 1000;
    const earlier = (r: KeptRow) => r.micros < at || (r.micros === at && r.seq < c.seq);
    const kept = this.roles!.get(key);
    const candidates: KeptRow[] = [];
    for (const r of [kept?.lifecycle, kept?.attributes.get(attribute)]) {
      if (r === undefined) continue;
      // Older rows of the role are not kept: one of them may be the answer.
      if (!earlier(r)) return ASK;
      candidates.push(r);
    }
    for (const r of this.batch.get(key) ?? []) {
      if ((r.lifecycle || this.attributeOf(r) === attribute) && earlier(r)) candidates.push(r);
    }
    if (candidates.length === 0) return undefined;
    candidates.sort((a, b) => b.micros - a.micros || b.seq - a.seq);
    const [latest, next] = candidates;
    // Two rows at the same place in the order: the store's pick between them is its own.
    if (next !== undefined && next.micros === latest!.micros && next.seq === latest!.seq) return ASK;
    return latest!.lifecycle ? undefined : latest!.value;
  }

  /** Rows carry their attribute only while in `batch`: kept rows are filed under it. */
  private attributeOf(row: KeptRow): string {
    return (row as KeptRow & { attribute: string }).attribute;
  }

  private rowOf(c: PrivilegeChange): (KeptRow & { attribute?: string }) | null {
    if (!c.effective || c.roleName === null) return null;
    const lifecycle = c.action === 'create-role' || c.action === 'drop-role';
    if (!lifecycle && !(c.action === 'set-attribute' && c.attribute !== null && this.attributes.includes(c.attribute))) return null;
    return {
      micros: c.loggedAt.getTime() * 1000,
      seq: c.seq,
      sessionId: c.sessionId,
      value: lifecycle ? null : c.value,
      lifecycle,
      ...(lifecycle ? {} : { attribute: c.attribute! }),
    };
  }

  private keep(key: string, kept: RoleRows, attribute: string | null, row: KeptRow): void {
    const later = (a: KeptRow | undefined) => a === undefined || row.micros > a.micros || (row.micros === a.micros && row.seq >= a.seq);
    const current = attribute === null ? kept.lifecycle : kept.attributes.get(attribute);
    if (current !== undefined && current !== row && current.micros === row.micros && current.seq === row.seq && !sameRow(current, row)) this.ties.add(key);
    if (attribute === null) {
      if (later(kept.lifecycle)) kept.lifecycle = row;
    } else if (later(kept.attributes.get(attribute))) kept.attributes.set(attribute, row);
  }

  /** Reads every role's latest rows (`only` null) or these roles' from `privilege_changes`. */
  private async read(connection: DuckDBConnection, only: string[] | null): Promise<void> {
    if (only === null) this.roles = new Map();
    for (const key of only ?? []) this.roles!.delete(key);
    this.unsure.clear();
    const roles = only?.map((k) => {
      const [server, role] = splitPairKey(k);
      return { r_server: server, r_role: role };
    });
    const bound = roles === undefined ? null : boundRows({ r_server: 'VARCHAR', r_role: 'VARCHAR' }, roles);
    const rows = (
      await connection.runAndReadAll(
        `SELECT server, role_name, CASE WHEN action = 'set-attribute' THEN attribute END AS kind, epoch_us(logged_at), seq, session_id, value
         FROM privilege_changes
         WHERE effective AND role_name IS NOT NULL
           ${bound === null ? '' : `AND EXISTS (SELECT 1 FROM ${bound.sql} r WHERE r.r_server = server AND r.r_role = role_name)`}
           AND (action IN ('create-role', 'drop-role') OR (action = 'set-attribute' AND attribute IN (${this.attributes.map(sqlString).join(', ')})))
         QUALIFY rank() OVER (PARTITION BY server, role_name, kind ORDER BY logged_at DESC, seq DESC) = 1`,
        bound?.values,
        bound?.types,
      )
    ).getRows();
    for (const [server, role, kind, micros, seq, sessionId, value] of rows) {
      const key = roleKey(String(server), String(role));
      let kept = this.roles!.get(key);
      if (!kept) this.roles!.set(key, (kept = { attributes: new Map() }));
      const row: KeptRow = {
        micros: Number(micros),
        seq: Number(seq),
        sessionId: sessionId === null ? null : String(sessionId),
        value: kind === null || value === null ? null : String(value),
        lifecycle: kind === null,
      };
      this.keep(key, kept, kind === null ? null : String(kind), row);
    }
  }
}

/** The same row met twice (read from the store, then in the batch that wrote it). */
function sameRow(a: KeptRow, b: KeptRow): boolean {
  return a.sessionId === b.sessionId && a.value === b.value && a.lifecycle === b.lifecycle;
}

function roleKey(server: string, role: string): string {
  return pairKey(server, role);
}
