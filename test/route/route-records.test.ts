import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { originPosition, originSource, parseOrigin } from '../../src/contracts/record-origin.js';
import { FALLBACK_PARTITION_KEY, routeEvent, serverKey } from '../../src/route/route-records.js';

const record = (server: string, message: string) => ({
  time: '2026-12-01T10:00:00.000Z',
  resourceId: `/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/${server.toUpperCase()}`,
  category: 'PostgreSQLLogs',
  properties: { message },
});

const bodyOf = (event: { body: unknown }) => JSON.parse((event.body as Buffer).toString('utf8')) as { records: unknown[] };

describe('route: one event per record, keyed by server, carrying its origin', () => {
  const body = { records: [record('pg-a', 'one'), record('pg-b', 'two'), record('pg-a', 'three')] };
  const routed = routeEvent({ body, sequenceNumber: 41 }, { hub: 'pg-logs', partitionId: '3' });

  it('keys each record by its server, lowercase, from the resource id', () => {
    assert.deepEqual(routed.map((r) => r.partitionKey), ['pg-a', 'pg-b', 'pg-a']);
  });

  it('wraps each record in an envelope of one, unchanged', () => {
    assert.deepEqual(routed.map(bodyOf), body.records.map((r) => ({ records: [r] })));
  });

  it('carries hub, partition, sequence number and index as application properties, read back as the origin', () => {
    assert.deepEqual(routed[1]!.properties, {
      'auditduck-origin-hub': 'pg-logs',
      'auditduck-origin-partition': '3',
      'auditduck-origin-sequence': 41,
      'auditduck-origin-index': 1,
    });
    const origin = parseOrigin(routed[2]!.properties)!;
    assert.deepEqual(origin, { hub: 'pg-logs', partitionId: '3', sequenceNumber: 41, index: 2 });
    // Stored under the source and position reading pg-logs directly gives the record.
    assert.equal(originSource(origin), 'eventhubs:pg-logs/3');
    assert.equal(originPosition(origin), '41#2');
  });

  it('prefers LogicalServerName, and keys an Activity Log change under the server it is about', () => {
    assert.equal(serverKey({ LogicalServerName: 'PG-Single', resourceId: '/x/y' }), 'pg-single');
    assert.equal(
      serverKey({ resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/PG-C/firewallRules/AllowAll' }),
      'pg-c',
    );
  });

  it('forwards a record that names no server, and a body that is not an envelope, under the fallback key', () => {
    const [noServer] = routeEvent({ body: { records: [{ category: 'PostgreSQLLogs', properties: { message: 'x' } }] }, sequenceNumber: 7 }, { hub: 'h', partitionId: '0' });
    assert.equal(noServer!.partitionKey, FALLBACK_PARTITION_KEY);
    assert.equal(noServer!.origin.index, 0);
    const raw = Buffer.from('not json at all');
    const [whole, ...rest] = routeEvent({ body: raw, sequenceNumber: 8 }, { hub: 'h', partitionId: '0' });
    assert.equal(rest.length, 0);
    assert.equal(whole!.partitionKey, FALLBACK_PARTITION_KEY);
    assert.equal(whole!.body, raw);
    assert.equal(whole!.properties['auditduck-origin-index'], undefined);
    assert.equal(originPosition(parseOrigin(whole!.properties)!), '8');
  });

  it('reads an envelope that arrives as bytes or text', () => {
    for (const raw of [Buffer.from(JSON.stringify(body)), JSON.stringify(body)]) {
      assert.deepEqual(routeEvent({ body: raw, sequenceNumber: 1 }, { hub: 'h', partitionId: '0' }).map((r) => r.partitionKey), ['pg-a', 'pg-b', 'pg-a']);
    }
  });
});

describe('parseOrigin', () => {
  it('is null for an event route did not write, or a damaged origin', () => {
    assert.equal(parseOrigin(undefined), null);
    assert.equal(parseOrigin({ other: 1 }), null);
    assert.equal(parseOrigin({ 'auditduck-origin-hub': 'h', 'auditduck-origin-partition': '0', 'auditduck-origin-sequence': -1 }), null);
    assert.equal(parseOrigin({ 'auditduck-origin-hub': 'h', 'auditduck-origin-partition': '0', 'auditduck-origin-sequence': 5, 'auditduck-origin-index': 'x' }), null);
  });
});
