/**
 * The stored rows windowed rules count, read once a batch for every rule: each rule names the span of a table its
 * windows cover (`RuleDefinition.spans`), and one query reads the union of each table's spans (the tables'
 * SELECTs joined by UNION ALL). Each query costs DuckDB a plan and a parallel execution however few rows it reads
 * (a batch's windows hold a few hundred), so one read shared by every windowed rule costs a fraction of one each.
 * Only the columns the rules count by are read, and only over the spans: DuckDB skips the other row groups by
 * their min/max, so the read is about the batch's new rows and the windows around them.
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { boundRows } from '../store/bound-rows.js';
import { sqlString } from '../store/sql-literal.js';

/**
 * `logins` are the `sessions` rows of users, at their session's start: a login `failures-then-success` ends a window at.
 * `role_lives` are the `privilege_changes` rows that create or drop a role: `role-created-and-dropped` looks an hour
 * either side of each, and every privilege change of those hours would be dozens of times as many rows, read each batch.
 */
export type StoredTable = 'auth_failures' | 'privilege_changes' | 'role_lives' | 'logins';

/** The tables rows are handed over in: a span of `role_lives` takes those of the handed `privilege_changes` that pass `isRoleLife`. */
export type HeldTable = Exclude<StoredTable, 'role_lives'>;

/** A change that creates or drops a named role: a row of `role_lives` (the same test as its SELECT's). */
export const isRoleLife = (c: { action: string; roleName: string | null }): boolean =>
  (c.action === 'create-role' || c.action === 'drop-role') && c.roleName !== null;

/** Rows of `table` with `fromMicros < logged_at <= toMicros` (epoch microseconds). */
export interface StoredSpan<T extends StoredTable = StoredTable> {
  table: T;
  fromMicros: number;
  toMicros: number;
  /**
   * Only the rows of these keys (`KEYS`: a role's name in `role_lives`, an actor in `privilege_changes`, a user in
   * `logins`); every row when absent.
   */
  keys?: readonly string[];
}

/**
 * The tables a span may name keys of: the column, and a row's key as read. A rule that counts by key needs only the
 * rows of the keys its batch has: a busy server's other users and actors would be read each batch for nothing.
 */
const KEYS: Partial<Record<StoredTable, { column: string; of: (row: ForeignRow) => string | null }>> = {
  role_lives: { column: 'role_name', of: (row) => (row as StoredPrivilegeChange).roleName },
  privilege_changes: { column: 'actor', of: (row) => (row as StoredPrivilegeChange).actor },
  logins: { column: 'user_name', of: (row) => (row as StoredLogin).userName },
};

export interface StoredAuthFailure {
  server: string;
  atMicros: number;
  userName: string | null;
  clientAddr: string | null;
  sqlstate: string | null;
  /** Which record it is: the row's identity, whichever store holds it. */
  source?: string;
  position?: string;
}

export interface StoredPrivilegeChange {
  server: string;
  atMicros: number;
  actor: string | null;
  action: string;
  roleName: string | null;
  objectType: string | null;
  effective: boolean;
  /** Which change it is (what an alert links to be retracted with it); null in a handed-over row. */
  sessionId?: string | null;
  seq?: number | null;
}

export interface StoredLogin {
  server: string;
  atMicros: number;
  userName: string;
  sessionId: string;
  clientAddr: string | null;
  databaseName: string | null;
}

/** A row another store holds, as the handover brought it. */
export type ForeignRow = StoredAuthFailure | StoredPrivilegeChange | StoredLogin;

interface RowsOf {
  auth_failures: StoredAuthFailure;
  privilege_changes: StoredPrivilegeChange;
  role_lives: StoredPrivilegeChange;
  logins: StoredLogin;
}

/** The tables in the order of the number that tags their rows in the one read (a number costs less to read than a name). */
const TAGS: readonly StoredTable[] = ['auth_failures', 'privilege_changes', 'role_lives', 'logins'];

