/**
 * The lake read with the store's table names (`query --lake`, `serve --lake`): the tables that only gain rows
 * whole from what each segment added, the sessions and alerts as their latest versions, and a table an older auditduck
 * wrote whole at each change read from its latest copy until the lake has files of the table's own version.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { exportStoreToLake } from '../../src/lake/index.js';
import { openLakeDatabase } from '../../src/lake/lake-query-target.js';
import { createLakeViews } from '../../src/lake/lake-views.js';
import { summarize } from '../../src/lake/manifest-summary.js';
import type { LakeTableName } from '../../src/lake/lake-tables.js';
import { MANIFEST_FORMAT, sealEntry, type ManifestEntry, type ManifestFile } from '../../src/lake/manifest.js';
import { runQuery } from '../../src/query/run-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { addAppendOnlyRows, APPEND_ONLY_TABLES } from '../support/append-only-rows.js';
import { commitSessions, session } from '../support/session-states.js';
import { queryStore, silentLogger, type Row } from '../support/store-reader.js';

/**
 * A store exported to a directory lake after each round (`rounds`, each run on the store as it stands), then
 * `check` with a function giving a query's rows from the lake's views and from the store.
 */
async function afterExports(
  rounds: readonly ((store: AuditStore) => Promise<void>)[],
  check: (rows: (sql: string) => Promise<{ fromLake: Row[]; fromStore: Row[] }>) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-views-'));
  const db = join(dir, 'store.duckdb');
  const lakeDir = join(dir, 'lake');
  try {
    for (const round of rounds) {
      const store = await AuditStore.open(db);
      await round(store).finally(() => store.close());
      await exportStoreToLake(db, lakeDir, silentLogger);
    }
    const lake = await openLakeDatabase(lakeDir);
    try {
      await check(async (sql) => ({ fromLake: (await runQuery(lake.db.connection, sql)).rows, fromStore: await queryStore(db, sql) }));
    } finally {
      await lake.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("the lake's views", () => {
  it('show each append-only table as the store has it, from the rows each segment added', async () => {
    await afterExports([1, 2].map((round) => (store) => addAppendOnlyRows(store.connection, round)), async (rows) => {
      for (const table of APPEND_ONLY_TABLES) {
        const { fromLake, fromStore } = await rows(`SELECT * FROM ${table} ORDER BY ALL`);
        assert.equal(fromLake.length, 4, `${table}: both segments' rows`);
        assert.deepEqual(fromLake, fromStore, `${table} reads as in the store`);
      }
    });
  });

  it('show each session as the store has it, its latest version of those the segments wrote', async () => {
    const batches = [
      [session('a', { user: 'alice' }), session('b', { user: 'bob' })],
      [session('b', { endedAt: '2026-11-20T11:00:00Z' }), session('c', { user: 'carol' })],
      [session('a', { endedAt: '2026-11-20T12:00:00Z' })],
    ];
    await afterExports(batches.map((sessions, i) => (store) => commitSessions(store, i, sessions)), async (rows) => {
      const { fromLake, fromStore } = await rows('SELECT * FROM sessions ORDER BY session_id');
      assert.deepEqual(fromLake.map((r) => [r.session_id, r.user_name, r.ended_at !== null]), [['a', 'alice', true], ['b', 'bob', true], ['c', 'carol', false]]);
      assert.deepEqual(fromLake, fromStore);
    });
  });

  it('show each alert as the store has it, its version in the newest segment that holds it', async () => {
    const raise = (id: number) =>
      `INSERT INTO alerts (alert_id, rule_id, severity, server, first_seen, last_seen, summary, evidence, dedup_key) VALUES (${id}, 'r', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 10:00:00+00', TIMESTAMPTZ '2026-11-20 10:00:00+00', 'alert ${id}', '{"samples": []}', 'k${id}')`;
    const changes = [
      [raise(1), raise(2)],
      [`UPDATE alerts SET count = 5, evidence = '{"samples": [1]}', updated_at = now() WHERE alert_id = 1`, raise(3)],
      [`UPDATE alerts SET status = 'acknowledged', acknowledged_by = 'ann', updated_at = now() WHERE alert_id = 2`],
    ];
    const run = (statements: string[]) => async (store: AuditStore) => {
      for (const statement of statements) await store.connection.run(statement);
    };
    await afterExports(changes.map(run), async (rows) => {
      const { fromLake, fromStore } = await rows('SELECT * EXCLUDE (evidence), evidence::VARCHAR AS evidence FROM alerts ORDER BY alert_id');
      assert.deepEqual(fromLake.map((r) => [r.alert_id, r.count, r.status]), [[1, 5, 'open'], [2, 1, 'acknowledged'], [3, 1, 'open']]);
      assert.deepEqual(fromLake, fromStore);
    });
  });

  it('read a table an older version wrote whole from its latest copy, until the lake has files of its own version', async () => {
    await handMadeLake(async ({ write, read }) => {
      const columns: [string, string][] = [['snapshot_id', 'VARCHAR'], ['server', 'VARCHAR'], ['taken_at', 'TIMESTAMP WITH TIME ZONE'], ['name', 'VARCHAR'], ['setting', 'VARCHAR'], ['source', 'VARCHAR']];
      const select = (rows: number) => `SELECT 's' || i AS snapshot_id, 'pg-1' AS server, TIMESTAMPTZ '2026-11-20 10:00:00+00' AS taken_at, 'name' || i AS name, 'on' AS setting, 'default' AS source FROM range(${rows}) t(i)`;
      const entry = async (seq: number, path: string, rows: number, version: number): Promise<ManifestEntry> =>
        handMadeEntry(seq, [await write('setting_snapshots', path, select(rows))], { setting_snapshots: { version, columns } });
      // An older auditduck wrote the whole table at each change: the second copy is the table.
      const old = [await entry(1, 'setting_snapshots/snapshot=1/part-1.parquet', 2, 1), await entry(2, 'setting_snapshots/snapshot=2/part-2.parquet', 3, 1)];
      const count = 'SELECT count(*) FROM setting_snapshots';
      assert.deepEqual(await read(old, count), [[3n]]);
      // This version's first segment writes every row of the table, in its own folder: read from there on.
      assert.deepEqual(await read([...old, await entry(3, 'setting_snapshots_v2/date=2026-11-20/part-3-0.parquet', 4, 2)], count), [[4n]]);
    });
  });

  it('union the files of a folder by column name where its segments had different columns, as a lake written before versions', async () => {
    await handMadeLake(async ({ write, read }) => {
      const reason: [string, string][] = [['ingested_at', 'TIMESTAMP WITH TIME ZONE'], ['reason', 'VARCHAR']];
      const withDetail: [string, string][] = [...reason, ['detail', 'VARCHAR']];
      const rows = (n: number, detail: boolean) => `SELECT TIMESTAMPTZ '2026-11-20 10:00:00+00' AS ingested_at, 'r' || i AS reason${detail ? `, 'd' || i AS detail` : ''} FROM range(${n}) t(i)`;
      const entries = [
        handMadeEntry(1, [await write('dead_letters', 'dead_letters/date=2026-11-20/part-00000001-000000000000-0.parquet', rows(2, false))], { dead_letters: { version: 1, columns: reason } }),
        handMadeEntry(2, [await write('dead_letters', 'dead_letters/date=2026-11-20/part-00000002-000000000000-0.parquet', rows(3, true))], { dead_letters: { version: 1, columns: withDetail } }),
      ];
      assert.deepEqual(await read(entries, 'SELECT count(*), count(detail) FROM dead_letters'), [[5n, 3n]]);
    });
  });
});

/**
 * A lake made by hand in a fresh folder: `write` puts a table's Parquet file at a path from a SELECT, `read` answers a
 * query through the views made from the entries given.
 */
async function handMadeLake(
  run: (lake: { write(table: LakeTableName, path: string, select: string): Promise<ManifestFile>; read(entries: ManifestEntry[], sql: string): Promise<unknown[][]> }) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-views-made-'));
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await run({
      async write(table, path, select) {
        await mkdir(join(dir, ...path.split('/').slice(0, -1)), { recursive: true });
        const rows = Number((await c.runAndReadAll(`COPY (${select}) TO '${join(dir, ...path.split('/'))}' (FORMAT parquet)`)).getRows()[0]![0]);
        return { path, table, schemaVersion: Number(/_v(\d+)\//.exec(path)?.[1] ?? 1), rows, minTime: null, maxTime: null, bytes: 0, sha256: '' };
      },
      async read(entries, sql) {
        const views = await DuckDBInstance.create(':memory:');
        const reader = await views.connect();
        try {
          await createLakeViews(reader, dir, summarize(entries));
          return (await reader.runAndReadAll(sql)).getRows();
        } finally {
          reader.closeSync();
          views.closeSync();
        }
      },
    });
  } finally {
    c.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

function handMadeEntry(seq: number, files: ManifestFile[], tables: ManifestEntry['tables']): ManifestEntry {
  return sealEntry({ format: MANIFEST_FORMAT, seq, segment: `${String(seq).padStart(8, '0')}-000000000000`, createdAt: '2026-11-20T10:00:00.000Z', previous: null, positions: {}, files, tables });
}
