import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { FencedError, PartitionRegister } from '../../../../src/sources/eventhubs/fleet/partition-register.js';
import { BalancedFence } from '../../../../src/sources/eventhubs/balanced/partition-fence.js';

/** One `run` instance: its store (the last sequence number committed per partition) and its fence. */
class Instance {
  readonly stored = new Map<string, number>();
  readonly fence: BalancedFence;
  constructor(container: ContainerClient, prefix: string, id: string, inDoubtTimeoutMs = 10_000) {
    this.fence = new BalancedFence(new PartitionRegister(container, prefix, id), async (p) => this.stored.get(p) ?? null, { inDoubtTimeoutMs, pollMs: 20 });
  }
  storeAt(partitionId: string, sequenceNumber: number): () => Promise<void> {
    return async () => void this.stored.set(partitionId, sequenceNumber);
  }
}

describe('the fence of balanced ownership (partition register in Azurite)', () => {
  let azurite: AzuriteBlob;
  let container: ContainerClient;
  let hub = 0;
  const prefix = (): string => `ns/hub${hub++}/cg`;
  before(async () => {
    azurite = await startAzuriteBlob();
    container = new ContainerClient(azurite.connectionString, 'fence');
    await container.create();
  });
  after(async () => azurite.stop());

  it('a partition moved while a batch is in flight: the new owner waits for that commit and resumes after it', async () => {
    const hubPrefix = prefix();
    const a = new Instance(container, hubPrefix, 'a');
    const b = new Instance(container, hubPrefix, 'b');
    const holdA = await a.fence.open('0');
    let finishStore!: () => void;
    const storing = new Promise<void>((resolve) => (finishStore = resolve));
    let began!: () => void;
    const inStore = new Promise<void>((resolve) => (began = resolve));
    const commitA = a.fence.commit('0', holdA, 199, null, async () => {
      began();
      await storing;
      a.stored.set('0', 199);
    });
    await inStore; // a's COMMIT is running; the SDK now gives the partition to b
    let bOpened = false;
    const opening = b.fence.open('0').then((hold) => ((bOpened = true), hold));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(bOpened, false, 'b waits while a commits');
    finishStore();
    await commitA;
    const holdB = await opening;
    assert.equal(holdB.committed, 199, 'b resumes after the batch a stored');
    assert.ok(holdB.generation > holdA.generation);
  });

  it('refuses the next commit of the instance that lost the partition, before its store is touched', async () => {
    const hubPrefix = prefix();
    const a = new Instance(container, hubPrefix, 'a');
    const b = new Instance(container, hubPrefix, 'b');
    const holdA = await a.fence.open('1');
    await a.fence.commit('1', holdA, 9, null, a.storeAt('1', 9));
    const holdB = await b.fence.open('1');
    let touched = false;
    await assert.rejects(
      a.fence.commit('1', holdA, 19, 9, async () => void (touched = true)),
      FencedError,
    );
    assert.equal(touched, false, 'the lost owner did not store the batch');
    await b.fence.commit('1', holdB, 19, null, b.storeAt('1', 19));
    assert.deepEqual([a.stored.get('1'), b.stored.get('1')], [9, 19], 'each batch in one store');
  });

  it('an instance killed while committing settles its batch when it is back; the new owner then resumes after it', async () => {
    const hubPrefix = prefix();
    const a = new Instance(container, hubPrefix, 'a');
    const holdA = await a.fence.open('2');
    // Killed after its store's COMMIT, before the register heard of it: the intent stays open.
    await new PartitionRegister(container, hubPrefix, 'a').beginCommit('2', holdA.generation, 50);
    a.stored.set('2', 50);
    const b = new Instance(container, hubPrefix, 'b');
    const opening = b.fence.open('2');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const restarted = new Instance(container, hubPrefix, 'a');
    restarted.stored.set('2', 50); // the same store file
    await restarted.fence.settleOwn();
    const holdB = await opening;
    assert.equal(holdB.committed, 50);
  });

  it('an instance killed before its COMMIT landed: the batch is withdrawn and the new owner reads it', async () => {
    const hubPrefix = prefix();
    const a = new Instance(container, hubPrefix, 'a');
    const holdA = await a.fence.open('3');
    await a.fence.commit('3', holdA, 10, null, a.storeAt('3', 10));
    await new PartitionRegister(container, hubPrefix, 'a').beginCommit('3', holdA.generation, 20); // then SIGKILL
    const b = new Instance(container, hubPrefix, 'b');
    const opening = b.fence.open('3');
    const restarted = new Instance(container, hubPrefix, 'a');
    restarted.stored.set('3', 10);
    await restarted.fence.settleOwn();
    assert.equal((await opening).committed, 10);
  });
});
