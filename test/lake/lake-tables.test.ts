/** Every committed row is in the lake: a table the store gains is in LAKE_TABLES, or named as bookkeeping. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LAKE_TABLE_NAMES, TABLES_NOT_IN_LAKE } from '../../src/lake/lake-tables.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';

describe('the lake tables', () => {
  it('cover every base table of a migrated store but the bookkeeping ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-tables-'));
    const db = await openDatabase(join(dir, 'store.duckdb'));
    try {
      const reader = await db.connection.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY table_name`);
      const tables = reader.getRows().map((r) => String(r[0]));
      const missing = tables.filter((t) => !(LAKE_TABLE_NAMES as string[]).includes(t) && !(TABLES_NOT_IN_LAKE as readonly string[]).includes(t));
      assert.deepEqual(missing, [], 'tables of the store that the lake would not hold');
      const gone = [...LAKE_TABLE_NAMES, ...TABLES_NOT_IN_LAKE].filter((t) => !tables.includes(t));
      assert.deepEqual(gone, [], 'names in lake-tables.ts that are not tables of the store');
    } finally {
      await closeDatabase(db);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
