import type { DuckDBConnection } from '@duckdb/node-api';
import { toPlain, type PlainValue } from './row-values.js';
import type { Rows } from './format-rows.js';

/** Runs SQL and returns plain rows. The read-only guarantee comes from how the connection was opened. */
export async function runQuery(connection: DuckDBConnection, sql: string, params: Record<string, string> = {}): Promise<Rows> {
  const reader = Object.keys(params).length === 0 ? await connection.runAndReadAll(sql) : await connection.runAndReadAll(sql, params);
  const columns = reader.columnNames();
  const rows = reader.getRowObjects().map((row) => {
    const out: Record<string, PlainValue> = {};
    for (const c of columns) out[c] = toPlain(row[c] ?? null);
    return out;
  });
  return { columns, rows };
}
