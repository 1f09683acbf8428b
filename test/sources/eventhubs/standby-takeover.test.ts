/**
 * Two instances on one hub with the blob checkpoint store (Azurite): whatever the moment a second instance
 * starts or the first one stops, every event lands in exactly one of the two stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../support/eventhubs-broker/index.js';
import { waitUntil } from '../../support/eventhubs-broker/wait-until.js';
import { startEventHubsSource, type EventHubsSubscription, type SessionHandoverBody, type SourceMetricsSink } from '../../../src/sources/eventhubs/index.js';
import { MemoryStore, duplicatesAndMissing, expectedKeys } from './memory-store.js';
import type { HubEvent, SourceBatch } from '../../../src/sources/source-batch.js';

const PARTITIONS = ['0', '1', '2', '3'];

/** Stands in for the pipeline's sessions: what it "knows" is the events it observed (or took over). */
class SessionsProbe implements SessionHandoverBody {
  readonly known = new Set<string>();
  takenOver: string[] | null = null;
  /** Who took it over, and which batches it was told some store committed. */
  adoptedAs: { self: string; committed: (source: string, position: string) => boolean } | null = null;
  private changes = 0;
  observe(batch: SourceBatch<HubEvent>): void {
    for (const item of batch.items) this.known.add(`${item.partitionId}/${item.sequenceNumber}`);
    this.changes++;
  }
  version(): number {
    return this.changes;
  }
  encode(): Uint8Array {
    return Buffer.from(JSON.stringify([...this.known]));
  }
  adopt(body: Uint8Array, from?: { self: string; committed: (source: string, position: string) => boolean }): number {
    this.adoptedAs = from ?? null;
    this.takenOver = JSON.parse(Buffer.from(body).toString('utf8')) as string[];
    return this.takenOver.length;
  }
  waiting(): boolean {
    return false;
  }
  async fill(): Promise<number> {
    return 0;
  }
}
const BACKLOG = 1_000;

