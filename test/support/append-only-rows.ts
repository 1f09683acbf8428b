/** Rows for the store's tables that only gain rows besides the events (live snapshots, posture findings, drift). */
import type { DuckDBConnection } from '@duckdb/node-api';

export const APPEND_ONLY_TABLES = ['snapshots', 'role_snapshots', 'membership_snapshots', 'role_setting_snapshots', 'setting_snapshots', 'posture_findings', 'drift', 'drift_windows'] as const;

/** Two rows in each append-only table, every value naming its round (`server` is `server-<round>-<i>`), on 2026-11-20. */
export async function addAppendOnlyRows(c: DuckDBConnection, round: number): Promise<void> {
  for (const table of APPEND_ONLY_TABLES) {
    const columns = (await c.runAndReadAll(`SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`)).getRows();
    const value = (column: string, type: string, i: number): string => {
      if (type === 'VARCHAR') return `'${column}-${round}-${i}'`;
      if (type === 'TIMESTAMP WITH TIME ZONE') return `TIMESTAMPTZ '2026-11-20 10:00:00+00' + INTERVAL ${round * 60 + i} MINUTE`;
      if (type === 'BOOLEAN') return 'true';
      if (type === 'INTEGER' || type === 'BIGINT') return String(i);
      if (type === 'VARCHAR[]') return '[]::VARCHAR[]';
      throw new Error(`no test value for ${table}.${column} (${type})`);
    };
    const rows = [0, 1].map((i) => `(${columns.map(([column, type]) => value(String(column), String(type), i)).join(', ')})`);
    await c.run(`INSERT INTO ${table} VALUES ${rows.join(', ')}`);
  }
}
