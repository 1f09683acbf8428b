import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earliestEventPosition, latestEventPosition } from '@azure/event-hubs';
import { PositionBook, defaultStartPosition, parseSequencePosition } from '../../../src/sources/eventhubs/position-book.js';
import { PartitionMetricsBook } from '../../../src/sources/eventhubs/partition-metrics.js';

describe('start positions', () => {
  it('maps the configured default for partitions never seen', () => {
    assert.deepEqual(defaultStartPosition('earliest'), earliestEventPosition);
    assert.deepEqual(defaultStartPosition('latest'), latestEventPosition);
    assert.deepEqual(defaultStartPosition('2026-11-24T14:00:00Z'), { enqueuedOn: new Date('2026-11-24T14:00:00Z') });
  });

  it('reads committed positions as sequence numbers only', () => {
    assert.equal(parseSequencePosition('41'), 41);
    assert.equal(parseSequencePosition(null), null);
    assert.equal(parseSequencePosition('12#3'), null);
  });

  it('starts a partition added to the hub after start at the configured position, not the SDK default (latest)', () => {
    const book = new PositionBook(earliestEventPosition);
    book.know('0');
    // The SDK looks the new partition up in this map when it first claims it; nothing called know('7').
    assert.deepEqual(book.positions['7'], earliestEventPosition);
    assert.deepEqual(Object.keys(book.positions), ['0'], 'the SDK validates each key it finds: only known partitions are listed');
    assert.equal((book.positions as Record<string, unknown>).offset, undefined, 'the map must not look like one EventPosition');
  });

  it('restarts a partition from the earliest event when its position belongs to a hub deleted since', () => {
    const book = new PositionBook(latestEventPosition);
    book.commit('0', 500);
    book.restart('0', earliestEventPosition);
    assert.deepEqual(book.positions['0'], earliestEventPosition);
    assert.equal(book.lastCommitted('0'), null);
    book.commit('0', 3);
    assert.deepEqual(book.positions['0'], { sequenceNumber: 3, isInclusive: false });
  });

  it('resumes strictly after the highest committed sequence number and never moves back', () => {
    const book = new PositionBook(earliestEventPosition);
    book.know('0');
    assert.deepEqual(book.positions['0'], earliestEventPosition);
    book.commit('0', 10);
    book.commit('0', 7);
    assert.deepEqual(book.positions['0'], { sequenceNumber: 10, isInclusive: false });
    book.know('0');
    assert.equal(book.lastCommitted('0'), 10);
  });
});

describe('partition metrics', () => {
  it('counts events and batches and computes lag from the last enqueued sequence number', () => {
    const metrics = new PartitionMetricsBook();
    metrics.recordResumePoint('1', 9);
    metrics.recordLastEnqueued('1', 19);
    assert.equal(metrics.snapshot()[0]!.lag, 10);
    metrics.recordBatch('1', 5, 14);
    const [entry] = metrics.snapshot();
    assert.deepEqual([entry!.events, entry!.batches, entry!.lastSequenceNumber, entry!.lag], [5, 1, 14, 5]);
  });
});
