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
import { AuditStore } from '../../src/store/audit-store.js';
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
