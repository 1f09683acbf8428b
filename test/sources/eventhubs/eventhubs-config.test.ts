import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEventHubsSourceConfig, resolveHubTarget } from '../../../src/sources/eventhubs/index.js';

const secret = 'c2VjcmV0LWtleS12YWx1ZQ==';
const connectionString = `Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${secret};EntityPath=pglogs`;

describe('the Event Hubs source configuration', () => {
  it('fills the defaults the source relies on', () => {
    const config = parseEventHubsSourceConfig({ connectionString });
    assert.equal(config.consumerGroup, '$default');
    assert.equal(config.startPosition, 'earliest');
    assert.equal(config.maxBatchSize, 500);
    assert.equal(config.maxWaitTimeInSeconds, 1);
    assert.equal(config.checkpointStore, 'duckdb');
    assert.equal(config.trackLastEnqueuedEventProperties, true);
    assert.deepEqual(config.leadership, { leaseTimeMs: 30_000, heartbeatMs: 5_000, inDoubtTimeoutMs: 300_000 });
  });

  const invalid: Array<{ name: string; input: Record<string, unknown>; field: string }> = [
    { name: 'both a connection string and a namespace', input: { connectionString, namespace: 'myns.servicebus.windows.net' }, field: 'eventHubs.(object)' },
    { name: 'neither a connection string nor a namespace', input: { hubName: 'pglogs' }, field: 'eventHubs.(object)' },
    { name: 'a start position that is no time', input: { connectionString, startPosition: 'yesterday' }, field: 'eventHubs.startPosition' },
    { name: 'blob without a storage account', input: { connectionString, checkpointStore: 'blob' }, field: 'eventHubs.(object)' },
    { name: 'an unknown field', input: { connectionString, batchSize: 10 }, field: 'eventHubs' },
    // The SDK reads the EntityPath hub while positions would be kept under hubName's: two hubs mixed up.
    { name: 'a hubName other than the EntityPath of the connection string', input: { connectionString, hubName: 'other-hub' }, field: 'eventHubs.hubName' },
    // Two missed heartbeats would already hand the hub over: leaders would flap on a slow network.
    {
      name: 'a heartbeat longer than a third of the lease time',
      input: { connectionString, leadership: { leaseTimeMs: 10_000, heartbeatMs: 4_000 } },
      field: 'eventHubs.leadership.heartbeatMs',
    },
    {
      name: 'the balanced load balancing of earlier versions (it split sessions and stored batches twice)',
      input: { connectionString, loadBalancing: { updateIntervalInMs: 10_000 } },
      field: 'eventHubs',
    },
  ];
  for (const { name, input, field } of invalid) {
    it(`rejects ${name}, naming the field and never the key`, () => {
      assert.throws(
        () => parseEventHubsSourceConfig(input),
        (error: Error) => error.message.includes(field) && !error.message.includes(secret),
      );
    });
  }

  it('accepts a hubName that is the EntityPath (in any case)', () => {
    assert.equal(parseEventHubsSourceConfig({ connectionString, hubName: 'PGLOGS' }).hubName, 'PGLOGS');
  });

  it('accepts an ISO time as the start position', () => {
    assert.equal(parseEventHubsSourceConfig({ connectionString, startPosition: '2026-11-24T14:00:00Z' }).startPosition, '2026-11-24T14:00:00Z');
  });

  it('takes the hub from EntityPath and the namespace host from Endpoint, without port or scheme', () => {
    assert.deepEqual(resolveHubTarget(parseEventHubsSourceConfig({ connectionString })), { namespaceHost: 'myns.servicebus.windows.net', hubName: 'pglogs' });
    const local = 'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true';
    assert.deepEqual(resolveHubTarget(parseEventHubsSourceConfig({ connectionString: local, hubName: 'h' })), { namespaceHost: '127.0.0.1', hubName: 'h' });
    assert.deepEqual(resolveHubTarget(parseEventHubsSourceConfig({ namespace: 'myns.servicebus.windows.net', hubName: 'h' })), { namespaceHost: 'myns.servicebus.windows.net', hubName: 'h' });
  });

  it('asks for a hub name when neither the config nor the connection string gives one', () => {
    assert.throws(() => resolveHubTarget(parseEventHubsSourceConfig({ namespace: 'myns.servicebus.windows.net' })), /AUDITDUCK_EVENTHUB_NAME/);
  });
});
