/**
 * The Event Hubs source as an async iterable of batches: the SDK's per-partition callbacks of every hub push
 * into one iterable, and each waits until the driver committed its batch, so the source's contract
 * (eventhubs-source.ts) holds: per partition one batch at a time, in order, its position checkpointed only
 * after its commit. Several hubs share the store, keyed by hub and partition.
 */
import { PushedBatches } from '../pushed-batches.js';
import type { HubEvent, SourceBatch } from '../source-batch.js';
import { parseEventHubsSourceConfig } from './eventhubs-config.js';
import { startEventHubsSource, type EventHubsSourceOptions, type EventHubsSubscription } from './eventhubs-source.js';
import { InstanceLeads } from './fleet/fair-share.js';

export interface EventHubsBatches {
  batches: AsyncIterable<SourceBatch<HubEvent>>;
  /** One per hub, in the order given. */
  subscriptions: readonly EventHubsSubscription[];
  /** The batches in flight commit first (the sources wait for them), then every hub is released and the iteration ends. */
  close(): Promise<void>;
}

export async function openEventHubsBatches(hubs: readonly Omit<EventHubsSourceOptions, 'onBatch'>[]): Promise<EventHubsBatches> {
  const batches = new PushedBatches<HubEvent>();
  const subscriptions: EventHubsSubscription[] = [];
  const closeAll = async () => void (await Promise.allSettled(subscriptions.map((subscription) => subscription.close())));
  // The hubs of a fleet are spread over its instances: each leads its fair share of them (fleet/fair-share.ts).
  const leads = new InstanceLeads(hubs.filter((hub) => parseEventHubsSourceConfig(hub.config).checkpointStore === 'blob').length);
  try {
    for (const hub of hubs) subscriptions.push(await startEventHubsSource({ leads, ...hub, onBatch: (batch) => batches.push(batch) }));
  } catch (error) {
    await closeAll();
    batches.end();
    throw error;
  }
  return {
    batches,
    subscriptions,
    close: async () => {
      await closeAll();
      batches.end();
    },
  };
}
