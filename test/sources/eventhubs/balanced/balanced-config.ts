import type { AzuriteBlob } from '../../../support/azurite-blob.js';
import type { EventHubsBroker } from '../../../support/eventhubs-broker/index.js';
import type { EventHubsSourceConfigInput } from '../../../../src/sources/eventhubs/index.js';

/**
 * The balanced-ownership source config these tests share: the test broker, a Blob container in Azurite, and
 * balancing and retry intervals short enough for partitions to move within seconds.
 */
export function balancedConfig(broker: EventHubsBroker, azurite: AzuriteBlob, container: string, overrides: Partial<EventHubsSourceConfigInput> = {}): EventHubsSourceConfigInput {
  return {
    connectionString: broker.connectionString,
    checkpointStore: 'blob',
    ownership: 'balanced',
    blobConnectionString: azurite.connectionString,
    blobContainer: container,
    startPosition: 'earliest',
    maxWaitTimeInSeconds: 0.2,
    balancing: { updateIntervalMs: 200, ownershipExpirationMs: 5_000 },
    retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
    ...overrides,
  };
}
