export { openEventHubsBatches, type EventHubsBatches } from './eventhubs-batches.js';
export {
  startEventHubsSource,
  type EventHubsSourceOptions,
  type EventHubsSubscription,
  type EventsLost,
  type LagGauge,
  type SourceMetricsSink,
} from './eventhubs-source.js';
export {
  eventHubsSourceConfigSchema,
  parseEventHubsSourceConfig,
  resolveHubTarget,
  type EventHubsSourceConfig,
  type EventHubsSourceConfigInput,
} from './eventhubs-config.js';
export type { HubLeadership, HubRole } from './fleet/hub-member.js';
export type { SessionHandoverBody } from './fleet/session-handover-blob.js';
export type { PartitionMetrics } from './partition-metrics.js';
