/**
 * The store keeps each server's replay base (its latest live snapshot) between batches and reads it again
 * only when this process stored a snapshot since. A snapshot taken while the pipeline runs (`run` takes
 * them on a schedule, on the same connection) must be the base of the very next batch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { DecodeResult, LogRecord } from '../../src/contracts/log-record.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { storeSnapshot } from '../../src/snapshot/take-snapshot.js';
import type { ServerSnapshot } from '../../src/snapshot/read-snapshot.js';
import { AuditStore } from '../../src/store/audit-store.js';

const SERVER = 'pg';

function auditLine(at: number, statement: string, command: string): DecodeResult {
  const record: LogRecord = {
    server: SERVER, loggedAt: new Date(at), sessionId: 'abc.1', pid: 1, level: 'LOG', sqlstate: null,
    message: `AUDIT: SESSION,${at},1,ROLE,${command},,,${statement},<none>`, detail: null, hint: null, statement: null,
    userName: 'admin', databaseName: 'postgres', clientAddr: null, clientPort: null, applicationName: null, source: 'test', position: String(at),
  };
  return { kind: 'record', record };
}

function snapshot(takenAt: number, roles: { rolname: string; rolsuper: boolean }[]): ServerSnapshot {
  return {
    server: SERVER, takenAt: new Date(takenAt), serverVersionNum: 150000, readAs: 'reader', unreadable: [], roleSettings: [], settings: [], memberships: [],
    roles: roles.map((r) => ({
      ...r, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolconnlimit: -1,
      rolvaliduntil: null, rolbypassrls: false, has_password: true, password_md5: false,
    })),
  };
}

async function roles(store: AuditStore): Promise<string[]> {
  const rows = (await store.connection.runAndReadAll(`SELECT rolname, rolsuper FROM roles WHERE server = '${SERVER}' ORDER BY rolname`)).getRows();
  return rows.map(([name, superuser]) => `${String(name)}${superuser ? ' (superuser)' : ''}`);
}

describe('AuditStore replay base', () => {
  it('replays the next batch on a snapshot stored in between, not on the base it read before', async () => {
    const store = await AuditStore.open(':memory:');
    try {
      const pipeline = await IngestPipeline.create(store);
      const t0 = Date.UTC(2026, 10, 20);
      await pipeline.processBatch([auditLine(t0, 'CREATE ROLE alice LOGIN', 'CREATE ROLE')], { sourceKey: null, source: 'test', position: '1' });
      assert.deepEqual(await roles(store), ['alice']);

      // The live server also has `legacy`, made before the trail began, and alice is a superuser there.
      await pipeline.exclusive((connection) => storeSnapshot(connection, snapshot(t0 + 1000, [{ rolname: 'alice', rolsuper: true }, { rolname: 'legacy', rolsuper: false }]), 365));
      await pipeline.processBatch([auditLine(t0 + 2000, 'CREATE ROLE bob LOGIN', 'CREATE ROLE')], { sourceKey: null, source: 'test', position: '2' });
      assert.deepEqual(await roles(store), ['alice (superuser)', 'bob', 'legacy']);

      // And with no snapshot in between, the next batch still stands on that same base.
      await pipeline.processBatch([auditLine(t0 + 3000, 'ALTER ROLE alice NOSUPERUSER', 'ALTER ROLE')], { sourceKey: null, source: 'test', position: '3' });
      assert.deepEqual(await roles(store), ['alice', 'bob', 'legacy']);
    } finally {
      await store.close();
    }
  });
});
