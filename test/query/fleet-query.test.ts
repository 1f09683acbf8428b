import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { dedupSelect, fleetMembers, tablesNamedIn } from '../../src/query/fleet-query.js';
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
});
