/**
 * A `run` instance on a keyed hub (balanced ownership) killed with SIGKILL leaves its ownership blobs claimed
 * under its id, fresh for `ownershipExpirationMs`. Restarted with the same id, it must read again at once: the
 * SDK's balanced strategy counts those stale claims as this instance's fair share (so it claims nothing) but
 * renews only partitions it is receiving from, so without help the partitions sit unread until the claims expire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventHubConsumerClient } from '@azure/event-hubs';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../../support/eventhubs-broker/wait-until.js';
import { BlobCheckpointStore } from '../../../../src/sources/eventhubs/balanced/blob-checkpoint-store.js';
import { startEventHubsSource, type EventHubsSubscription } from '../../../../src/sources/eventhubs/index.js';
import { MemoryStore } from '../memory-store.js';
import { balancedConfig } from './balanced-config.js';

const PARTITIONS = ['0', '1'];
const CONTAINER = 'restart';

describe('balanced ownership: an instance restarted after a kill', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  let subscription: EventHubsSubscription | undefined;
  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: 'keyed', partitionCount: PARTITIONS.length });
  });
  after(async () => {
    await subscription?.close();
    await broker.stop();
    await azurite.stop();
  });

  it('reads its partitions again at once, not after its own stale claims expire', async () => {
    // What the killed instance left: both partitions claimed by 'a' a moment ago, never released.
    const container = new ContainerClient(azurite.connectionString, CONTAINER);
    await container.create();
    const probe = new EventHubConsumerClient('$default', broker.connectionString);
    const { fullyQualifiedNamespace, eventHubName } = probe;
    await probe.close();
    const won = await new BlobCheckpointStore(container).claimOwnership(
      PARTITIONS.map((partitionId) => ({ fullyQualifiedNamespace, eventHubName, consumerGroup: '$default', partitionId, ownerId: 'a' })),
    );
    assert.equal(won.length, PARTITIONS.length);
    for (const partition of PARTITIONS) broker.publish(partition, [{ records: [{ partition }] }]);

    const store = new MemoryStore();
    const owned = { n: 0 };
    const started = Date.now();
    subscription = await startEventHubsSource({
      // The stale claims would hold for a minute: far past the wait below.
      config: balancedConfig(broker, azurite, CONTAINER, { balancing: { updateIntervalMs: 200, ownershipExpirationMs: 60_000 } }),
      instanceId: 'a',
      closeTimeoutMs: 5_000,
      readPosition: store.readPosition,
      onBatch: store.onBatch,
      metrics: { ownedPartitions: { set: (value) => void (owned.n = value) } },
    });
    await waitUntil(() => store.rows.length === PARTITIONS.length, 'both partitions read again', 15_000);
    assert.equal(owned.n, PARTITIONS.length);
    assert.ok(Date.now() - started < 15_000);
  });
});
