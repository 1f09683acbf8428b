/**
 * Attribution filled in after a row went to the lake reaches the lake's readers (issues 17 and 18): a session's
 * audit rows exported before its connection lines arrive, and a hub standby's rows filled from the leader's
 * handover after they were exported. `query --lake`, the store read through the lake after hot retention, and
 * the plain DuckDB SQL docs/lake.md gives other engines all show the user the store shows; the fills are rows
 * of their own, once each in the lake, in the manifest and checked by `lake verify`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DecodeResult } from '../../src/contracts/log-record.js';
import { publishSegment } from '../../src/lake/publish-segment.js';
import { markPublished, stageSegment } from '../../src/lake/stage-segment.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { exportStoreToLake, hotRetention, openLakeQueryTarget, openLakeStorage, openStoreAndLakeQueryTarget, parseLakeLocation, stagingDirOf, verifyLake, type Exclusive } from '../../src/lake/index.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { audit, failedLogin, login } from '../support/detection-records.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const AT = new Date('2026-11-20T10:00:00Z');
const ms = (n: number) => new Date(AT.getTime() + n);
const WHO = `SELECT session_id, user_name, database_name, client_addr, application_name FROM audit_events ORDER BY session_id, logged_at`;
const ACTORS = `SELECT session_id, actor FROM privilege_changes ORDER BY session_id, logged_at`;
const FAILURES = `SELECT session_id, user_name, client_addr FROM auth_failures ORDER BY session_id, logged_at`;

let seq = 0;
const target = (source: string) => ({ sourceKey: source, source, position: String(++seq) });

async function withPipeline<T>(db: string, work: (pipeline: IngestPipeline) => Promise<T>): Promise<T> {
  const store = await AuditStore.open(db);
  try {
    return await work(await IngestPipeline.create(store));
  } finally {
    await store.close();
  }
}

async function lakeRows(lake: string, sql: string): Promise<Record<string, unknown>[]> {
  const t = await openLakeQueryTarget(lake);
  try {
    return (await t.run(sql)).rows as Record<string, unknown>[];
  } finally {
    await t.close();
  }
}

async function storeAndLakeRows(db: string, lake: string, sql: string): Promise<Record<string, unknown>[]> {
  const t = await openStoreAndLakeQueryTarget(db, lake);
  try {
    return (await t.run(sql)).rows as Record<string, unknown>[];
  } finally {
    await t.close();
  }
}

/** Rows of a session's statements, its connection lines left out (they come later, from another partition). */
function statements(sessionId: string, from: number): DecodeResult[] {
  return [
    audit('pg1', sessionId, ms(from), 1, 'READ', 'SELECT', 'SELECT * FROM accounts'),
    audit('pg1', sessionId, ms(from + 10), 2, 'ROLE', 'CREATE ROLE', 'CREATE ROLE reporter'),
  ];
}

