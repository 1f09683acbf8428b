/**
 * Hot retention over a capture spanning weeks: with hotDays = 1 the store keeps one day of events, and every
 * saved query over the whole span answers through the lake (`query --lake`) as it did on the store before.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportStoreToLake, hotRetention, LakeExporter, stagingDirOf, verifyLake, openLakeQueryTarget, openLakeStorage, parseLakeLocation, type Exclusive } from '../../src/lake/index.js';
import { pino } from 'pino';
import { runReadOnly } from '../../src/query/read-only-query.js';
import { loadSavedQueries, resolveParams, type SavedQuery } from '../../src/query/saved-queries.js';
import type { QueryParams } from '../../src/query/read-only-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { buildInvestigationFixture, FIXTURE_NOW } from '../query/investigation-fixture.js';
import { readsOf } from '../support/lake-reads.js';
import { queryStore, silentLogger } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';

/** Values for the parameters that have no default: the fixture's intruder, her backdoor, one of her sessions, her address, the setting she turned off. */
const REQUIRED = { actor: 'mallory', role: 'backdoor', server: 'pg-prod', session_id: 'm1', client_addr: '203.0.113.7', parameter: 'pgaudit.log' };

function paramsOf(query: SavedQuery): QueryParams {
  const given = Object.fromEntries(query.params.filter((p) => p.defaultValue === undefined).map((p) => [p.name, REQUIRED[p.name as keyof typeof REQUIRED]]));
  return resolveParams(query, given, FIXTURE_NOW);
}

const HOT_EVENTS = `SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM auth_failures) + (SELECT count(*) FROM control_plane_events) AS events,
  (SELECT min(t) FROM (SELECT min(logged_at) AS t FROM audit_events UNION ALL SELECT min(logged_at) FROM auth_failures UNION ALL SELECT min(logged_at) FROM control_plane_events)) AS oldest`;

/** `records` generated audit records from `start` on, written as an Event Hubs capture file in the test's folder. */
async function writeCaptureIn(dir: string, name: string, records: number, seed: number, start: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, [...syntheticBodies({ records, seed, start: new Date(start) })].join('\n') + '\n');
  return file;
}

/**
 * A store `<name>.duckdb` of old records (from 2026-11-20) and fresh ones (2026-11-24, the fixture's day; `records`
 * of each), exported to the lake `<name>-lake`.
 */
