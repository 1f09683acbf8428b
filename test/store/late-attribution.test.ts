/**
 * Late attribution of a row whose session this process knows only from its disconnection line: the line names
 * the user and database, not the application, and the store, which holds the session's connection lines from an
 * earlier process (or another worker's range), fills the rest in at commit.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { sessionKey } from '../../src/contracts/session-key.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { attributeLate } from '../../src/store/late-attribution.js';
import { audit, login, record } from '../support/detection-records.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditduck-late-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('fills in the application of rows attributed from a disconnection line alone, from the session the store holds', async () => {
  const db = join(dir, 'store.duckdb');
  const at = new Date('2026-11-20T10:00:00Z');
  const session = login({ user: 'alice', host: '10.0.0.9', at });
  const target = (position: string) => ({ sourceKey: 'late-test', source: 'late-test', position });

  const first = await AuditStore.open(db);
  await (await IngestPipeline.create(first, { analyzePrivileges: false })).processBatch(session.records, target('1'));
  await first.close();

  // A new process: it has never seen the session's connection lines.
  const second = await AuditStore.open(db);
  try {
    const pipeline = await IngestPipeline.create(second, { analyzePrivileges: false });
    await pipeline.processBatch(
      [
        audit('pg1', session.sessionId, new Date(at.getTime() + 100), 1, 'READ', 'SELECT', 'SELECT 1'),
        record('pg1', new Date(at.getTime() + 200), session.sessionId, 'LOG', 'disconnection: session time: 0:00:00.200 user=alice database=appdb host=10.0.0.9 port=50000'),
      ],
      target('2'),
    );
    const rows = (await second.connection.runAndReadAll('SELECT user_name, database_name, client_addr, application_name FROM audit_events')).getRowObjects();
    assert.deepEqual(rows, [{ user_name: 'alice', database_name: 'appdb', client_addr: '10.0.0.9', application_name: 'psql' }]);
  } finally {
    await second.close();
  }
});

it('records what it fills into rows of an earlier transaction once, however often it looks at the session again', async () => {
  const db = join(dir, 'fills.duckdb');
  const at = new Date('2026-11-20T11:00:00Z');
  const session = login({ user: 'erin', host: '10.0.0.8', at });
  const target = (position: string) => ({ sourceKey: 'fills-test', source: 'fills-test', position });
  const store = await AuditStore.open(db);
  try {
    const pipeline = await IngestPipeline.create(store, { analyzePrivileges: false });
    await pipeline.processBatch([audit('pg1', session.sessionId, new Date(at.getTime() + 100), 1, 'READ', 'SELECT', 'SELECT 1')], target('1'));
    await pipeline.processBatch(session.records, target('2'));
    const fills = () => store.connection.runAndReadAll('SELECT user_name, database_name, client_addr, application_name, source, position FROM attribution_fills').then((r) => r.getRowObjects());
    assert.deepEqual(await fills(), [{ user_name: 'erin', database_name: 'appdb', client_addr: '10.0.0.8', application_name: 'psql', source: 'fills-test', position: '2' }]);
    // Looked at again (a batch replayed, another line of the session): the fill brings nothing new.
    const again = { source: 'fills-test', position: '3', storedBefore: new Set([sessionKey('pg1', session.sessionId)]) };
    await attributeLate(store.connection, [{ server: 'pg1', sessionId: session.sessionId }], again);
    assert.equal((await fills()).length, 1);
    // A process that does not know a session the store holds fills its rows in the transaction that stores
    // them: they never reach the lake unattributed, so no fill is recorded for them.
    const other = login({ user: 'frank', at });
    await pipeline.processBatch(other.records, target('4'));
    const restarted = await IngestPipeline.create(store, { analyzePrivileges: false });
    const counts = await restarted.processBatch([audit('pg1', other.sessionId, new Date(at.getTime() + 100), 1, 'READ', 'SELECT', 'SELECT 2')], target('5'));
    assert.equal(counts.lateAttributed, 1);
    assert.equal((await fills()).length, 1);
  } finally {
    await store.close();
  }
});