describe('two instances on one hub through the blob checkpoint store (Azurite)', () => {
  let azurite: AzuriteBlob;
  const brokers: EventHubsBroker[] = [];
  const open: EventHubsSubscription[] = [];

  before(async () => {
    azurite = await startAzuriteBlob();
  });
  after(async () => {
    await Promise.all(open.map((subscription) => subscription.close()));
    await Promise.all(brokers.map((broker) => broker.stop()));
    await azurite.stop();
  });

  const startInstance = async (broker: EventHubsBroker, container: string, store: MemoryStore, instanceId: string, metrics?: SourceMetricsSink, sessions?: SessionHandoverBody): Promise<EventHubsSubscription> => {
    const subscription = await startEventHubsSource({
      config: {
        connectionString: broker.connectionString,
        checkpointStore: 'blob',
        blobConnectionString: azurite.connectionString,
        blobContainer: container,
        maxBatchSize: 20,
        maxWaitTimeInSeconds: 0.2,
        leadership: { leaseTimeMs: 5_000, heartbeatMs: 1_000 },
        retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
      },

      instanceId,
      ...(metrics ? { metrics } : {}),
      ...(sessions ? { sessions } : {}),
      readPosition: store.readPosition,
      onBatch: store.onBatch,
    });
    open.push(subscription);
    return subscription;
  };

  const publishBacklog = (broker: EventHubsBroker): void => {
    for (const partition of PARTITIONS) {
      broker.publish(partition, Array.from({ length: BACKLOG }, (_, i) => ({ records: [{ partition, i }] })));
    }
  };

  const union = (...stores: MemoryStore[]): MemoryStore => {
    const all = new MemoryStore();
    for (const store of stores) all.rows.push(...store.rows);
    return all;
  };

  it('stores nothing twice when a second instance starts during a backlog', async () => {
    const broker = await startEventHubsBroker({ hubName: 'backlog', partitionCount: 4 });
    brokers.push(broker);
    publishBacklog(broker);
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    storeA.commitDelayMs = storeB.commitDelayMs = 60;
    await startInstance(broker, 'second-start', storeA, 'a');
    await waitUntil(() => storeA.rows.length >= 200, 'A to be working through the backlog', 30_000);
    await startInstance(broker, 'second-start', storeB, 'b');
    const total = PARTITIONS.length * BACKLOG;
    await waitUntil(() => new Set(union(storeA, storeB).rows.map((r) => `${r.partitionId}/${r.sequenceNumber}`)).size >= total, 'the whole backlog', 60_000);
    // Long enough for a second reader of a partition to show itself.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { duplicates, missing } = duplicatesAndMissing(union(storeA, storeB).counts(), expectedKeys(PARTITIONS.map(() => BACKLOG)));
    assert.deepEqual({ duplicates: duplicates.length, missing: missing.length }, { duplicates: 0, missing: 0 }, `stored twice: ${duplicates.slice(0, 5).join(', ')}...`);
  });

  it('hands the hub to the standby when the leader stops, mid-backlog, without a gap or a copy', async () => {
    const broker = await startEventHubsBroker({ hubName: 'handover', partitionCount: 4 });
    brokers.push(broker);
    publishBacklog(broker);
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    storeA.commitDelayMs = storeB.commitDelayMs = 60;
    const a = await startInstance(broker, 'handover', storeA, 'a');
    const b = await startInstance(broker, 'handover', storeB, 'b');
    assert.equal(a.leadership?.().role, 'leader');
    assert.equal(b.leadership?.().role, 'standby');
    await waitUntil(() => storeA.rows.length >= 300, 'A to be working through the backlog', 30_000);
    await a.close();
    const total = PARTITIONS.length * BACKLOG;
    await waitUntil(() => storeA.rows.length + storeB.rows.length >= total, 'the rest of the backlog through B', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(b.leadership?.().role, 'leader');
    assert.ok(storeB.rows.length > 0 && storeA.rows.length < total, 'both stored a part');
    const { duplicates, missing } = duplicatesAndMissing(union(storeA, storeB).counts(), expectedKeys(PARTITIONS.map(() => BACKLOG)));
    assert.deepEqual({ duplicates: duplicates.length, missing: missing.length }, { duplicates: 0, missing: 0 });
  });

  it('reports a caught-up partition with lag 0 (not null) after a takeover, in its metrics and its lag gauge', async () => {
    const broker = await startEventHubsBroker({ hubName: 'caught-up', partitionCount: 4 });
    brokers.push(broker);
    for (const partition of PARTITIONS) broker.publish(partition, Array.from({ length: 50 }, (_, i) => ({ records: [{ partition, i }] })));
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    const a = await startInstance(broker, 'caught-up', storeA, 'a');
    const gauge = new Map<string, number>();
    const b = await startInstance(broker, 'caught-up', storeB, 'b', { partitionLag: { set: ({ partition }, value) => void gauge.set(partition, value) } });
    await waitUntil(() => storeA.rows.length >= PARTITIONS.length * 50, 'A to store the whole backlog', 30_000);
    await a.close();
    await waitUntil(() => b.leadership?.().role === 'leader', 'B to take over', 15_000);
    // Nothing new arrives: B reads nothing, and still knows where each partition ends.
    await waitUntil(() => b.metrics().length === PARTITIONS.length && b.metrics().every((m) => m.lag !== null), 'B to know the lag of every partition', 10_000).catch(() => undefined);
    assert.deepEqual(b.metrics().map((m) => [m.partitionId, m.lag]), PARTITIONS.map((p) => [p, 0]));
    assert.deepEqual([...gauge].sort(), PARTITIONS.map((p) => [`eventhubs:caught-up/${p}`, 0]));
    assert.equal(storeB.rows.length, 0);
  });

  it('hands the sessions of every batch the cut-off leader committed to the new leader, its last batch included', async () => {
    const broker = await startEventHubsBroker({ hubName: 'sessions', partitionCount: 4 });
    brokers.push(broker);
    publishBacklog(broker);
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    storeA.commitDelayMs = storeB.commitDelayMs = 60;
    const sessionsA = new SessionsProbe();
    const sessionsB = new SessionsProbe();
    storeA.observe = (batch) => sessionsA.observe(batch);
    storeB.observe = (batch) => sessionsB.observe(batch);
    await startInstance(broker, 'sessions', storeA, 'a', undefined, sessionsA);
    await waitUntil(() => storeA.rows.length >= 300, 'A to be working through the backlog', 30_000);
    // Cut off in the middle of its commits: its batches in flight commit (their intents were accepted) after B fenced.
    await new ContainerClient(azurite.connectionString, 'sessions').getBlobClient('127.0.0.1/sessions/$default/leader').getBlobLeaseClient().breakLease(0);
    const b = await startInstance(broker, 'sessions', storeB, 'b', undefined, sessionsB);
    assert.equal(b.leadership?.().role, 'leader');
    await waitUntil(() => sessionsB.takenOver !== null, 'B to take the handover over (once every batch of A is settled)', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const takenOver = new Set(sessionsB.takenOver);
    const missing = storeA.rows.map((r) => `${r.partitionId}/${r.sequenceNumber}`).filter((k) => !takenOver.has(k));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} events A committed are not in the handover B took over`);
    // B is told which records some store committed: what A handed over of any other batch is not taken.
    const { self, committed } = sessionsB.adoptedAs!;
    assert.equal(self, 'b');
    const notCommitted = storeA.rows.filter((r) => !committed(`eventhubs:sessions/${r.partitionId}`, `${r.sequenceNumber}#0`));
    assert.deepEqual(notCommitted.slice(0, 5), [], 'every record A committed counts as committed');
    for (const partitionId of PARTITIONS) {
      const last = Math.max(-1, ...storeA.rows.filter((r) => r.partitionId === partitionId).map((r) => r.sequenceNumber));
      assert.equal(committed(`eventhubs:sessions/${partitionId}`, `${last + 1}#0`), false, `partition ${partitionId}: the event after A's last commit is not committed`);
    }
  });

  it('cuts off a leader whose lease was broken: it stops writing, says so, and nothing is stored twice', async () => {
    const broker = await startEventHubsBroker({ hubName: 'fenced', partitionCount: 4 });
    brokers.push(broker);
    publishBacklog(broker);
    const storeA = new MemoryStore();
    const storeB = new MemoryStore();
    storeA.commitDelayMs = storeB.commitDelayMs = 60;
    const a = await startInstance(broker, 'fenced', storeA, 'a');
    await waitUntil(() => storeA.rows.length >= 300, 'A to be working through the backlog', 30_000);
    // What a standby does when the leader went silent (a long GC pause, a partition from the storage account).
    const leaseBlob = new ContainerClient(azurite.connectionString, 'fenced').getBlobClient('127.0.0.1/fenced/$default/leader');
    await leaseBlob.getBlobLeaseClient().breakLease(0);
    const b = await startInstance(broker, 'fenced', storeB, 'b');
    assert.equal(b.leadership?.().role, 'leader', 'B took the broken lease');
    await waitUntil(() => a.leadership?.().lastFenced !== null, 'A to notice it was fenced', 10_000);
    assert.equal(a.leadership?.().role, 'standby');
    // A batch whose intent was accepted before the fence still commits (the new leader waits for it); then nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const afterFence = storeA.rows.length;
    const total = PARTITIONS.length * BACKLOG;
    await waitUntil(() => storeA.rows.length + storeB.rows.length >= total, 'the rest of the backlog through B', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(storeA.rows.length, afterFence, 'A stored nothing after it was fenced');
    const { duplicates, missing } = duplicatesAndMissing(union(storeA, storeB).counts(), expectedKeys(PARTITIONS.map(() => BACKLOG)));
    assert.deepEqual({ duplicates: duplicates.length, missing: missing.length }, { duplicates: 0, missing: 0 });
  });
});
