import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type EventPosition,
  type ReceivedEventData,
  type Subscription,
} from '@azure/event-hubs';
import { startEventHubsBroker, type EventHubsBroker } from './index.js';
import { waitUntil } from './wait-until.js';

const fastRetry = { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 20, timeoutInMs: 5_000 };

/** Subscribes to one partition (or all) and collects what arrives. */
function collect(
  client: EventHubConsumerClient,
  startPosition: EventPosition,
  partitionId?: string,
  ownerLevel?: number,
): { events: ReceivedEventData[]; errors: Error[]; subscription: Subscription } {
  const events: ReceivedEventData[] = [];
  const errors: Error[] = [];
  const handlers = {
    processEvents: async (batch: ReceivedEventData[]) => void events.push(...batch),
    processError: async (error: Error) => void errors.push(error),
  };
  const options = { startPosition, ownerLevel, maxBatchSize: 50, maxWaitTimeInSeconds: 0.2 };
  const subscription =
    partitionId === undefined ? client.subscribe(handlers, options) : client.subscribe(partitionId, handlers, options);
  return { events, errors, subscription };
}

describe('the Event Hubs test broker with the real SDK', () => {
  let broker: EventHubsBroker;
  let producer: EventHubProducerClient;
  const consumers: EventHubConsumerClient[] = [];
  const consumer = (): EventHubConsumerClient => {
    const client = new EventHubConsumerClient('$default', broker.connectionString, { retryOptions: fastRetry });
    consumers.push(client);
    return client;
  };

  before(async () => {
    broker = await startEventHubsBroker({ hubName: 'audit', partitionCount: 2 });
    producer = new EventHubProducerClient(broker.connectionString, { retryOptions: fastRetry });
  });
  after(async () => {
    await Promise.all(consumers.map((client) => client.close()));
    await producer.close();
    await broker.stop();
  });

  it('answers hub and partition properties through $management', async () => {
    const hub = await producer.getEventHubProperties();
    assert.equal(hub.name, 'audit');
    assert.deepEqual(hub.partitionIds, ['0', '1']);
    const empty = await producer.getPartitionProperties('1');
    assert.equal(empty.isEmpty, true);
    assert.equal(empty.lastEnqueuedSequenceNumber, -1);
  });

  it('stores producer batches with sequence numbers from 0 and delivers them from earliest', async () => {
    const batch = await producer.createBatch({ partitionId: '0' });
    for (let i = 0; i < 5; i++) assert.ok(batch.tryAdd({ body: { n: i } }));
    await producer.sendBatch(batch);
    await producer.sendBatch([{ body: 'plain text' }], { partitionId: '1' });

    const props = await producer.getPartitionProperties('0');
    assert.equal(props.isEmpty, false);
    assert.equal(props.beginningSequenceNumber, 0);
    assert.equal(props.lastEnqueuedSequenceNumber, 4);

    const { events, subscription } = collect(consumer(), earliestEventPosition);
    await waitUntil(() => events.length === 6, 'six events');
    await subscription.close();
    const partition0 = events.filter((event) => typeof event.body === 'object');
    assert.deepEqual(partition0.map((event) => event.sequenceNumber), [0, 1, 2, 3, 4]);
    assert.deepEqual(partition0.map((event) => event.body), [0, 1, 2, 3, 4].map((n) => ({ n })));
    assert.ok(partition0.every((event, i) => i === 0 || Number(event.offset) > Number(partition0[i - 1]!.offset)));
    assert.ok(events.some((event) => event.body === 'plain text'));
    assert.ok(events.every((event) => event.enqueuedTimeUtc instanceof Date));
  });

  it('honours sequence-number, offset and enqueued-time start positions, exclusive and inclusive', async () => {
    const stored = broker.events('0');
    const cases: Array<{ name: string; position: EventPosition; first: number }> = [
      { name: 'after sequence 2', position: { sequenceNumber: 2 }, first: 3 },
      { name: 'from sequence 2', position: { sequenceNumber: 2, isInclusive: true }, first: 2 },
      { name: 'after the offset of 1', position: { offset: String(stored[1]!.offset) }, first: 2 },
      { name: 'from the offset of 1', position: { offset: String(stored[1]!.offset), isInclusive: true }, first: 1 },
      { name: 'after a time before all', position: { enqueuedOn: new Date(stored[0]!.enqueuedTime - 1) }, first: 0 },
    ];
    for (const { name, position, first } of cases) {
      const { events, subscription } = collect(consumer(), position, '0');
      await waitUntil(() => events.length === 5 - first, name);
      await subscription.close();
      assert.deepEqual(events.map((event) => event.sequenceNumber), [0, 1, 2, 3, 4].slice(first), name);
    }
  });

  it('starts at the end for latest and delivers only what comes later', async () => {
    const { events, subscription } = collect(consumer(), { offset: '@latest' }, '0');
    await new Promise((resolve) => setTimeout(resolve, 500));
    broker.publish('0', [{ late: true }]);
    await waitUntil(() => events.length === 1, 'the late event');
    await subscription.close();
    assert.deepEqual(events[0]!.body, { late: true });
    assert.equal(events[0]!.sequenceNumber, 5);
  });

  it('keeps delivering without loss or duplicate after the broker drops every connection', async () => {
    const { events, subscription } = collect(consumer(), { sequenceNumber: 0 }, '1');
    broker.publish('1', Array.from({ length: 20 }, (_, i) => ({ i })));
    await waitUntil(() => events.length === 20, 'the first 20');
    broker.dropConnections();
    broker.publish('1', Array.from({ length: 20 }, (_, i) => ({ i: 20 + i })));
    await waitUntil(() => events.length >= 40, 'the next 20 after the reconnect');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await subscription.close();
    assert.deepEqual(events.map((event) => (event.body as { i: number }).i), Array.from({ length: 40 }, (_, i) => i));
  });

  it('lets a receiver with a higher epoch steal the partition and refuses a lower one', async () => {
    broker.publish('1', [{ before: 'steal' }]);
    // ownerLevel is the SDK's name for com.microsoft:epoch.
    const first = collect(consumer(), earliestEventPosition, '1', 1);
    await waitUntil(() => first.events.length > 0, `the first receiver to read ${first.errors.map(String).join()}`);
    const second = collect(consumer(), earliestEventPosition, '1', 2);
    await waitUntil(() => second.events.length > 0, 'the epoch-2 receiver to read');
    await waitUntil(() => first.errors.length > 0, 'the epoch-1 receiver to be told');
    assert.equal((first.errors[0] as Error & { code?: string }).code, 'ReceiverDisconnectedError');
    const before = first.events.length;
    broker.publish('1', [{ after: 'steal' }]);
    await waitUntil(() => second.events.some((event) => (event.body as { after?: string }).after === 'steal'), 'the new event');
    assert.equal(first.events.length, before, 'the robbed receiver gets nothing more');
    await first.subscription.close();
    await second.subscription.close();
  });

  it('serves several hubs of one namespace, each with its partitions, and keeps one partition key on one partition', async () => {
    const namespace = await startEventHubsBroker({ hubName: 'hub-one', partitionCount: 2, otherHubs: [{ hubName: 'hub-two', partitionCount: 3 }] });
    const producer2 = new EventHubProducerClient(namespace.namespaceConnectionString, 'hub-two', { retryOptions: fastRetry });
    const client = new EventHubConsumerClient('$default', namespace.namespaceConnectionString, 'hub-two', { retryOptions: fastRetry });
    try {
      assert.deepEqual((await producer2.getEventHubProperties()).partitionIds, ['0', '1', '2']);
      for (const server of ['pg-a', 'pg-b', 'pg-c']) {
        await producer2.sendBatch([1, 2, 3].map((n) => ({ body: { server, n } })), { partitionKey: server });
      }
      const partitionOf = (server: string): string[] =>
        ['0', '1', '2'].filter((id) => namespace.hub('hub-two').events(id).some((e) => JSON.parse(String((e.message.body as { content: Buffer }).content)).server === server));
      for (const server of ['pg-a', 'pg-b', 'pg-c']) assert.equal(partitionOf(server).length, 1, `${server} on one partition`);
      assert.equal(namespace.hub('hub-one').events('0').length + namespace.hub('hub-one').events('1').length, 0, 'nothing leaked into the other hub');
      const { events, subscription } = collect(client, earliestEventPosition);
      await waitUntil(() => events.length === 9, 'the nine events of hub-two');
      await subscription.close();
    } finally {
      await client.close();
      await producer2.close();
      await namespace.stop();
    }
  });
});
