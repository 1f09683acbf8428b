/**
 * Two `run` instances on a keyed hub with balanced ownership (the SDK's balancing over Azurite, the test
 * broker): a partition moves to the second instance while the first one is committing its batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../../support/eventhubs-broker/wait-until.js';
import { startEventHubsSource, type EventHubsSubscription } from '../../../../src/sources/eventhubs/index.js';
import type { HubEvent, SourceBatch } from '../../../../src/sources/source-batch.js';
import { MemoryStore, duplicatesAndMissing, expectedKeys } from '../memory-store.js';
import { balancedConfig } from './balanced-config.js';

const PARTITIONS = ['0', '1'];
const EVENTS = 50;

describe('balanced ownership: a partition moved while a batch is in flight', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  const open: EventHubsSubscription[] = [];
  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: 'keyed', partitionCount: PARTITIONS.length });
  });
  after(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await broker.stop();
    await azurite.stop();
    // @azure/event-hubs 6.0.0 leaves the token-renewal timer loop (45 min, util/timerLoop.ts via withAuth) of a
    // partition receiver whose processing ended in an error running after close(): the fenced instance's receiver
    // here. `run` exits 2 s after a clean stop regardless; this test process is ended after its cleanup.
    setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  });

  const startInstance = async (instanceId: string, store: { readPosition: MemoryStore['readPosition']; onBatch(batch: SourceBatch<HubEvent>): Promise<void> }, owned: { n: number }) => {
    const subscription = await startEventHubsSource({
      config: balancedConfig(broker, azurite, 'move', { maxBatchSize: 100 }),
      instanceId,
      closeTimeoutMs: 5_000,
      readPosition: store.readPosition,
      onBatch: (batch) => store.onBatch(batch),
      metrics: { ownedPartitions: { set: (value) => void (owned.n = value) } },
    });
    open.push(subscription);
    return subscription;
  };

  it('stores the batch in flight in one instance only: the old owner is refused, or the new one waits for it', async () => {
    for (const partition of PARTITIONS) broker.publish(partition, Array.from({ length: EVENTS }, (_, i) => ({ records: [{ partition, i }] })));
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    // A's commits hang until B owns a partition: the SDK's balancing takes one of A's two from it meanwhile.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inFlight = 0;
    const ownedA = { n: 0 };
    const ownedB = { n: 0 };
    await startInstance('a', {
      readPosition: storeA.readPosition,
      onBatch: async (batch) => {
        inFlight++;
        await released;
        await storeA.onBatch(batch);
      },
    }, ownedA);
    await waitUntil(() => inFlight === PARTITIONS.length, 'A committing a batch of each partition', 30_000);
    await startInstance('b', storeB, ownedB);
    await waitUntil(() => ownedB.n > 0, 'B given a partition by the balancing', 30_000);
    // B is reading it now (from the checkpoint, which A has not written): give it the time to store.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    release();

    const all = (): MemoryStore => {
      const union = new MemoryStore();
      union.rows.push(...storeA.rows, ...storeB.rows);
      return union;
    };
    await waitUntil(() => new Set(all().rows.map((r) => `${r.partitionId}/${r.sequenceNumber}`)).size >= PARTITIONS.length * EVENTS, 'every event stored', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a second copy would show by now
    const { duplicates, missing } = duplicatesAndMissing(all().counts(), expectedKeys(PARTITIONS.map(() => EVENTS)));
    assert.deepEqual({ duplicates: duplicates.length, missing: missing.length }, { duplicates: 0, missing: 0 }, `stored by both: ${duplicates.slice(0, 5).join(', ')}...`);
  });
});
