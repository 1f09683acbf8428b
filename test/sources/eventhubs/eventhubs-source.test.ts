import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEventHubsBroker, type EventHubsBroker } from '../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../support/eventhubs-broker/wait-until.js';
import { startEventHubsSource, type EventHubsSubscription } from '../../../src/sources/eventhubs/index.js';
import { MemoryStore, duplicatesAndMissing, expectedKeys } from './memory-store.js';

const fast = {
  maxBatchSize: 25,
  maxWaitTimeInSeconds: 0.2,
  retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
};

function records(partition: string, from: number, count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => ({ records: [{ partition, n: from + i }] }));
}

describe('the Event Hubs source against the test broker', () => {
  let broker: EventHubsBroker;
  const open: EventHubsSubscription[] = [];

  before(async () => {
    broker = await startEventHubsBroker({ hubName: 'pglogs', partitionCount: 2 });
  });
  after(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await broker.stop();
  });

  it('stores every event of two partitions exactly once, with keys, labels and positions per partition', async () => {
    broker.publish('0', records('0', 0, 120));
    broker.publish('1', records('1', 0, 80));
    const store = new MemoryStore();
    const lag = new Map<string, number>();
    const source = await startEventHubsSource({
      config: { connectionString: broker.connectionString, ...fast },
      readPosition: store.readPosition,
      onBatch: store.onBatch,
      metrics: { partitionLag: { set: ({ partition }, value) => void lag.set(partition, value) } },
    });
    open.push(source);
    await waitUntil(() => store.rows.length >= 200, '200 rows');
    await source.close();

    const { duplicates, missing } = duplicatesAndMissing(store.counts(), expectedKeys([120, 80]));
    assert.deepEqual({ duplicates, missing }, { duplicates: [], missing: [] });
    assert.equal(store.positions.get('eventhubs:127.0.0.1/pglogs/$default/0'), '119');
    assert.equal(store.positions.get('eventhubs:127.0.0.1/pglogs/$default/1'), '79');
    assert.ok(store.rows.every((row) => row.source === `eventhubs:pglogs/${row.partitionId}`));
    assert.deepEqual(store.rows.find((row) => row.partitionId === '1' && row.sequenceNumber === 5)?.body, { records: [{ partition: '1', n: 5 }] });
    assert.ok(store.batches >= 8, 'batches are at most maxBatchSize events');

    const metrics = source.metrics();
    assert.deepEqual(metrics.map((m) => [m.partitionId, m.events, m.lastSequenceNumber, m.lag]), [['0', 120, 119, 0], ['1', 80, 79, 0]]);
    assert.deepEqual(Object.fromEntries(lag), { 'eventhubs:pglogs/0': 0, 'eventhubs:pglogs/1': 0 });
  });

  it('passes JSON bodies parsed, other bytes as a Buffer and AMQP strings as strings', async () => {
    const hub = await startEventHubsBroker({ hubName: 'bodies', partitionCount: 1 });
    try {
      hub.publish('0', [{ records: [] }, Buffer.from('not json {'), 'a plain string']);
      const store = new MemoryStore();
      const source = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
      await waitUntil(() => store.rows.length >= 3, 'three rows');
      await source.close();
      assert.deepEqual(store.rows[0]!.body, { records: [] });
      assert.ok(Buffer.isBuffer(store.rows[1]!.body));
      assert.equal((store.rows[1]!.body as Buffer).toString(), 'not json {');
      assert.equal(store.rows[2]!.body, 'a plain string');
    } finally {
      await hub.stop();
    }
  });

  it('resumes strictly after the committed position on restart: no duplicate, no loss', async () => {
    const store = new MemoryStore();
    store.commitDelayMs = 20;
    const hubName = 'restart';
    const hub = await startEventHubsBroker({ hubName, partitionCount: 2 });
    try {
      hub.publish('0', records('0', 0, 300));
      hub.publish('1', records('1', 0, 300));
      for (let round = 0; round < 3; round++) {
        const source = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast, maxBatchSize: 10 }, readPosition: store.readPosition, onBatch: store.onBatch });
        const target = store.batches + 6;
        await waitUntil(() => store.batches >= target, `six more batches in round ${round}`);
        await source.close();
        hub.publish('1', records('1', 300 + round * 10, 10));
      }
      const last = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
      await waitUntil(() => store.rows.length >= 630, 'all 630 rows');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await last.close();
      const { duplicates, missing } = duplicatesAndMissing(store.counts(), expectedKeys([300, 330]));
      assert.deepEqual({ duplicates, missing }, { duplicates: [], missing: [] });
    } finally {
      await hub.stop();
    }
  });

  it('starts a partition never seen at latest or at a time when told so, and resumes a seen one anyway', async () => {
    const hub = await startEventHubsBroker({ hubName: 'positions', partitionCount: 2 });
    try {
      hub.publish('0', records('0', 0, 5));
      hub.publish('1', records('1', 0, 5));
      const store = new MemoryStore();
      // Partition 1 was seen up to 2; partition 0 never.
      store.positions.set('eventhubs:127.0.0.1/positions/$default/1', '2');
      const source = await startEventHubsSource({
        config: { connectionString: hub.connectionString, ...fast, startPosition: 'latest' },
        readPosition: store.readPosition,
        onBatch: store.onBatch,
      });
      await waitUntil(() => store.rows.length >= 2, 'the rest of partition 1');
      await new Promise((resolve) => setTimeout(resolve, 400));
      hub.publish('0', records('0', 5, 1));
      await waitUntil(() => store.rows.length >= 3, 'the new event of partition 0');
      await source.close();
      assert.deepEqual(store.rows.map((row) => `${row.partitionId}/${row.sequenceNumber}`).sort(), ['0/5', '1/3', '1/4']);

      const timed = new MemoryStore();
      const cut = new Date(hub.events('0')[4]!.enqueuedTime);
      const fromTime = await startEventHubsSource({
        config: { connectionString: hub.connectionString, ...fast, startPosition: cut.toISOString() },
        readPosition: timed.readPosition,
        onBatch: timed.onBatch,
      });
      await waitUntil(() => timed.rows.some((row) => row.partitionId === '0'), 'partition 0 from the time');
      await fromTime.close();
      assert.ok(timed.rows.filter((row) => row.partitionId === '0').every((row) => hub.events('0')[row.sequenceNumber]!.enqueuedTime > cut.getTime()));
    } finally {
      await hub.stop();
    }
  });

  it('reads a batch again when its commit failed, and never skips it', async () => {
    const hub = await startEventHubsBroker({ hubName: 'failing', partitionCount: 1 });
    try {
      const store = new MemoryStore();
      store.failNextCommit = true;
      hub.publish('0', records('0', 0, 40));
      const source = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
      await waitUntil(() => store.rows.length >= 40, 'all 40 rows after the failed commit', 30_000);
      await source.close();
      const { duplicates, missing } = duplicatesAndMissing(store.counts(), expectedKeys([40]));
      assert.deepEqual({ duplicates, missing }, { duplicates: [], missing: [] });
    } finally {
      await hub.stop();
    }
  });

  it('reconnects after the broker drops every connection and continues without loss or duplicate', async () => {
    const hub = await startEventHubsBroker({ hubName: 'dropping', partitionCount: 2 });
    try {
      const store = new MemoryStore();
      const source = await startEventHubsSource({ config: { connectionString: hub.connectionString, ...fast }, readPosition: store.readPosition, onBatch: store.onBatch });
      hub.publish('0', records('0', 0, 50));
      hub.publish('1', records('1', 0, 50));
      await waitUntil(() => store.rows.length >= 100, 'the first 100');
      hub.dropConnections();
      hub.publish('0', records('0', 50, 50));
      hub.publish('1', records('1', 50, 50));
      await waitUntil(() => store.rows.length >= 200, 'the 100 after the drop', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await source.close();
      const { duplicates, missing } = duplicatesAndMissing(store.counts(), expectedKeys([100, 100]));
      assert.deepEqual({ duplicates, missing }, { duplicates: [], missing: [] });
    } finally {
      await hub.stop();
    }
  });

  it('finishes the batch in flight on close before it returns', async () => {
    const hub = await startEventHubsBroker({ hubName: 'closing', partitionCount: 1 });
    try {
      const store = new MemoryStore();
      store.commitDelayMs = 500;
      hub.publish('0', records('0', 0, 10));
      let started = 0;
      const source = await startEventHubsSource({
        config: { connectionString: hub.connectionString, ...fast },
        readPosition: store.readPosition,
        onBatch: async (batch) => {
          started++;
          await store.onBatch(batch);
        },
      });
      await waitUntil(() => started === 1, 'a batch to be committing');
      await source.close();
      assert.equal(store.batches, 1, 'the batch that was committing is committed before close returns');
      assert.equal(store.positions.get('eventhubs:127.0.0.1/closing/$default/0'), String(store.rows.at(-1)!.sequenceNumber));
    } finally {
      await hub.stop();
    }
  });
});
