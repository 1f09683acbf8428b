/**
 * Sessions from the server's own machine (loopback, the Unix socket) are marked `local_client`: on Azure that is
 * every client of the built-in PgBouncer, whose real address the log does not hold. New stores mark them as they
 * are ingested; a store from before the column gets it from its sessions' addresses, by the same test.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { isLocalClient } from '../../../src/analyze/sessions/local-client.js';
import { migrations } from '../../../src/store/migrations.js';
import { openDatabase, closeDatabase } from '../../../src/store/open-database.js';
import { IngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import { login } from '../../support/detection-records.js';

/** Client addresses as `connection received: host=` and csvlog's `connection_from` write them. */
const ADDRESSES: [string, boolean][] = [
  ['127.0.0.1', true], ['127.10.20.30', true], ['::1', true], ['::ffff:127.0.0.1', true], ['[local]', true], ['localhost', true],
  ['10.0.0.5', false], ['192.168.127.1', false], ['1270.0.0.1', false], ['fe80::1', false], ['::ffff:10.0.0.1', false], ['pgbouncer.internal', false],
];

describe('local clients', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-local-client-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [addr, local] of ADDRESSES) it(`${addr} is ${local ? '' : 'not '}a local client`, () => assert.equal(isLocalClient(addr), local));

  it('sessions are stored with local_client as their address says, NULL when it is not known', async () => {
    const store = await AuditStore.open(':memory:');
    const pipeline = await IngestPipeline.create(store);
    const at = new Date('2026-11-24T10:00:00Z');
    const records = ADDRESSES.flatMap(([host], i) => login({ user: `u${i}`, host, at }).records);
    const unknown = login({ user: 'nobody', at }).records.slice(1); // no `connection received` line
    await pipeline.processBatch([...records, ...unknown], { sourceKey: null, source: 'test', position: '1' });
    const rows = (await store.connection.runAndReadAll('SELECT user_name, client_addr, local_client FROM sessions')).getRowObjects();
    const byUser = new Map(rows.map((r) => [String(r.user_name), r]));
    ADDRESSES.forEach(([addr, local], i) => assert.equal(byUser.get(`u${i}`)?.local_client, local, addr));
    assert.equal(byUser.get('nobody')?.local_client, null);
    await store.close();
  });

  it('a store from before the column marks its sessions by the same test when it is opened', async () => {
    const path = join(dir, 'v7.duckdb');
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run('CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL, description VARCHAR)');
    for (const m of migrations.filter((m) => m.version <= 7)) {
      await c.run(m.sql);
      await c.run(`INSERT INTO schema_version VALUES (${m.version}, now(), 'test')`);
    }
    for (const [i, [addr]] of ADDRESSES.entries()) await c.run(`INSERT INTO sessions (server, session_id, client_addr) VALUES ('pg1', 's${i}', '${addr}')`);
    await c.run(`INSERT INTO sessions (server, session_id) VALUES ('pg1', 'unknown')`);
    c.closeSync();
    instance.closeSync();

    const db = await openDatabase(path);
    const rows = (await db.connection.runAndReadAll('SELECT session_id, local_client FROM sessions')).getRowObjects();
    const bySession = new Map(rows.map((r) => [String(r.session_id), r.local_client]));
    ADDRESSES.forEach(([addr, local], i) => assert.equal(bySession.get(`s${i}`), local, addr));
    assert.equal(bySession.get('unknown'), null);
    await closeDatabase(db);
  });
});