/** Each table's SELECT in the shape of the one read: its tag (`TAGS`), server, time, then its own columns as c1…c7. */
const SELECTS: Record<StoredTable, (from: string, to: string) => string> = {
  auth_failures: (from, to) =>
    `SELECT 0::UTINYINT AS t, server, epoch_us(logged_at) AS at, user_name AS c1, client_addr AS c2, sqlstate AS c3, source AS c4, position AS c5, NULL::BOOLEAN AS c6, NULL::BIGINT AS c7
     FROM auth_failures WHERE logged_at > ${from} AND logged_at <= ${to}`,
  privilege_changes: (from, to) =>
    `SELECT 1::UTINYINT, server, epoch_us(logged_at), actor, action, role_name, object_type, session_id, effective, seq
     FROM privilege_changes WHERE logged_at > ${from} AND logged_at <= ${to}`,
  role_lives: (from, to) =>
    `SELECT 2::UTINYINT, server, epoch_us(logged_at), actor, action, role_name, object_type, session_id, effective, seq
     FROM privilege_changes WHERE logged_at > ${from} AND logged_at <= ${to} AND action IN ('create-role', 'drop-role') AND role_name IS NOT NULL`,
  // Only the `connection authorized` line sets `ssl` (true or false): a session with it logged in.
  logins: (from, to) =>
    `SELECT 3::UTINYINT, server, epoch_us(started_at), user_name, session_id, client_addr, database_name, NULL, NULL, NULL
     FROM sessions WHERE started_at > ${from} AND started_at <= ${to} AND user_name IS NOT NULL AND ssl IS NOT NULL`,
};

export class StoredWindows {
  private constructor(
    private readonly tables: ReadonlyMap<StoredTable, readonly unknown[]>,
    private readonly spans: ReadonlyMap<StoredTable, StoredSpan>,
  ) {}

  /**
   * Reads, for each table some span names, the rows of all its spans, every table in one query, and adds the rows
   * of `foreign` in those spans: rows another store holds (a hub's last leader handed them over, docs/fleet.md).
   * A foreign row this store holds too (read again after a takeover) is its stored row: counted once.
   */
  static async read(connection: DuckDBConnection, spans: readonly (StoredSpan | null)[], foreign?: (table: HeldTable) => readonly ForeignRow[]): Promise<StoredWindows> {
    const union = unionOf(spans);
    const tables = await readSpans(connection, [...union.values()]);
    for (const span of union.values()) {
      const held = heldRows(span.table, foreign);
      if (held.length > 0) addHeld(tables.get(span.table)!, span, held);
    }
    return new StoredWindows(tables, union);
  }

  /** The rows of `table` read for this batch; asking for a span that was not read is a rule's bug. */
  rows<T extends StoredTable>(span: StoredSpan<T>): readonly RowsOf[T][] {
    const read = this.spans.get(span.table);
    const keysRead = read?.keys ? new Set(read.keys) : null;
    if (!read || span.fromMicros < read.fromMicros || span.toMicros > read.toMicros || (keysRead && (!span.keys || span.keys.some((k) => !keysRead.has(k))))) {
      throw new Error(`${span.table} was not read over the span a rule counts in: the rule must name it in spans()`);
    }
    return this.tables.get(span.table) as RowsOf[T][];
  }
}

/** Each table's spans as one: keyed spans read the union of their keys, and one span of every row reads every row. */
function unionOf(spans: readonly (StoredSpan | null)[]): Map<StoredTable, StoredSpan> {
  const union = new Map<StoredTable, StoredSpan>();
  for (const s of spans) {
    if (s === null) continue;
    const u = union.get(s.table);
    if (s.keys && !KEYS[s.table]) throw new Error(`a span of ${s.table} names keys, which that table has none of`);
    const keys = s.keys && (!u || u.keys) ? [...new Set([...(u?.keys ?? []), ...s.keys])] : undefined;
    union.set(s.table, { table: s.table, fromMicros: Math.min(u?.fromMicros ?? Infinity, s.fromMicros), toMicros: Math.max(u?.toMicros ?? -Infinity, s.toMicros), ...(keys ? { keys } : {}) });
  }
  return union;
}

/** Adds to a span's stored rows the held ones in it that the store does not hold too (a copy is counted once). */
function addHeld(rows: unknown[], span: StoredSpan, held: readonly ForeignRow[]): void {
  const copies = new Map<string, number>();
  for (const row of rows) {
    const k = identity(span.table, row as ForeignRow);
    if (k !== null) copies.set(k, (copies.get(k) ?? 0) + 1);
  }
  const keys = span.keys ? new Set(span.keys) : null;
  for (const row of held) {
    if (row.atMicros <= span.fromMicros || row.atMicros > span.toMicros) continue;
    if (keys && !keys.has(KEYS[span.table]!.of(row) ?? '')) continue;
    const k = identity(span.table, row);
    const n = k === null ? 0 : (copies.get(k) ?? 0);
    if (n > 0) copies.set(k!, n - 1);
    else rows.push(row);
  }
}

function heldRows(table: StoredTable, foreign: ((table: HeldTable) => readonly ForeignRow[]) | undefined): readonly ForeignRow[] {
  if (!foreign) return [];
  if (table !== 'role_lives') return foreign(table);
  return foreign('privilege_changes').filter((row) => isRoleLife(row as StoredPrivilegeChange));
}

