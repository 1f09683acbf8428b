/** The SDK's CheckpointStore on Azurite: ownership claims are compare-and-swap, checkpoints read back. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerClient } from '@azure/storage-blob';
import { BlobCheckpointStore } from '../../../../src/sources/eventhubs/balanced/blob-checkpoint-store.js';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';

const hub = { fullyQualifiedNamespace: 'NS.servicebus.windows.net', eventHubName: 'Keyed', consumerGroup: '$default' };

describe('BlobCheckpointStore', () => {
  let azurite: AzuriteBlob;
  let store: BlobCheckpointStore;
  let container: ContainerClient;
  before(async () => {
    azurite = await startAzuriteBlob();
    container = new ContainerClient(azurite.connectionString, 'checkpoints');
    await container.createIfNotExists();
    store = new BlobCheckpointStore(container);
  });
  after(async () => azurite?.stop());

  it('gives a partition to one of two processors claiming it at once, and lets the winner renew it', async () => {
    const [a, b] = await Promise.all([
      store.claimOwnership([{ ...hub, partitionId: '0', ownerId: 'a' }]),
      store.claimOwnership([{ ...hub, partitionId: '0', ownerId: 'b' }]),
    ]);
    assert.equal(a.length + b.length, 1, 'one claim wins');
    const winner = [...a, ...b][0]!;
    const listed = await store.listOwnership(hub.fullyQualifiedNamespace, hub.eventHubName, hub.consumerGroup);
    // The list answers the ETag unquoted, the upload quoted: the same tag.
    const unquoted = (etag: string | undefined) => etag?.replace(/"/g, '');
    assert.deepEqual(listed.map((o) => [o.partitionId, o.ownerId, unquoted(o.etag)]), [['0', winner.ownerId, unquoted(winner.etag)]]);
    // A claim on an ETag that moved loses; one on the current ETag wins.
    const renewed = await store.claimOwnership([{ ...listed[0]! }]);
    assert.equal(renewed.length, 1);
    assert.deepEqual(await store.claimOwnership([{ ...listed[0]!, ownerId: 'late' }]), []);
  });

  it('reads back the checkpoint of each partition, in the layout of the retired checkpointstore-blob package', async () => {
    await store.updateCheckpoint({ ...hub, partitionId: '1', sequenceNumber: 41, offset: '4100' });
    await store.updateCheckpoint({ ...hub, partitionId: '1', sequenceNumber: 42, offset: '4200' });
    const checkpoints = await store.listCheckpoints(hub.fullyQualifiedNamespace, hub.eventHubName, hub.consumerGroup);
    assert.deepEqual(checkpoints.map((c) => [c.partitionId, c.sequenceNumber, c.offset]), [['1', 42, '4200']]);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    assert.deepEqual(names.sort(), ['ns.servicebus.windows.net/keyed/$default/checkpoint/1', 'ns.servicebus.windows.net/keyed/$default/ownership/0']);
  });
});
