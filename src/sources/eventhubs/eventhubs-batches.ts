/**
 * The Event Hubs source as an async iterable of batches: the SDK's per-partition callbacks push into it, and
 * each waits until the driver committed its batch, so the source's contract (eventhubs-source.ts) holds:
 * per partition one batch at a time, in order, its position checkpointed only after its commit.
 */
import { PushedBatches } from '../pushed-batches.js';
import type { HubEvent, SourceBatch } from '../source-batch.js';
import { startEventHubsSource, type EventHubsSourceOptions, type EventHubsSubscription } from './eventhubs-source.js';

export interface EventHubsBatches {
  batches: AsyncIterable<SourceBatch<HubEvent>>;
  subscription: EventHubsSubscription;
}

export async function openEventHubsBatches(options: Omit<EventHubsSourceOptions, 'onBatch'>): Promise<EventHubsBatches> {
  const batches = new PushedBatches<HubEvent>();
  const subscription = await startEventHubsSource({ ...options, onBatch: (batch) => batches.push(batch) });
  return {
    batches,
    subscription: {
      ...subscription,
      metrics: () => subscription.metrics(),
      // The batches in flight commit first (the source waits for them), then the iteration ends.
      close: async () => {
        await subscription.close();
        batches.end();
      },
    },
  };
}
