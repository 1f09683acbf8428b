/**
 * `run` on a keyed hub with balanced ownership, the real SDK against the test broker and Azurite: a record
 * `auditduck route` published twice (a route instance killed before its checkpoint, or two route instances
 * reading one partition during a move) whose two events a partition move puts on different `run` instances.
 * Each store drops the origins it holds itself; the new owner must also drop those the old owner stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventHubProducerClient } from '@azure/event-hubs';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../../support/eventhubs-broker/wait-until.js';
import { originProperties } from '../../../../src/contracts/record-origin.js';
import { startEventHubsSource, type EventHubsSubscription } from '../../../../src/sources/eventhubs/index.js';
import { MemoryStore } from '../memory-store.js';
import { balancedConfig } from './balanced-config.js';

const SERVER = 'pg-1';

describe('balanced ownership: a routed record whose copy reaches another instance', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  const open: EventHubsSubscription[] = [];
  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: 'keyed', partitionCount: 1 });
  });
  after(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await broker.stop();
    await azurite.stop();
  });

  const startInstance = async (instanceId: string, store: MemoryStore): Promise<EventHubsSubscription> => {
    const subscription = await startEventHubsSource({
      config: balancedConfig(broker, azurite, 'copies'),
      instanceId,
      closeTimeoutMs: 5_000,
      readPosition: store.readPosition,
      onBatch: store.onBatch,
    });
    open.push(subscription);
    return subscription;
  };

  it('is stored once: the new owner drops the copy of what the old owner stored', async () => {
    const producer = new EventHubProducerClient(broker.connectionString);
    // As route publishes them: one record an event, keyed by server, origin partition 0 of the busy hub.
    const send = async (sequenceNumbers: number[]): Promise<void> => {
      const batch = await producer.createBatch({ partitionKey: SERVER });
      for (const sequenceNumber of sequenceNumbers) {
        const origin = { hub: 'busy', partitionId: '0', sequenceNumber, index: 0 };
        assert.ok(batch.tryAdd({ body: { records: [{ sequenceNumber }] }, properties: originProperties(origin) }));
      }
      await producer.sendBatch(batch);
    };
    try {
      await send([1, 2, 3, 4, 5]);
      const storeA = new MemoryStore();
      const a = await startInstance('a', storeA);
      await waitUntil(() => storeA.rows.length === 5, 'A storing the first five', 20_000);
      await a.close(); // the partition moves to B

      // A route instance that had not checkpointed 3..5 publishes them again, then goes on with 6.
      await send([3, 4, 5, 6]);
      const storeB = new MemoryStore();
      await startInstance('b', storeB);
      await waitUntil(() => storeB.rows.some((row) => row.origin?.endsWith('@6#0')), 'B storing origin 6', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));

      const origins = [...storeA.rows, ...storeB.rows].map((row) => row.origin!).sort();
      assert.deepEqual(origins, [1, 2, 3, 4, 5, 6].map((n) => `eventhubs:busy/0@${n}#0`), `A: ${storeA.rows.map((r) => r.origin).join(' ')}; B: ${storeB.rows.map((r) => r.origin).join(' ')}`);
    } finally {
      await producer.close();
    }
  });
});
