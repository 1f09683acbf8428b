/**
 * The checkpoint stores, by kind. `duckdb` uses none: one instance owns every partition in memory and
 * positions come from the DuckDB store. `blob` shares ownership and load balancing through Azure Blob
 * (`BlobCheckpointStore`), but the DuckDB position stays the truth: before the SDK starts a partition
 * it asks for checkpoints, and the wrapper answers by refreshing the position book instead, so the
 * SDK falls back to the book's `startPosition` (the later of the instance's DuckDB position and the
 * blob checkpoint another instance left after its last commit).
 */
import type { Checkpoint, CheckpointStore, PartitionOwnership } from '@azure/event-hubs';
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob';
import { ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { EventHubsSourceConfig } from './eventhubs-config.js';

/** Called before each partition (re)start with the blob store's checkpoints of this consumer group. */
export type RefreshPositions = (checkpoints: Checkpoint[]) => Promise<void>;

export class ResumeFromStoreCheckpoints implements CheckpointStore {
  constructor(
    private readonly inner: CheckpointStore,
    private readonly refresh: RefreshPositions,
  ) {}

  listOwnership(namespace: string, hub: string, consumerGroup: string): Promise<PartitionOwnership[]> {
    return this.inner.listOwnership(namespace, hub, consumerGroup);
  }

  claimOwnership(ownerships: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    return this.inner.claimOwnership(ownerships);
  }

  updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    return this.inner.updateCheckpoint(checkpoint);
  }

  /** Refreshes the position book and returns none, so the SDK starts from the book. */
  async listCheckpoints(namespace: string, hub: string, consumerGroup: string): Promise<Checkpoint[]> {
    await this.refresh(await this.inner.listCheckpoints(namespace, hub, consumerGroup));
    return [];
  }
}

/** The blob container for ownership and checkpoints; created when missing (and allowed). */
export async function openBlobContainer(config: EventHubsSourceConfig, credential: () => TokenCredential): Promise<ContainerClient> {
  const container = config.blobConnectionString
    ? new ContainerClient(config.blobConnectionString, config.blobContainer)
    : new ContainerClient(`${config.blobAccountUrl!.replace(/\/+$/, '')}/${config.blobContainer}`, credential());
  try {
    await container.createIfNotExists();
  } catch (error) {
    // A role that may write blobs but not create containers is enough when the container exists.
    if ((error as { statusCode?: number }).statusCode !== 403) throw error;
  }
  return container;
}

export function blobCheckpointStore(container: ContainerClient, refresh: RefreshPositions): CheckpointStore {
  return new ResumeFromStoreCheckpoints(new BlobCheckpointStore(container), refresh);
}
