import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { dedupSelect, fleetMembers, runFleetQuery, tablesNamedIn } from '../../src/query/fleet-query.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { openQueryTarget } from '../../src/query/query-target.js';
import { queryStore } from '../support/store-reader.js';
import { parsePeerUrl, peerEndpoint } from '../../src/query/fleet-peer.js';

describe('query --fleet', () => {
  it('names members after their store files, telling apart two files of one name', () => {
    assert.deepEqual(fleetMembers(['/vm1/auditduck.duckdb', '/vm2/auditduck.duckdb', 'b.duckdb']).map((m) => m.name), ['auditduck', 'auditduck-2', 'b']);
  });

  it('names a peer given by URL after its host and port (and a proxy path)', () => {
    assert.deepEqual(fleetMembers(['https://10.0.0.5:8081', 'https://10.0.0.6:8081/', 'https://proxy.example/auditduck-a/']).map((m) => m.name), ['10.0.0.5:8081', '10.0.0.6:8081', 'proxy.example/auditduck-a']);
  });

  it('takes a peer URL without credentials, query or fragment, and only with the fleet token', () => {
    assert.equal(parsePeerUrl('https://proxy.example/auditduck-a').href, 'https://proxy.example/auditduck-a/');
    assert.throws(() => parsePeerUrl('https://user:secret@10.0.0.5:8081'), /no credentials/);
    assert.throws(() => parsePeerUrl('https://10.0.0.5:8081/?token=x'), /no query or fragment/);
    assert.throws(() => parsePeerUrl('ftp://10.0.0.5'), /http or https/);
    assert.throws(() => peerEndpoint('https://10.0.0.5:8081', undefined), /set AUDITDUCK_QUERY_API_TOKEN/);
    assert.throws(() => peerEndpoint('https://10.0.0.5:8081', 'too-short'), /at least 32 characters/);
    assert.equal(new URL('api/query', peerEndpoint('https://proxy.example/a', 'x'.repeat(32)).base).href, 'https://proxy.example/a/api/query');
  });

  it('fetches only the tables the SQL names', () => {
    const tables = ['log_records', 'audit_events', 'alerts', 'sessions'];
    assert.deepEqual(tablesNamedIn('SELECT a.user_name FROM audit_events a JOIN sessions s USING (session_id)', tables), ['audit_events', 'sessions']);
    assert.deepEqual(tablesNamedIn('select count(*) from LOG_RECORDS', tables), ['log_records']);
    assert.deepEqual(tablesNamedIn("SELECT 'alerts_x' AS alerts_total", tables), []);
  });

  it('keeps one copy per (source, position): all rows of the first member that holds it, rows without a position all', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run(`CREATE TABLE privilege_changes__all AS SELECT * FROM (VALUES
        ('eventhubs:h/0', '7#0', 'grant a', 'x', 0), ('eventhubs:h/0', '7#0', 'grant b', 'x', 0),
        ('eventhubs:h/0', '7#0', 'grant a', 'y', 1), ('eventhubs:h/0', '7#0', 'grant b', 'y', 1),
        ('eventhubs:h/1', '3#0', 'revoke', 'y', 1),
        ('eventhubs:h/1', NULL, 'dead letter', 'x', 0), ('eventhubs:h/1', NULL, 'dead letter', 'y', 1)
      ) AS t(source, position, what, fleet_member, fleet_order)`);
      const reader = await c.runAndReadAll(`${dedupSelect('privilege_changes', ['source', 'position', 'what'])} ORDER BY ALL`);
      assert.deepEqual(reader.getRowObjectsJson(), [
        { source: 'eventhubs:h/0', position: '7#0', what: 'grant a', fleet_member: 'x' },
        { source: 'eventhubs:h/0', position: '7#0', what: 'grant b', fleet_member: 'x' },
        { source: 'eventhubs:h/1', position: '3#0', what: 'revoke', fleet_member: 'y' },
        { source: 'eventhubs:h/1', position: null, what: 'dead letter', fleet_member: 'x' },
        { source: 'eventhubs:h/1', position: null, what: 'dead letter', fleet_member: 'y' },
      ]);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('merges a session held by two stores (a takeover split its lines) into one row: what either knows, its latest end', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      // x (the old leader) read the connection lines; y (the new one) the disconnection and its pid.
      await c.run(`CREATE TABLE sessions__all AS SELECT * FROM (VALUES
        ('s1', 'a.1', NULL, TIMESTAMPTZ '2026-12-01 10:00:00Z', NULL, 'alice', 'app', '10.0.0.9', 'x', 0),
        ('s1', 'a.1', 4242, NULL, TIMESTAMPTZ '2026-12-01 11:00:00Z', NULL, NULL, NULL, 'y', 1),
        ('s1', 'b.2', 7, TIMESTAMPTZ '2026-12-01 10:30:00Z', NULL, 'bob', NULL, NULL, 'y', 1)
      ) AS t(server, session_id, pid, started_at, ended_at, user_name, database_name, client_addr, fleet_member, fleet_order)`);
      const columns = ['server', 'session_id', 'pid', 'started_at', 'ended_at', 'user_name', 'database_name', 'client_addr'];
      const reader = await c.runAndReadAll(`SELECT * FROM (${dedupSelect('sessions', columns)}) ORDER BY session_id`);
      assert.deepEqual(reader.getRowObjectsJson(), [
        { server: 's1', session_id: 'a.1', pid: 4242, started_at: '2026-12-01 10:00:00+00', ended_at: '2026-12-01 11:00:00+00', user_name: 'alice', database_name: 'app', client_addr: '10.0.0.9', fleet_member: 'x' },
        { server: 's1', session_id: 'b.2', pid: 7, started_at: '2026-12-01 10:30:00+00', ended_at: null, user_name: 'bob', database_name: null, client_addr: null, fleet_member: 'y' },
      ]);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it("the fleet's sessions of two stores that each read one partition are one store's sessions: one row per session", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-sessions-'));
    try {
      const [a, b, whole] = ['a', 'b', 'whole'].map((name) => join(dir, `${name}.duckdb`)) as [string, string, string];
      const ingest = (db: string, files: string[]) => ingestFiles(files, { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: pino({ level: 'silent' }) });
      // Diagnostic settings spread a server's lines over every partition: one store per partition splits sessions.
      await ingest(a, ['samples/eventhubs/partition-0.jsonl']);
      await ingest(b, ['samples/eventhubs/partition-1.jsonl']);
      await ingest(whole, ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl']);
      const sql = 'SELECT server, session_id, pid, started_at, ended_at, user_name, database_name, application_name, client_addr, client_port, auth_method, ssl FROM sessions ORDER BY server, session_id';
      const idsOf = async (db: string) => new Set((await queryStore(db, 'SELECT server, session_id FROM sessions')).map((r) => `${r.server}/${r.session_id}`));
      const inA = await idsOf(a);
      assert.ok([...(await idsOf(b))].some((id) => inA.has(id)), 'some sessions are in both stores');
      const fleet = (await runFleetQuery(fleetMembers([a, b]), sql)).rows;
      const target = await openQueryTarget(whole);
      try {
        assert.deepEqual(fleet, (await target.run(sql)).rows);
      } finally {
        await target.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
