/**
 * A source whose client calls back (the Event Hubs SDK, the demo's timer) made an async iterable: each
 * `push` waits until the driver has committed the batch (or gave it up), so the client's own backpressure
 * holds: a partition's next batch is taken only after its previous one is stored.
 */
import type { SourceBatch } from './source-batch.js';

export class PushedBatches<T> implements AsyncIterable<SourceBatch<T>> {
  private readonly queued: SourceBatch<T>[] = [];
  private waiting: ((next: IteratorResult<SourceBatch<T>>) => void) | null = null;
  private ended = false;

  /** Resolves once the batch is committed; rejects with the reason when it was given up uncommitted. */
  push(batch: Omit<SourceBatch<T>, 'committed' | 'abandoned'>): Promise<void> {
    if (this.ended) return Promise.reject(new Error(`${batch.source}: the source is closed, the batch up to ${batch.position} was not stored`));
    return new Promise<void>((resolve, reject) => {
      const pushed: SourceBatch<T> = { ...batch, committed: () => resolve(), abandoned: (reason) => reject(reason) };
      if (this.waiting) {
        const deliver = this.waiting;
        this.waiting = null;
        deliver({ value: pushed, done: false });
      } else {
        this.queued.push(pushed);
      }
    });
  }

  /** No more batches: the iteration ends once the queued ones are taken. */
  end(): void {
    this.ended = true;
    if (this.waiting && this.queued.length === 0) {
      const deliver = this.waiting;
      this.waiting = null;
      deliver({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<SourceBatch<T>> {
    return {
      next: () => {
        const next = this.queued.shift();
        if (next) return Promise.resolve({ value: next, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      // The driver stopped early: what is queued will not be stored, and its pushers are told so.
      return: () => {
        this.ended = true;
        for (const batch of this.queued.splice(0)) batch.abandoned?.(new Error(`${batch.source}: the pipeline stopped before storing the batch up to ${batch.position}`));
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
