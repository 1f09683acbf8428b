/**
 * The stored rows windowed rules count, read once a batch per table for every rule: each rule names the span of a
 * table its windows cover (`RuleDefinition.spans`), and one query a table reads the union of those spans. Each
 * query costs DuckDB a plan and a parallel execution however few rows it reads (a batch's windows hold a few
 * hundred), so one read shared by brute force, spray and failures-then-success costs a third of three.
 * Only the columns the rules count by are read, and only between the earliest start and the latest end of the
 * windows: DuckDB skips the other row groups by their min/max, so the read is about the batch's new rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../store/sql-literal.js';

export type StoredTable = 'auth_failures' | 'privilege_changes';

/** Rows of `table` with `fromMicros < logged_at <= toMicros` (epoch microseconds). */
export interface StoredSpan<T extends StoredTable = StoredTable> {
  table: T;
  fromMicros: number;
  toMicros: number;
}

export interface StoredAuthFailure {
  server: string;
  atMicros: number;
  userName: string | null;
  clientAddr: string | null;
  sqlstate: string | null;
}

export interface StoredPrivilegeChange {
  server: string;
  atMicros: number;
  actor: string | null;
  action: string;
  roleName: string | null;
  objectType: string | null;
  effective: boolean;
}

type TimedStoredRow = StoredAuthFailure | StoredPrivilegeChange;

interface RowsOf {
  auth_failures: StoredAuthFailure;
  privilege_changes: StoredPrivilegeChange;
}

const COLUMNS: Record<StoredTable, string> = {
  auth_failures: 'server, epoch_us(logged_at) AS at, user_name, client_addr, sqlstate',
  privilege_changes: 'server, epoch_us(logged_at) AS at, actor, action, role_name, object_type, effective',
};

export class StoredWindows {
  private constructor(
    private readonly tables: ReadonlyMap<StoredTable, readonly unknown[]>,
    private readonly spans: ReadonlyMap<StoredTable, StoredSpan>,
  ) {}

  /**
   * Reads, for each table some span names, the rows of all its spans in one query, and adds the rows of `foreign`
   * in those spans: rows another store holds (a hub's last leader handed them over, docs/fleet.md).
   */
  static async read(connection: DuckDBConnection, spans: readonly (StoredSpan | null)[], foreign?: (table: StoredTable) => readonly TimedStoredRow[]): Promise<StoredWindows> {
    const union = new Map<StoredTable, StoredSpan>();
    for (const s of spans) {
      if (s === null) continue;
      const u = union.get(s.table);
      union.set(s.table, u ? { table: s.table, fromMicros: Math.min(u.fromMicros, s.fromMicros), toMicros: Math.max(u.toMicros, s.toMicros) } : s);
    }
    const tables = new Map<StoredTable, readonly unknown[]>();
    for (const span of union.values()) {
      const rows = await readSpan(connection, span);
      for (const row of foreign?.(span.table) ?? []) if (row.atMicros > span.fromMicros && row.atMicros <= span.toMicros) rows.push(row);
      tables.set(span.table, rows);
    }
    return new StoredWindows(tables, union);
  }

  /** The rows of `table` read for this batch; asking for a span that was not read is a rule's bug. */
  rows<T extends StoredTable>(span: StoredSpan<T>): readonly RowsOf[T][] {
    const read = this.spans.get(span.table);
    if (!read || span.fromMicros < read.fromMicros || span.toMicros > read.toMicros) {
      throw new Error(`${span.table} was not read over the span a rule counts in: the rule must name it in spans()`);
    }
    return this.tables.get(span.table) as RowsOf[T][];
  }
}

async function readSpan(connection: DuckDBConnection, span: StoredSpan): Promise<unknown[]> {
  const from = sqlString(new Date(Math.floor(span.fromMicros / 1000)).toISOString());
  const to = sqlString(new Date(Math.ceil(span.toMicros / 1000)).toISOString());
  // The bounds are whole milliseconds (every window's are), so these literals are the span itself.
  const reader = await connection.runAndReadAll(
    `SELECT ${COLUMNS[span.table]} FROM ${span.table} WHERE logged_at > ${from}::TIMESTAMPTZ AND logged_at <= ${to}::TIMESTAMPTZ`,
  );
  const columns = reader.getColumns();
  const n = reader.currentRowCount;
  const out: unknown[] = new Array(n);
  const text = (c: number, i: number) => (columns[c]![i] as string | null) ?? null;
  const micros = (i: number) => Number(columns[1]![i] as bigint);
  for (let i = 0; i < n; i++) {
    out[i] =
      span.table === 'auth_failures'
        ? { server: text(0, i)!, atMicros: micros(i), userName: text(2, i), clientAddr: text(3, i), sqlstate: text(4, i) }
        : {
            server: text(0, i)!, atMicros: micros(i), actor: text(2, i), action: text(3, i)!, roleName: text(4, i), objectType: text(5, i),
            effective: columns[6]![i] as boolean,
          };
  }
  return out;
}