describe('attribution filled in after export, in the lake', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-late-lake-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('one store: the connection lines arrive after the audit rows were exported', () => {
    let db: string;
    let lake: string;
    let storeWho: Record<string, unknown>[];
    let storeActors: Record<string, unknown>[];
    let storeFailures: Record<string, unknown>[];
    before(async () => {
      db = join(dir, 'one.duckdb');
      lake = join(dir, 'one-lake');
      const late = login({ user: 'alice', host: '10.0.0.9', at: AT });
      const onTime = login({ user: 'bob', host: '10.0.0.7', at: ms(5) });
      // A failed password whose `connection received` line (the client) comes after it.
      const [received, failure] = failedLogin({ user: 'mallory', host: '10.0.0.66', at: ms(20) });
      await withPipeline(db, async (p) => {
        await p.processBatch([...onTime.records, ...statements(onTime.sessionId, 100), ...statements(late.sessionId, 50), failure!], target('partition-0'));
      });
      await exportStoreToLake(db, lake, silentLogger);
      await withPipeline(db, (p) => p.processBatch([...late.records, received!], target('partition-1')));
      await exportStoreToLake(db, lake, silentLogger);
      storeWho = await queryStore(db, WHO);
      storeActors = await queryStore(db, ACTORS);
      storeFailures = await queryStore(db, FAILURES);
    });

    it('the store holds both sessions attributed (what the lake must show too)', () => {
      assert.deepEqual(
        storeWho.map((r) => r.user_name),
        storeWho.map((r) => (r.client_addr === '10.0.0.9' ? 'alice' : 'bob')),
      );
      assert.ok(storeWho.every((r) => r.user_name !== null && r.application_name === 'psql'), JSON.stringify(storeWho));
      assert.deepEqual(storeFailures.map((r) => [r.user_name, r.client_addr]), [['mallory', '10.0.0.66']]);
      assert.equal(storeActors.length, 2);
      assert.ok(storeActors.every((r) => r.actor !== null), JSON.stringify(storeActors));
    });

    it('`query --lake` shows the user, database, client and application the store filled in later', async () => {
      assert.deepEqual(await lakeRows(lake, WHO), storeWho);
    });

    it('`query --lake` shows the actor of a privilege change filled in later', async () => {
      assert.deepEqual(await lakeRows(lake, ACTORS), storeActors);
    });

    it('`query --lake` shows the client of an authentication failure filled in later', async () => {
      assert.deepEqual(await lakeRows(lake, FAILURES), storeFailures);
    });

    it('the log_records view over the lake renders the filled rows as the store does', async () => {
      const sql = `SELECT session_id, message FROM log_records WHERE message LIKE 'AUDIT:%' ORDER BY session_id, logged_at, message`;
      assert.deepEqual(await lakeRows(lake, sql), await queryStore(db, sql));
    });

    it('holds each fill once, in the manifest at schema version 1, and `lake verify` passes', async () => {
      const result = await verifyLake(await openLakeStorage(parseLakeLocation(lake)));
      assert.deepEqual(result.problems, []);
      assert.equal(result.entries.at(-1)!.tables.attribution_fills?.version, 1);
      const inStore = await queryStore(db, 'SELECT server, session_id, user_name FROM attribution_fills ORDER BY ALL');
      assert.deepEqual(inStore.map((r) => r.user_name), ['alice', null]);
      assert.deepEqual(await lakeRows(lake, 'SELECT server, session_id, user_name FROM attribution_fills ORDER BY ALL'), inStore);
    });

    it('gives other engines the attributed rows with the SQL docs/lake.md gives for DuckDB', async () => {
      const instance = await DuckDBInstance.create(':memory:');
      const c = await instance.connect();
      try {
        const sql = `SELECT session_id, user_name, database_name, client_addr, application_name FROM (${await lakeDocsFillSql(lake)}) ORDER BY session_id, logged_at`;
        const rows = (await c.runAndReadAll(sql)).getRowObjects();
        assert.deepEqual(rows, storeWho);
      } finally {
        c.closeSync();
        instance.closeSync();
      }
    });

    it('reads the filled rows from the lake once hot retention dropped them from the store', async () => {
      const store = await AuditStore.open(db);
      try {
        const exclusive: Exclusive = (work) => work(store.connection);
        const pass = hotRetention({ lake: await openLakeStorage(parseLakeLocation(lake)), exclusive, hotDays: 1, log: silentLogger, now: () => new Date('2026-11-25T12:00:00Z') });
        assert.equal((await pass()).audit_events, 4);
      } finally {
        await store.close();
      }
      assert.deepEqual(await queryStore(db, 'SELECT count(*)::INTEGER AS n FROM audit_events'), [{ n: 0 }]);
      assert.deepEqual(await storeAndLakeRows(db, lake, WHO), storeWho);
      assert.deepEqual(await storeAndLakeRows(db, lake, ACTORS), storeActors);
      assert.deepEqual(await storeAndLakeRows(db, lake, FAILURES), storeFailures);
    });
  });

  it('goes on exporting a lake a store of schema version 14 began: attribution_fills from its first row', async () => {
    const db = join(dir, 'v14.duckdb');
    const lake = join(dir, 'v14-lake');
    const session = login({ user: 'dave', host: '10.0.0.4', at: AT });
    await withPipeline(db, (p) => p.processBatch(statements(session.sessionId, 50), target('v14')));
    // The store as version 14 left it, exported by that version: no attribution_fills, nor the tables of later
    // versions. It keeps what migrations 17 and 18 add for the lake (sessions.change_seq, lake_revisions), which
    // today's staging reads.
    const old = await openDatabase(db);
    try {
      await old.connection.run('DROP TABLE attribution_fills; DROP TABLE unjudged_changes; DELETE FROM schema_version WHERE version >= 15');
    } finally {
      await closeDatabase(old);
    }
    const instance = await DuckDBInstance.create(db);
    const c = await instance.connect();
    try {
      const staged = await stageSegment(c, stagingDirOf(db));
      assert.ok(staged && staged.ranges.columns.attribution_fills === undefined);
      const entry = await publishSegment(await openLakeStorage(parseLakeLocation(lake)), stagingDirOf(db), staged, null);
      await markPublished(c, staged.seq, entry.hash);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
    await withPipeline(db, (p) => p.processBatch(session.records, target('v14')));
    await exportStoreToLake(db, lake, silentLogger);
    const result = await verifyLake(await openLakeStorage(parseLakeLocation(lake)));
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.entries.map((e) => e.tables.attribution_fills?.version ?? null), [null, 1]);
    const inStore = await queryStore(db, WHO);
    assert.ok(inStore.every((r) => r.user_name === 'dave'), JSON.stringify(inStore));
    assert.deepEqual(await lakeRows(lake, WHO), inStore);
  });

  describe("a hub standby: its rows filled from the leader's handover after they were exported", () => {
    it('`query --lake` of the standby\'s lake shows the user the handover brought', async () => {
      const standbyDb = join(dir, 'standby.duckdb');
      const leaderDb = join(dir, 'leader.duckdb');
      const lake = join(dir, 'standby-lake');
      const session = login({ user: 'carol', host: '10.0.0.3', at: AT });
      // While it led, the standby stored the session's statements; the connection lines went to the other instance.
      await withPipeline(standbyDb, (p) => p.processBatch(statements(session.sessionId, 50), target('hub/0')));
      await exportStoreToLake(standbyDb, lake, silentLogger);
      const handover = await withPipeline(leaderDb, async (p) => {
        await p.processBatch(session.records, target('hub/1'));
        return p.sessionHandover.encode('leader');
      });
      const filled = await withPipeline(standbyDb, async (p) => {
        assert.ok(p.sessionHandover.waiting());
        return p.sessionHandover.fill(handover);
      });
      assert.ok(filled >= 2, `rows filled: ${filled}`);
      await exportStoreToLake(standbyDb, lake, silentLogger);
      const inStore = await queryStore(standbyDb, WHO);
      assert.ok(inStore.every((r) => r.user_name === 'carol'), JSON.stringify(inStore));
      assert.deepEqual(await lakeRows(lake, WHO), inStore);
      assert.deepEqual(await lakeRows(lake, ACTORS), await queryStore(standbyDb, ACTORS));
      const fills = await lakeRows(lake, 'SELECT user_name, source FROM attribution_fills');
      assert.deepEqual(fills, [{ user_name: 'carol', source: 'fleet:session-handover' }]);
    });
  });
});

/** docs/lake.md's DuckDB recipe for audit events with their late attribution, LAKE replaced by the folder. */
async function lakeDocsFillSql(lake: string): Promise<string> {
  const doc = await readFile('docs/lake.md', 'utf8');
  const recipe = /```sql\n-- late attribution, tested[^\n]*\n([\s\S]*?)```/.exec(doc);
  assert.ok(recipe, 'docs/lake.md has the DuckDB recipe that applies attribution_fills');
  return recipe[1]!.replaceAll('LAKE', lake).trim().replace(/;$/, '');
}