/**
 * What makes a row the same row in two stores: a failure's record (source, position); a login's session; a
 * change's session, time and what it changed (its record is not stored with it, and its `seq` is the order one
 * analyzer saw it in). Null: a change handed over without its session (a leader of the version before) is no copy.
 */
export function identity(table: StoredTable, row: ForeignRow): string | null {
  if (table === 'auth_failures') {
    const r = row as StoredAuthFailure;
    return r.source === undefined || r.position === undefined ? null : `${r.source}\u0000${r.position}`;
  }
  if (table === 'logins') return `${row.server}\u0000${(row as StoredLogin).sessionId}`;
  const c = row as StoredPrivilegeChange;
  if (c.sessionId === null || c.sessionId === undefined) return null;
  return [c.server, c.sessionId, c.atMicros, c.actor, c.action, c.roleName, c.objectType].join('\u0000');
}

async function readSpans(connection: DuckDBConnection, spans: readonly StoredSpan[]): Promise<Map<StoredTable, unknown[]>> {
  const tables = new Map<StoredTable, unknown[]>(spans.map((s) => [s.table, []]));
  if (spans.length === 0) return tables;
  // Spans are widened to whole milliseconds (windows end at rows of the store's precision, about milliseconds);
  // a rule counts only the rows of its own windows, so a few more rows read cost nothing but their reading.
  const bound = (micros: number, round: (x: number) => number) => `${sqlString(new Date(round(micros / 1000)).toISOString())}::TIMESTAMPTZ`;
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  const selects = spans.map((s) => {
    const select = SELECTS[s.table](bound(s.fromMicros, Math.floor), bound(s.toMicros, Math.ceil));
    if (!s.keys) return select;
    const name = `${s.table}_key`;
    const keys = boundRows({ [name]: 'VARCHAR' }, s.keys.map((key) => ({ [name]: key })));
    Object.assign(values, keys.values);
    Object.assign(types, keys.types);
    return `${select} AND ${KEYS[s.table]!.column} IN (SELECT "${name}" FROM ${keys.sql})`;
  });
  const sql = selects.join('\nUNION ALL\n');
  // Without keys there is nothing to bind, and an unbound statement is not prepared first.
  const keyed = Object.keys(values).length > 0;
  const reader = await connection.runAndReadAll(sql, keyed ? values : undefined, keyed ? types : undefined);
  addRows(tables, reader.getColumns(), reader.currentRowCount);
  return tables;
}

/** The rows of the read into their tables' lists: a loop of its own, the one part that runs for every row. */
function addRows(tables: Map<StoredTable, unknown[]>, columns: ReadColumns, n: number): void {
  const into = TAGS.map((table) => tables.get(table));
  for (let i = 0; i < n; i++) {
    const tag = columns[0]![i] as number;
    into[tag]!.push(tag === 0 ? authFailureAt(columns, i) : tag === 3 ? loginAt(columns, i) : privilegeChangeAt(columns, i));
  }
}

/**
 * A row of the read, one function a shape: each builds its objects alike, so the optimizing compiler meets one shape a
 * site and compiles it once, where one loop building three shapes was compiled again each time a batch brought the
 * next (issue 21's profile: seven compilations of the loop at 500,000 records).
 */
type ReadColumns = readonly (readonly DuckDBValue[])[];
const text = (columns: ReadColumns, c: number, i: number) => columns[c]![i] as string | null;
const micros = (columns: ReadColumns, i: number) => Number(columns[2]![i] as bigint);

function authFailureAt(columns: ReadColumns, i: number): StoredAuthFailure {
  return {
    server: text(columns, 1, i)!, atMicros: micros(columns, i), userName: text(columns, 3, i), clientAddr: text(columns, 4, i), sqlstate: text(columns, 5, i),
    source: text(columns, 6, i)!, position: text(columns, 7, i)!,
  };
}

function privilegeChangeAt(columns: ReadColumns, i: number): StoredPrivilegeChange {
  const seq = columns[9]![i] as bigint | null;
  return {
    server: text(columns, 1, i)!, atMicros: micros(columns, i), actor: text(columns, 3, i), action: text(columns, 4, i)!, roleName: text(columns, 5, i),
    objectType: text(columns, 6, i), sessionId: text(columns, 7, i), effective: columns[8]![i] as boolean, seq: seq === null ? null : Number(seq),
  };
}

function loginAt(columns: ReadColumns, i: number): StoredLogin {
  return {
    server: text(columns, 1, i)!, atMicros: micros(columns, i), userName: text(columns, 3, i)!, sessionId: text(columns, 4, i)!, clientAddr: text(columns, 5, i),
    databaseName: text(columns, 6, i),
  };
}
