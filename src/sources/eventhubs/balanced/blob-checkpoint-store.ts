/**
 * The Event Hubs SDK's `CheckpointStore` on a Blob container, for its *balanced* load balancing (`auditduck
 * route`, and `run` with `ownership: balanced` on a keyed hub): which processor owns a partition, and the
 * checkpoint each partition resumes after. The blob layout is the one of the retired
 * `@azure/eventhubs-checkpointstore-blob` (`<namespace>/<hub>/<consumer group>/ownership/<partition>` and
 * `.../checkpoint/<partition>`, lowercase, the values in metadata), so stores written by either read the same.
 * Ownership claims are compare-and-swap on the blob's ETag: a claim returns only if it won.
 */
import type { Checkpoint, CheckpointStore, PartitionOwnership } from '@azure/event-hubs';
import type { ContainerClient } from '@azure/storage-blob';

export class BlobCheckpointStore implements CheckpointStore {
  constructor(private readonly container: ContainerClient) {}

  async listOwnership(namespace: string, hubName: string, consumerGroup: string): Promise<PartitionOwnership[]> {
    const owners: PartitionOwnership[] = [];
    const prefix = `${hubPrefix(namespace, hubName, consumerGroup)}/ownership/`;
    for await (const blob of this.container.listBlobsFlat({ prefix, includeMetadata: true })) {
      owners.push({
        fullyQualifiedNamespace: namespace,
        eventHubName: hubName,
        consumerGroup,
        partitionId: blob.name.slice(prefix.length),
        ownerId: blob.metadata?.ownerid ?? '',
        etag: blob.properties.etag,
        lastModifiedTimeInMs: blob.properties.lastModified.getTime(),
      });
    }
    return owners;
  }

  async claimOwnership(claims: PartitionOwnership[]): Promise<PartitionOwnership[]> {
    const won: PartitionOwnership[] = [];
    await Promise.all(
      claims.map(async (claim) => {
        const blob = this.container.getBlockBlobClient(
          `${hubPrefix(claim.fullyQualifiedNamespace, claim.eventHubName, claim.consumerGroup)}/ownership/${claim.partitionId}`,
        );
        try {
          const response = await blob.upload('', 0, {
            metadata: { ownerid: claim.ownerId },
            conditions: claim.etag ? { ifMatch: claim.etag } : { ifNoneMatch: '*' },
          });
          won.push({ ...claim, etag: response.etag, lastModifiedTimeInMs: response.lastModified?.getTime() ?? Date.now() });
        } catch (error) {
          // 412 (someone else changed it) and 409 (someone else created it first): lost, as the SDK expects.
          const status = (error as { statusCode?: number }).statusCode;
          if (status !== 412 && status !== 409) throw error;
        }
      }),
    );
    return won;
  }

  /**
   * Releases the claims `ownerId` holds, as the SDK does at a clean stop. Called before an instance with a
   * stable id subscribes: a killed predecessor's claims are still fresh, and the SDK's balanced strategy would
   * count them as this instance's share (claiming nothing) without renewing them (it renews only partitions it
   * is receiving from), leaving them unread until they expire. Released, they are free to claim at once.
   */
  async releaseOwnership(namespace: string, hubName: string, consumerGroup: string, ownerId: string): Promise<string[]> {
    const own = (await this.listOwnership(namespace, hubName, consumerGroup)).filter((ownership) => ownership.ownerId === ownerId);
    const released = await this.claimOwnership(own.map((ownership) => ({ ...ownership, ownerId: '' })));
    return released.map((ownership) => ownership.partitionId).sort();
  }

  async listCheckpoints(namespace: string, hubName: string, consumerGroup: string): Promise<Checkpoint[]> {
    const checkpoints: Checkpoint[] = [];
    const prefix = `${hubPrefix(namespace, hubName, consumerGroup)}/checkpoint/`;
    for await (const blob of this.container.listBlobsFlat({ prefix, includeMetadata: true })) {
      const sequenceNumber = Number(blob.metadata?.sequencenumber);
      const offset = blob.metadata?.offset;
      if (!Number.isSafeInteger(sequenceNumber) || offset === undefined) continue;
      checkpoints.push({ fullyQualifiedNamespace: namespace, eventHubName: hubName, consumerGroup, partitionId: blob.name.slice(prefix.length), sequenceNumber, offset });
    }
    return checkpoints;
  }

  async updateCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const blob = this.container.getBlockBlobClient(
      `${hubPrefix(checkpoint.fullyQualifiedNamespace, checkpoint.eventHubName, checkpoint.consumerGroup)}/checkpoint/${checkpoint.partitionId}`,
    );
    await blob.upload('', 0, { metadata: { sequencenumber: String(checkpoint.sequenceNumber), offset: String(checkpoint.offset) } });
  }
}

function hubPrefix(namespace: string, hubName: string, consumerGroup: string): string {
  return `${namespace}/${hubName}/${consumerGroup}`.toLowerCase();
}
