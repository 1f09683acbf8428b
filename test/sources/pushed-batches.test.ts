/**
 * A callback-driven source made iterable: the pusher waits until the driver committed its batch (the
 * backpressure the Event Hubs contract needs), hears when it was given up, and a driver that stops early
 * gives back what was still queued.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PushedBatches } from '../../src/sources/pushed-batches.js';

const batch = (position: string) => ({ sourceKey: 'k', source: 's', position, items: [position] });

describe('PushedBatches', () => {
  it('resolves a push only once the driver says the batch committed, in the order pushed', async () => {
    const batches = new PushedBatches<string>();
    const settled: string[] = [];
    const first = batches.push(batch('1')).then(() => settled.push('1'));
    const second = batches.push(batch('2')).then(() => settled.push('2'));
    const iterator = batches[Symbol.asyncIterator]();
    const a = (await iterator.next()).value!;
    const b = (await iterator.next()).value!;
    assert.deepEqual([a.position, b.position], ['1', '2']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(settled, [], 'nothing resolves before its commit');
    await b.committed!();
    await second;
    assert.deepEqual(settled, ['2']);
    await a.committed!();
    await first;
    assert.deepEqual(settled, ['2', '1']);
  });

  it('rejects the push of a batch the driver gave up, with the reason', async () => {
    const batches = new PushedBatches<string>();
    const pushed = batches.push(batch('7'));
    const taken = (await batches[Symbol.asyncIterator]().next()).value!;
    taken.abandoned!(new Error('stopping: the batch was not committed'));
    await assert.rejects(pushed, /stopping: the batch was not committed/);
  });

  it('ends the iteration after the queued batches when the source ends, and refuses pushes after that', async () => {
    const batches = new PushedBatches<string>();
    void batches.push(batch('1'));
    batches.end();
    const seen: string[] = [];
    for await (const b of batches) {
      seen.push(b.position);
      await b.committed!();
    }
    assert.deepEqual(seen, ['1']);
    await assert.rejects(batches.push(batch('2')), /the source is closed, the batch up to 2 was not stored/);
  });

  it('gives back what is still queued when the driver stops early', async () => {
    const batches = new PushedBatches<string>();
    const first = batches.push(batch('1'));
    const queued = batches.push(batch('2'));
    for await (const b of batches) {
      await b.committed!();
      break;
    }
    await first;
    await assert.rejects(queued, /the pipeline stopped before storing the batch up to 2/);
  });
});
