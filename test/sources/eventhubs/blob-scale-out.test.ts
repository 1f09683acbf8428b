import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../support/eventhubs-broker/wait-until.js';
import { startEventHubsSource, type EventHubsSubscription } from '../../../src/sources/eventhubs/index.js';
import { MemoryStore, duplicatesAndMissing, expectedKeys } from './memory-store.js';

const PARTITIONS = ['0', '1', '2', '3'];

describe('two instances sharing a consumer group through the blob checkpoint store (Azurite)', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  const open: EventHubsSubscription[] = [];

  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: 'shared', partitionCount: 4 });
  });
  after(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await broker.stop();
    await azurite.stop();
  });

  const startInstance = async (store: MemoryStore): Promise<EventHubsSubscription> => {
    const subscription = await startEventHubsSource({
      config: {
        connectionString: broker.connectionString,
        checkpointStore: 'blob',
        blobConnectionString: azurite.connectionString,
        blobContainer: 'checkpoints',
        maxBatchSize: 20,
        maxWaitTimeInSeconds: 0.2,
        loadBalancing: { updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 3_000 },
        retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
      },
      readPosition: store.readPosition,
      onBatch: store.onBatch,
    });
    open.push(subscription);
    return subscription;
  };

  /** partition → owner id, from the ownership blobs the SDK writes. */
  const owners = async (): Promise<Map<string, string>> => {
    const container = new ContainerClient(azurite.connectionString, 'checkpoints');
    const result = new Map<string, string>();
    for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
      const match = /\/ownership\/(\d+)$/.exec(blob.name);
      if (match?.[1] && blob.metadata?.ownerid) result.set(match[1], blob.metadata.ownerid);
    }
    return result;
  };

  const publishRound = (round: number): void => {
    for (const partition of PARTITIONS) {
      broker.publish(partition, Array.from({ length: 50 }, (_, i) => ({ records: [{ partition, round, i }] })));
    }
  };

  it('splits the partitions, stores every event once, and hands a closed instance\'s partitions to the other', async () => {
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    const a = await startInstance(storeA);
    const b = await startInstance(storeB);

    let split = new Map<string, string>();
    await waitUntil(() => {
      void owners().then((current) => (split = current));
      const perOwner = [...split.values()].reduce((acc, id) => acc.set(id, (acc.get(id) ?? 0) + 1), new Map<string, number>());
      return split.size === 4 && perOwner.size === 2 && [...perOwner.values()].every((n) => n === 2);
    }, 'two partitions each', 30_000);

    publishRound(0);
    publishRound(1);
    await waitUntil(() => storeA.rows.length + storeB.rows.length >= 400, 'the first 400 events', 30_000);
    const partitionsOf = (store: MemoryStore): string[] => [...new Set(store.rows.map((row) => row.partitionId))].sort();
    assert.equal(partitionsOf(storeA).length, 2, `A read ${partitionsOf(storeA).join()}`);
    assert.equal(partitionsOf(storeB).length, 2, `B read ${partitionsOf(storeB).join()}`);
    assert.deepEqual([...partitionsOf(storeA), ...partitionsOf(storeB)].sort(), PARTITIONS);

    await a.close();
    publishRound(2);
    await waitUntil(() => storeA.rows.length + storeB.rows.length >= 600, 'the 200 events after A closed', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await b.close();

    const union = new MemoryStore();
    union.rows.push(...storeA.rows, ...storeB.rows);
    const { duplicates, missing } = duplicatesAndMissing(union.counts(), expectedKeys([150, 150, 150, 150]));
    assert.deepEqual({ duplicates, missing }, { duplicates: [], missing: [] });
    assert.deepEqual(partitionsOf(storeB), PARTITIONS, 'B took over the partitions of A');
    assert.deepEqual(b.metrics().map((m) => m.partitionId), PARTITIONS);
  });
});
