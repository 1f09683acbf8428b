import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { toPlain, type PlainValue } from './row-values.js';
import type { Rows } from './format-rows.js';
import { boundRows, type BoundRow, type BoundType } from '../store/bound-rows.js';

/**
 * Runs SQL and returns plain rows. The read-only guarantee comes from how the connection was opened. `types` are
 * those of parameters DuckDB cannot infer from a JS value (lists: `boundRows`).
 */
export async function runQuery(connection: DuckDBConnection, sql: string, params: Record<string, DuckDBValue> = {}, types?: Record<string, DuckDBType>): Promise<Rows> {
  const reader = Object.keys(params).length === 0 ? await connection.runAndReadAll(sql) : await connection.runAndReadAll(sql, params, types);
  const columns = reader.columnNames();
  const rows = reader.getRowObjects().map((row) => {
    const out: Record<string, PlainValue> = {};
    for (const c of columns) out[c] = toPlain(row[c] ?? null);
    return out;
  });
  return { columns, rows };
}

/**
 * One query for many inputs instead of one an input (each await on DuckDB waits for the main thread, busy
 * preparing the next batch). `rows` are bound as lists (`boundRows`), with their index as column `i`; `sqlFor`
 * gets them as a subquery to join on, and must return one row per input ordered by `i`.
 */
export async function runQueryOverRows<C extends Record<string, BoundType>>(
  connection: DuckDBConnection,
  columns: C,
  rows: readonly BoundRow<C>[],
  sqlFor: (rowsList: string) => string,
): Promise<Rows['rows']> {
  if (rows.length === 0) return [];
  const bound = boundRows({ i: 'BIGINT', ...columns } as Record<string, BoundType>, rows.map((row, i) => ({ i, ...row })) as BoundRow<Record<string, BoundType>>[]);
  return (await runQuery(connection, sqlFor(bound.sql), bound.values, bound.types)).rows;
}
