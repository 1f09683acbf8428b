/**
 * What the Event Hubs source does when a partition's history is not what the stored position expects:
 * events that expired unread are counted and reported, a position left from a hub deleted and created again
 * is dropped, a batch that fails with `retryable: true` is read again, and a partition it stops reading
 * loses its metric series. The real SDK against the test broker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEventHubsBroker, type EventHubsBroker } from '../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../support/eventhubs-broker/wait-until.js';
import { startEventHubsSource, type EventsLost } from '../../../src/sources/eventhubs/index.js';
import { PipelineMetrics } from '../../../src/web/metrics.js';
import { MemoryStore, duplicatesAndMissing, expectedKeys } from './memory-store.js';

const fast = {
  maxBatchSize: 5,
  maxWaitTimeInSeconds: 0.2,
  retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
};

const events = (from: number, count: number): unknown[] => Array.from({ length: count }, (_, i) => ({ records: [{ n: from + i }] }));
const stored = (store: MemoryStore, partition: string) => store.rows.filter((row) => row.partitionId === partition).map((row) => row.sequenceNumber);

describe('the Event Hubs source and a partition history with holes', () => {
  let broker: EventHubsBroker;
  before(async () => {
    broker = await startEventHubsBroker({ hubName: 'history', partitionCount: 1 });
  });
  after(async () => {
    await broker.stop();
  });

  it('reports the events that expired before they were read, and reads on from the first one retained', async () => {
    broker.publish('0', events(0, 10));
    const store = new MemoryStore();
    const first = await startEventHubsSource({ config: { connectionString: broker.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
    await waitUntil(() => store.rows.length === 10, 'the first 10 events');
    await first.close();

    // Down longer than the retention: 10..14 expire before anyone reads them.
    broker.publish('0', events(10, 10));
    broker.expire('0', 15);
    const lost: EventsLost[] = [];
    const second = await startEventHubsSource({
      config: { connectionString: broker.connectionString, ...fast },
      readPosition: store.readPosition,
      onBatch: store.onBatch,
      onEventsLost: async (gap) => void lost.push(gap),
    });
    await waitUntil(() => store.rows.length === 15, 'the retained events');
    await second.close();
    assert.deepEqual(stored(store, '0'), [...Array.from({ length: 10 }, (_, i) => i), 15, 16, 17, 18, 19]);
    assert.deepEqual(lost, [{ source: 'eventhubs:history/0', partitionId: '0', count: 5, afterSequenceNumber: 9, resumedAt: 15 }]);
  });

  it('reads a hub deleted and created again from its start, instead of waiting past its end for ever', async () => {
    const store = new MemoryStore();
    store.positions.set('eventhubs:127.0.0.1/history/$default/0', '19');
    broker.recreate();
    broker.publish('0', events(0, 3));
    const source = await startEventHubsSource({ config: { connectionString: broker.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
    try {
      await waitUntil(() => store.rows.length === 3, 'the events of the new hub', 15_000);
    } finally {
      await source.close();
    }
    assert.deepEqual(stored(store, '0'), [0, 1, 2]);
    assert.equal(store.positions.get('eventhubs:127.0.0.1/history/$default/0'), '2');
  });
});

describe('the Event Hubs source and a failing batch', () => {
  let broker: EventHubsBroker;
  before(async () => {
    broker = await startEventHubsBroker({ hubName: 'failing', partitionCount: 2 });
  });
  after(async () => {
    await broker.stop();
  });

  it('reads a batch again when storing it failed with an error marked retryable (the SDK would skip it)', async () => {
    broker.publish('0', events(0, 20));
    broker.publish('1', events(0, 20));
    const store = new MemoryStore();
    let failed = false;
    const source = await startEventHubsSource({
      config: { connectionString: broker.connectionString, ...fast },
      readPosition: store.readPosition,
      onBatch: async (batch) => {
        if (!failed && batch.items.some((item) => item.partitionId === '0' && item.sequenceNumber === 7)) {
          failed = true;
          // What some libraries attach to their errors; the SDK reads it as "skip this batch".
          throw Object.assign(new Error('the store is busy'), { retryable: true });
        }
        await store.onBatch(batch);
      },
    });
    try {
      await waitUntil(() => store.rows.length >= 40, 'every event', 20_000);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await source.close();
    }
    assert.ok(failed);
    assert.deepEqual(duplicatesAndMissing(store.counts(), expectedKeys([20, 20])), { duplicates: [], missing: [] });
  });

  it('reports lag in seconds as the age of the last stored event while behind', async () => {
    const hub = await startEventHubsBroker({ hubName: 'behind', partitionCount: 1 });
    hub.publish('0', events(0, 30));
    const store = new MemoryStore();
    store.commitDelayMs = 400;
    const metrics = new PipelineMetrics();
    const source = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch, metrics });
    try {
      await waitUntil(() => store.batches >= 2, 'two batches');
      const text = await metrics.registry.metrics();
      const events = Number(/auditduck_partition_lag_events\{partition="eventhubs:behind\/0"\} (\d+)/.exec(text)?.[1]);
      const seconds = Number(/auditduck_partition_lag_seconds\{partition="eventhubs:behind\/0"\} ([\d.]+)/.exec(text)?.[1]);
      assert.ok(events > 0, `lag ${events} events`);
      assert.ok(seconds >= 0.3, `lag ${seconds} s after two batches of 400 ms`);
    } finally {
      await source.close();
      await hub.stop();
    }
  });

  it('counts the partitions it owns and drops their series when it stops reading them', async () => {
    const store = new MemoryStore();
    const metrics = new PipelineMetrics();
    const source = await startEventHubsSource({ config: { connectionString: broker.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch, metrics });
    broker.publish('0', events(20, 5));
    await waitUntil(() => store.rows.length >= 5, 'new events');
    // The lag is set once the batch's commit returned, a moment after its rows are in.
    await new Promise((r) => setTimeout(r, 500));
    const before = await metrics.registry.metrics();
    assert.match(before, /auditduck_owned_partitions 2/);
    assert.match(before, /auditduck_partition_lag_events\{partition="eventhubs:failing\/0"\} 0/);
    assert.match(before, /auditduck_partition_lag_seconds\{partition="eventhubs:failing\/0"\} 0/);
    await source.close();
    const afterClose = await metrics.registry.metrics();
    assert.match(afterClose, /auditduck_owned_partitions 0/);
    assert.doesNotMatch(afterClose, /auditduck_partition_lag_events\{/);
    assert.doesNotMatch(afterClose, /auditduck_partition_lag_seconds\{/);
  });
});
