/**
 * The pipeline keeps each server's replay base (its latest live snapshot) between batches and reads it again
 * only when a snapshot of that server committed since: the snapshot writer tells the pipeline's
 * `replayBases`. A snapshot taken while the pipeline runs (`run` takes them on a schedule, on a connection
 * of its own) must be the base of the very next batch, even when it commits while a batch is being stored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';

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

/**
 * A connection whose COMMIT waits for `release()`: a snapshot's transaction held open at its very end, as
 * the schedule's own connection holds it while the ingest connection commits a batch.
 */
function commitWhenReleased(connection: DuckDBConnection): { connection: DuckDBConnection; atCommit: Promise<void>; release(): void } {
  let reached!: () => void;
  let release!: () => void;
  const atCommit = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const held = new Proxy(connection, {
    get(target, name) {
      if (name !== 'run') return Reflect.get(target, name, target);
      return async (sql: string, ...rest: unknown[]) => {
        if (sql.trim().toUpperCase() === 'COMMIT') {
          reached();
          await released;
        }
        return (target.run as (...a: unknown[]) => unknown).call(target, sql, ...rest);
      };
    },
  });
  return { connection: held, atCommit, release };
}

describe('the replay base of the roles', () => {
  it('replays on a snapshot committed on another connection while a batch was being stored, not on the base read before it', async () => {
    const store = await AuditStore.open(':memory:');
    const other = await store.db.instance.connect();
    try {
      const pipeline = await IngestPipeline.create(store);
      const t0 = Date.UTC(2026, 10, 20);
      await pipeline.processBatch([auditLine(t0, 'CREATE ROLE alice LOGIN', 'CREATE ROLE')], { sourceKey: null, source: 'test', position: '1' });

      // The schedule's snapshot (legacy exists on the server) is written but not yet committed when a batch commits.
      const held = commitWhenReleased(other);
      const stored = storeSnapshot(held.connection, snapshot(t0 + 1000, [{ rolname: 'alice', rolsuper: false }, { rolname: 'legacy', rolsuper: false }]), 365, pipeline.replayBases);
      await held.atCommit;
      await pipeline.processBatch([auditLine(t0 + 2000, 'CREATE ROLE bob LOGIN', 'CREATE ROLE')], { sourceKey: null, source: 'test', position: '2' });
      held.release();
      await stored;

      // Dropping legacy is only seen on the snapshot's base: on the base read before it, legacy never existed.
      await pipeline.processBatch([auditLine(t0 + 3000, 'DROP ROLE legacy', 'DROP ROLE')], { sourceKey: null, source: 'test', position: '3' });
      assert.deepEqual(await roles(store), ['alice', 'bob']);
    } finally {
      other.closeSync();
      await store.close();
    }
  });


  it('replays the next batch on a snapshot stored in between, not on the base it read before', async () => {
    const store = await AuditStore.open(':memory:');
    try {
      const pipeline = await IngestPipeline.create(store);
      const t0 = Date.UTC(2026, 10, 20);
      await pipeline.processBatch([auditLine(t0, 'CREATE ROLE alice LOGIN', 'CREATE ROLE')], { sourceKey: null, source: 'test', position: '1' });
      assert.deepEqual(await roles(store), ['alice']);

      // The live server also has `legacy`, made before the trail began, and alice is a superuser there.
      await pipeline.exclusive((connection) => storeSnapshot(connection, snapshot(t0 + 1000, [{ rolname: 'alice', rolsuper: true }, { rolname: 'legacy', rolsuper: false }]), 365, pipeline.replayBases));
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