async function exportedOldAndFresh(dir: string, name: string, records: [number, number], seed: number): Promise<{ db: string; lake: string }> {
  const db = join(dir, `${name}.duckdb`);
  const lake = join(dir, `${name}-lake`);
  const old = await writeCaptureIn(dir, `${name}-old.jsonl`, records[0], seed, '2026-11-20T00:00:00Z');
  const fresh = await writeCaptureIn(dir, `${name}-fresh.jsonl`, records[1], seed + 1, '2026-11-24T06:00:00Z');
  await ingestFiles([old, fresh], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
  await exportStoreToLake(db, lake, silentLogger);
  return { db, lake };
}

describe('hot retention (retention.hotDays) with the lake', () => {
  let dir: string;
  let db: string;
  let lake: string;
  const before_: Record<string, unknown> = {};
  const queries = loadSavedQueries();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-retention-'));
    db = join(dir, 'store.duckdb');
    lake = join(dir, 'lake');
    await buildInvestigationFixture(db);
    await exportStoreToLake(db, lake, silentLogger);
    const store = await AuditStore.open(db);
    try {
      for (const q of queries) before_[q.name] = (await runReadOnly(store.connection, q.sql, paramsOf(q))).rows;
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one day of events in the store once the lake is verified', async () => {
    const [full] = await queryStore(db, HOT_EVENTS);
    const store = await AuditStore.open(db);
    try {
      let queue: Promise<unknown> = Promise.resolve();
      const exclusive: Exclusive = (work) => {
        const result = queue.then(() => work(store.connection));
        queue = result.catch(() => undefined);
        return result;
      };
      const retain = hotRetention({ lake: await openLakeStorage(parseLakeLocation(lake)), exclusive, hotDays: 1, log: silentLogger, now: () => FIXTURE_NOW });
      const dropped = await retain();
      assert.ok((dropped.audit_events ?? 0) > 0, `dropped ${JSON.stringify(dropped)}`);
    } finally {
      await store.close();
    }
    const [hot] = await queryStore(db, HOT_EVENTS);
    assert.ok(Number(hot!.events) < Number(full!.events), `events before ${String(full!.events)}, after ${String(hot!.events)}`);
    assert.ok(new Date(String(hot!.oldest)) >= new Date('2026-11-24T00:00:00Z'), `oldest kept ${String(hot!.oldest)}`);
    const [kept] = await queryStore(db, `SELECT count(*) AS n FROM privilege_changes`);
    assert.ok(Number(kept!.n) > 0, 'privilege_changes are kept whole for the role replay');
  });

  it('answers every saved query through --lake as the store did before retention', async () => {
    const target = await openLakeQueryTarget(lake);
    const store = await openDatabase(db, { readOnly: true });
    const differsOnStore: string[] = [];
    try {
      for (const q of queries) {
        const rows = (await target.run(q.sql, paramsOf(q))).rows;
        assert.deepEqual(rows, before_[q.name], `${q.name} answers differently through the lake`);
        const thinned = (await runReadOnly(store.connection, q.sql, paramsOf(q))).rows;
        if (JSON.stringify(thinned) !== JSON.stringify(before_[q.name])) differsOnStore.push(q.name);
      }
    } finally {
      await target.close();
      await closeDatabase(store);
    }
    // Proof that the lake answered: the thinned store alone no longer gives these.
    assert.ok(differsOnStore.length >= 3, `only ${differsOnStore.join(', ')} changed on the store after retention`);
  });

  it('keeps exporting every new row once after retention compacted the store and renumbered its rows', async () => {
    const db2 = join(dir, 'compacted.duckdb');
    const lake2 = join(dir, 'compacted-lake');
    const old = await writeCaptureIn(dir, 'old.jsonl', 30_000, 3, '2026-11-20T00:00:00Z');
    const fresh = await writeCaptureIn(dir, 'fresh.jsonl', 3_000, 4, '2026-11-24T06:00:00Z');
    await ingestFiles([old], { dbPath: db2, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    await exportStoreToLake(db2, lake2, silentLogger);
    const [before] = await queryStore(db2, `SELECT max(rowid) AS last FROM audit_events`);

    const store = await AuditStore.open(db2);
    try {
      const exclusive: Exclusive = (work) => work(store.connection);
      const retain = hotRetention({ lake: await openLakeStorage(parseLakeLocation(lake2)), exclusive, hotDays: 1, log: silentLogger, now: () => FIXTURE_NOW });
      assert.ok(((await retain()).audit_events ?? 0) > 0);
    } finally {
      await store.close();
    }
    const [after_] = await queryStore(db2, `SELECT max(rowid) AS last, count(*) AS n FROM audit_events`);
    assert.ok(after_!.last === null || Number(after_!.last) < Number(before!.last), `rowids after the compaction: ${String(after_!.last)}, before ${String(before!.last)}`);

    await ingestFiles([fresh], { dbPath: db2, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    await exportStoreToLake(db2, lake2, silentLogger);
    const target = await openLakeQueryTarget(lake2);
    try {
      const [inLake] = (await target.run(`SELECT count(*) AS n, count(DISTINCT (source, position)) AS d FROM log_records`)).rows;
      assert.deepEqual(inLake, { n: 33_000, d: 33_000 });
    } finally {
      await target.close();
    }
    assert.deepEqual((await verifyLake(await openLakeStorage(parseLakeLocation(lake2)))).problems, []);
  });

  it('verifies at each pass only the segments published since the last one, and after a restart since the last horizon', async () => {
    const { db: db4, lake: lake4 } = await exportedOldAndFresh(dir, 'incremental', [400, 200], 7);
    const lake = readsOf(await openLakeStorage(parseLakeLocation(lake4)));
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    /** One more segment, of 50 rows four days old (the next pass drops them); its manifest entry's path. */
    const oneMoreSegment = async (store: AuditStore, tag: string) => {
      await store.connection.run(
        `INSERT INTO audit_events SELECT * REPLACE ('${tag}-' || position AS position, logged_at - INTERVAL 4 DAY AS logged_at) FROM audit_events WHERE position NOT LIKE 'copy%' LIMIT 50`,
      );
      const exporter = await LakeExporter.start({ lake, stagingDir: stagingDirOf(db4), exclusive: (work) => work(store.connection), connect: () => store.db.instance.connect(), intervalMs: 3_600_000, log: silentLogger });
      await exporter.stop();
      assert.equal(exporter.status().lastError, null);
      return (await lake.list('_manifest/')).at(-1)!;
    };

    let store = await AuditStore.open(db4);
    try {
      const pass = hotRetention({ lake, exclusive: (work) => work(store.connection), hotDays: 1, log, now: () => FIXTURE_NOW });
      assert.ok(((await pass()).audit_events ?? 0) > 0);
      const second = await oneMoreSegment(store, 'copy1');
      lake.reads.length = 0;
      assert.equal((await pass()).audit_events, 50);
      assert.deepEqual(manifestReads(lake.reads), [second], 'the second pass reads the one entry published since the first');
      assert.deepEqual(lake.reads.filter((r) => r.startsWith('list ')), [], 'nor lists the lake');
    } finally {
      await store.close();
    }

    store = await AuditStore.open(db4);
    try {
      const third = await oneMoreSegment(store, 'copy2');
      const fourth = await oneMoreSegment(store, 'copy3');
      // A file of the newest segment altered after it was published: its rows stay, the third's go.
      const altered = JSON.parse((await lake.get(fourth))!.toString('utf8')).files.find((f: { table: string }) => f.table === 'audit_events').path as string;
      await appendFile(join(lake4, altered), 'x');
      lake.reads.length = 0;
      const pass = hotRetention({ lake, exclusive: (work) => work(store.connection), hotDays: 1, log, now: () => FIXTURE_NOW });
      assert.equal((await pass()).audit_events, 50, 'the rows of the third segment, verified; not the fourth');
      assert.deepEqual(manifestReads(lake.reads), [third, fourth], 'after a restart, the entries published since the last horizon');
      assert.match(warnings.join(''), new RegExp(`${altered.replace(/[.]/g, '\\.')} of segment \\d{8}-[0-9a-f]{12} was altered`));
      const [kept] = (await store.connection.runAndReadAll(`SELECT count(*) FROM audit_events WHERE position LIKE 'copy3-%'`)).getRows();
      assert.equal(Number(kept![0]), 50);
    } finally {
      await store.close();
    }
  });

  it('keeps exporting every new row once when rows committed after a retention pass are renumbered by a restart', async () => {
    // DuckDB renumbers the rowids a retention pass compacted only when the store is reopened, so rows committed
    // between the pass and a restart move down past where the lake's export stands.
    const { db: db3, lake: lake3 } = await exportedOldAndFresh(dir, 'restarted', [700, 300], 5);
    const [stored] = await queryStore(db3, `SELECT count(*) AS n FROM audit_events`);
    const copies = (c: AuditStore['connection'], tag: string) =>
      c.run(`INSERT INTO audit_events SELECT * REPLACE ('${tag}-' || position AS position) FROM audit_events WHERE position NOT LIKE 'copy%' LIMIT 100`);

    const store = await AuditStore.open(db3);
    try {
      const exclusive: Exclusive = (work) => work(store.connection);
      const lake = await openLakeStorage(parseLakeLocation(lake3));
      assert.ok(((await hotRetention({ lake, exclusive, hotDays: 1, log: silentLogger, now: () => FIXTURE_NOW })()).audit_events ?? 0) > 0);
      await copies(store.connection, 'copy1');
      const exporter = await LakeExporter.start({ lake, stagingDir: stagingDirOf(db3), exclusive, connect: () => store.db.instance.connect(), intervalMs: 3_600_000, log: silentLogger });
      await exporter.stop();
      assert.equal(exporter.status().lastError, null);
    } finally {
      await store.close();
    }
    const reopened = await AuditStore.open(db3);
    try {
      await copies(reopened.connection, 'copy2');
    } finally {
      await reopened.close();
    }
    await exportStoreToLake(db3, lake3, silentLogger);

    const target = await openLakeQueryTarget(lake3);
    try {
      const [inLake] = (await target.run(`SELECT count(*) AS n, count(DISTINCT (source, position)) AS d FROM audit_events`)).rows;
      assert.deepEqual(inLake, { n: Number(stored!.n) + 200, d: Number(stored!.n) + 200 });
    } finally {
      await target.close();
    }
    assert.deepEqual((await verifyLake(await openLakeStorage(parseLakeLocation(lake3)))).problems, []);
  });
});


function manifestReads(reads: readonly string[]): string[] {
  return reads.filter((r) => r.startsWith('get _manifest/')).map((r) => r.slice('get '.length));
}
