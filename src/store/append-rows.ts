import type { DuckDBConnection } from '@duckdb/node-api';
import type { AppendableRows } from './columnar-table.js';

/** Appends gathered rows to their table through one DuckDB appender (nothing when there are none). */
export async function appendRows(connection: DuckDBConnection, rows: AppendableRows): Promise<void> {
  if (rows.size === 0) return;
  const appender = await connection.createAppender(rows.table);
  try {
    rows.appendTo(appender);
  } finally {
    appender.closeSync();
  }
}
