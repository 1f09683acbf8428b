import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordOrigin } from '../../../src/contracts/record-origin.js';
import type { HubEvent } from '../../../src/sources/source-batch.js';
import { RoutedOrigins } from '../../../src/sources/eventhubs/routed-origins.js';

let keyedSequence = 0;
const routed = (partitionKey: string, sequenceNumber: number, index: number, partitionId = '0'): HubEvent => ({
  body: {},
  partitionId: 'k',
  sequenceNumber: keyedSequence++,
  enqueuedTimeUtc: new Date(0),
  origin: { hub: 'src', partitionId, sequenceNumber, index } satisfies RecordOrigin,
  partitionKey,
});
const originsOf = (events: readonly HubEvent[]) => events.map((e) => `${e.partitionKey}:${e.origin?.partitionId}:${e.origin?.sequenceNumber}#${e.origin?.index}`);

/** A store's positions: what the commit wrote. */
function memoryPositions() {
  const positions = new Map<string, string>();
  return { read: async (key: string) => positions.get(key) ?? null, write: (marks: readonly { sourceKey: string; position: string }[]) => marks.forEach((m) => positions.set(m.sourceKey, m.position)) };
}

describe('RoutedOrigins: run drops a routed origin its store holds', () => {
  it('drops an origin republished twice (a route instance killed before its checkpoint), keeps what is new', async () => {
    const store = memoryPositions();
    const origins = new RoutedOrigins(store.read);
    const first = await origins.admit([routed('pg-a', 10, 0), routed('pg-a', 10, 1), routed('pg-a', 11, 0)]);
    assert.equal(first.duplicates, 0);
    store.write(first.marks);
    origins.committed(first.marks);
    // The next owner republishes from the checkpoint before 10, then goes on.
    const again = await origins.admit([routed('pg-a', 10, 0), routed('pg-a', 10, 1), routed('pg-a', 11, 0), routed('pg-a', 12, 0)]);
    assert.equal(again.duplicates, 3);
    assert.deepEqual(originsOf(again.events), ['pg-a:0:12#0']);
    assert.deepEqual(again.marks, [{ sourceKey: 'routed:eventhubs:src/0|pg-a', source: 'eventhubs:src/0', position: '12#0' }]);
  });

  it('keeps one mark per origin partition and server: another server or partition at a lower sequence is new', async () => {
    const origins = new RoutedOrigins(memoryPositions().read);
    const { events, duplicates } = await origins.admit([routed('pg-a', 50, 0), routed('pg-b', 20, 0), routed('pg-a', 5, 0, '1'), routed('pg-a', 49, 3)]);
    assert.equal(duplicates, 1);
    assert.deepEqual(originsOf(events), ['pg-a:0:50#0', 'pg-b:0:20#0', 'pg-a:1:5#0']);
  });

  it('reads the marks a restarted process committed before', async () => {
    const store = memoryPositions();
    store.write([{ sourceKey: 'routed:eventhubs:src/0|pg-a', position: '10#1' }]);
    const { events } = await new RoutedOrigins(store.read).admit([routed('pg-a', 10, 0), routed('pg-a', 10, 1), routed('pg-a', 10, 2)]);
    assert.deepEqual(originsOf(events), ['pg-a:0:10#2']);
  });

  it('does not move a mark for a batch whose commit failed: the batch read again is stored', async () => {
    const origins = new RoutedOrigins(memoryPositions().read);
    await origins.admit([routed('pg-a', 10, 0)]);
    // no committed(): the commit failed
    const again = await origins.admit([routed('pg-a', 10, 0)]);
    assert.equal(again.duplicates, 0);
  });

  it("adopts the marks other instances stored from the partition: their copies drop, this store's later marks stay", async () => {
    const store = memoryPositions();
    store.write([{ sourceKey: 'routed:eventhubs:src/1|pg-a', position: '30#0' }]);
    const origins = new RoutedOrigins(store.read);
    await origins.adopt({ 'routed:eventhubs:src/0|pg-a': '12#0', 'routed:eventhubs:src/1|pg-a': '20#0' });
    const { events, duplicates } = await origins.admit([routed('pg-a', 11, 0), routed('pg-a', 12, 0), routed('pg-a', 25, 0, '1'), routed('pg-a', 13, 0), routed('pg-a', 31, 0, '1')]);
    assert.equal(duplicates, 3);
    assert.deepEqual(originsOf(events), ['pg-a:0:13#0', 'pg-a:1:31#0']);
  });

  it('lets events that were not routed pass', async () => {
    const plain: HubEvent = { body: {}, partitionId: '0', sequenceNumber: 1, enqueuedTimeUtc: new Date(0) };
    const { events, marks } = await new RoutedOrigins(memoryPositions().read).admit([plain, plain]);
    assert.equal(events.length, 2);
    assert.deepEqual(marks, []);
  });
});
