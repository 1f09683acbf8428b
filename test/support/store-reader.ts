import { pino } from 'pino';
import { runQuery } from '../../src/query/run-query.js';
import type { PlainValue } from '../../src/query/row-values.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';

export type Row = Record<string, PlainValue>;

/** Opens a store read-only for one query, as `auditduck query` does. */
export async function queryStore(dbPath: string, sql: string): Promise<Row[]> {
  const db = await openDatabase(dbPath, { readOnly: true });
  try {
    return (await runQuery(db.connection, sql)).rows;
  } finally {
    await closeDatabase(db);
  }
}

/** Every row of every table, as JSON text: what a search for a leaked secret must look through. */
export async function dumpStore(dbPath: string): Promise<string> {
  const db = await openDatabase(dbPath, { readOnly: true });
  try {
    const tables = await runQuery(db.connection, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'`);
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await runQuery(db.connection, `SELECT * FROM "${String(table_name)}"`);
      parts.push(JSON.stringify({ table: table_name, rows: rows.rows }));
    }
    return parts.join('\n');
  } finally {
    await closeDatabase(db);
  }
}

/** A logger that writes nowhere, for library calls in tests. */
export const silentLogger = pino({ level: 'silent' });
