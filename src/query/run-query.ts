import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { toPlain, type PlainValue } from './row-values.js';
import type { Rows } from './format-rows.js';

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

/** Rows of VALUES per query: bounds the SQL text. */
const VALUES_PER_QUERY = 500;

/**
 * One query for many inputs instead of one an input (each await on DuckDB waits for the main thread, busy
 * preparing the next batch). `values` are the inputs as SQL row contents; `sqlFor` gets them as
 * `(VALUES (0, …), (1, …)) w(i, …)` to join on, and must return one row per input ordered by `w.i`.
 */
export async function runQueryOverValues(connection: DuckDBConnection, values: readonly string[], sqlFor: (valuesList: string) => string): Promise<Rows['rows']> {
  const out: Rows['rows'] = [];
  for (let from = 0; from < values.length; from += VALUES_PER_QUERY) {
    const list = values.slice(from, from + VALUES_PER_QUERY).map((v, i) => `(${i}, ${v})`).join(', ');
    out.push(...(await runQuery(connection, sqlFor(`(VALUES ${list})`))).rows);
  }
  return out;
}
