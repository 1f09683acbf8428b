/**
 * What a hub's leader hands to the next one: the sessions it knows, redacted, so that the next leader's store
 * attributes AUDIT rows of sessions whose connection lines the old leader stored, and fills rows it stored
 * itself, unattributed, when it led before (the store's late attribution, with the next batch).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';

import { decodeSessionHandover, encodeSessionHandover } from '../../../src/analyze/sessions/session-handover.js';
import { SessionTracker } from '../../../src/analyze/sessions/session-tracker.js';
import type { DecodeResult } from '../../../src/contracts/log-record.js';
import { parseRecord } from '../../../src/parse/parse-record.js';
import { IngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import { audit, login, record } from '../../support/detection-records.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function observeAll(tracker: SessionTracker, results: DecodeResult[]): void {
  for (const result of results) {
    if (result.kind !== 'record') continue;
    const { entry } = parseRecord(result.record);
    if (entry.kind === 'session') tracker.observe(entry);
  }
}

async function withStores(run: (a: IngestPipeline, b: IngestPipeline, bStore: AuditStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-handover-'));
  const stores = [await AuditStore.open(join(dir, 'a.duckdb')), await AuditStore.open(join(dir, 'b.duckdb'))];
  try {
    const [a, b] = [await IngestPipeline.create(stores[0]!, { analyzePrivileges: false }), await IngestPipeline.create(stores[1]!, { analyzePrivileges: false })];
    await run(a, b, stores[1]!);
  } finally {
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const usersOf = async (store: AuditStore, sessionId: string) =>
  (await store.connection.runAndReadAll(`SELECT user_name, database_name, client_addr, application_name FROM audit_events WHERE session_id = '${sessionId}' ORDER BY logged_at`)).getRows();

describe('session handover between the leaders of a hub', () => {
  it('round-trips what a session is known by, with secrets redacted on the way out', () => {
    const tracker = new SessionTracker();
    const s = login({ user: 'handed_user', at: T0, host: '10.0.0.9' });
    const secretApp = record('pg1', at(3), s.sessionId, 'LOG', 'connection authorized: user=handed_user database=appdb application_name=postgresql://etl:Sup3rSecretPw@db/appdb');
    const other = login({ user: 'other_user', at: T0, server: 'pg2' });
    observeAll(tracker, [...s.records.slice(0, 2), secretApp, ...other.records]);

    const body = encodeSessionHandover(tracker.handOver());
    assert.ok(!gunzipSync(body).toString('utf8').includes('Sup3rSecretPw'), 'the password in the application name does not leave');
    const handed = decodeSessionHandover(body);
    const mine = handed.find((h) => h.sessionId === s.sessionId)!;
    assert.deepEqual([mine.server, mine.userName, mine.databaseName, mine.clientAddr, mine.authMethod], ['pg1', 'handed_user', 'appdb', '10.0.0.9', 'scram-sha-256']);
    assert.ok(mine.applicationName!.includes('postgresql://') && !mine.applicationName!.includes('Sup3rSecretPw'));
    assert.equal(mine.startedAt?.getTime(), T0.getTime());
    assert.deepEqual(handed.map((h) => h.server).sort(), ['pg1', 'pg2']);
  });

  it('hands over the newest open sessions and the newest ended ones, within its bounds', () => {
    const tracker = new SessionTracker();
    const sessions = Array.from({ length: 6 }, (_, i) => login({ user: `user_${i}`, at: at(i * 1000) }));
    for (const s of sessions) observeAll(tracker, s.records);
    for (const s of sessions.slice(0, 3)) observeAll(tracker, [record('pg1', at(9000), s.sessionId, 'LOG', 'disconnection: session time: 0:00:01.000 user=x database=appdb host=10.0.0.5 port=50000')]);
    const handed = tracker.handOver({ open: 2, ended: 1 }).map((h) => h.userName);
    assert.deepEqual(handed, ['user_5', 'user_4', 'user_2']);
  });

  it('keeps the newest sessions newest through a takeover, so the next handover holds them within its bounds', () => {
    const old = new SessionTracker();
    for (let i = 0; i < 4; i++) observeAll(old, login({ user: `user_${i}`, at: at(i * 1000) }).records);
    const next = new SessionTracker();
    next.adopt(decodeSessionHandover(encodeSessionHandover(old.handOver())));
    assert.deepEqual(next.handOver({ open: 2, ended: 0 }).map((h) => h.userName), ['user_3', 'user_2']);
  });

  it('refuses a body that is not a handover, with a clear error, and takes nothing', async () => {
    await withStores(async (_a, b) => {
      assert.throws(() => b.sessionHandover.adopt(Buffer.from('not gzip')), /the session handover is not gzipped JSON/);
      const { gzipSync } = await import('node:zlib');
      assert.throws(() => b.sessionHandover.adopt(gzipSync(JSON.stringify({ format: 'auditduck.sessions.v1', fields: JSON.parse(gunzipSync(b.sessionHandover.encode()).toString()).fields, sessions: [['pg1', null, ...Array(14).fill(null)]] }))), /session 0 has no valid sessionId/);
      assert.equal(b.sessions.handOver().length, 0);
    });
  });

  it("attributes the new leader's AUDIT rows of a session whose connection lines the old leader stored", async () => {
    await withStores(async (a, b, bStore) => {
      const s = login({ user: 'opened_before_takeover', at: T0 });
      await a.processBatch(s.records, { sourceKey: null, source: 'eventhubs:hub/0', position: '1' });
      assert.ok(b.sessionHandover.adopt(a.sessionHandover.encode()) >= 1);
      await b.processBatch([audit('pg1', s.sessionId, at(5000), 1, 'READ', 'SELECT', 'SELECT 1')], { sourceKey: null, source: 'eventhubs:hub/1', position: '1' });
      assert.deepEqual(await usersOf(bStore, s.sessionId), [['opened_before_takeover', 'appdb', '10.0.0.5', 'psql']]);
    });
  });

  it("fills rows the new leader stored unattributed when it led before, once it takes the sessions over", async () => {
    await withStores(async (a, b, bStore) => {
      const s = login({ user: 'seen_by_the_other', at: T0 });
      // B led first and stored an AUDIT line of a session whose connection lines A read after taking over.
      await b.processBatch([audit('pg1', s.sessionId, at(5000), 1, 'READ', 'SELECT', 'SELECT 1')], { sourceKey: null, source: 'eventhubs:hub/1', position: '1' });
      assert.deepEqual(await usersOf(bStore, s.sessionId), [[null, null, null, null]]);
      await a.processBatch(s.records, { sourceKey: null, source: 'eventhubs:hub/0', position: '1' });
      // B leads again: it takes A's sessions over, and its next batch (of anything) fills its old rows.
      b.sessionHandover.adopt(a.sessionHandover.encode());
      const other = login({ user: 'unrelated', at: at(6000) });
      const summary = await b.processBatch(other.records, { sourceKey: null, source: 'eventhubs:hub/2', position: '1' });
      assert.equal(summary.lateAttributed, 1);
      assert.deepEqual(await usersOf(bStore, s.sessionId), [['seen_by_the_other', 'appdb', '10.0.0.5', 'psql']]);
      // The session is now in B's store, once, for its rows to join.
      const sessions = (await bStore.connection.runAndReadAll(`SELECT count(*) FROM sessions WHERE session_id = '${s.sessionId}'`)).getRows();
      assert.deepEqual(sessions, [[1n]]);
    });
  });

  it("lets a standby fill the rows it stored while it led from the leader's sessions, in a transaction of its own", async () => {
    await withStores(async (a, b, bStore) => {
      const s = login({ user: 'read_by_the_leader', at: T0 });
      await b.processBatch([audit('pg1', s.sessionId, at(5000), 1, 'READ', 'SELECT', 'SELECT 1')], { sourceKey: null, source: 'eventhubs:hub/1', position: '1' });
      assert.equal(b.sessionHandover.waiting(), true);
      await a.processBatch(s.records, { sourceKey: null, source: 'eventhubs:hub/0', position: '1' });
      assert.equal(await b.sessionHandover.fill(a.sessionHandover.encode()), 1);
      assert.deepEqual(await usersOf(bStore, s.sessionId), [['read_by_the_leader', 'appdb', '10.0.0.5', 'psql']]);
      assert.equal(b.sessionHandover.waiting(), false);
      const positions = (await bStore.connection.runAndReadAll(`SELECT count(*) FROM source_positions WHERE source = 'fleet:session-handover'`)).getRows();
      assert.deepEqual(positions, [[0n]], 'the fill keeps no position');
    });
  });
});
