import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { FencedError, PartitionRegister, resolveIntent, type PartitionState } from '../../../../src/sources/eventhubs/fleet/partition-register.js';

const open = (intent: PartitionState['intent'], committed: number | null = 9): PartitionState => ({ generation: 3, committed, committedBy: 'a', intent });

describe('settling a commit intent from the store of the instance that opened it', () => {
  const cases: Array<{ name: string; state: PartitionState; instance: string; stored: number | null; expected: PartitionState | null }> = [
    { name: 'the store holds the batch: committed', state: open({ sequenceNumber: 19, by: 'a', generation: 3 }), instance: 'a', stored: 19, expected: { generation: 3, committed: 19, committedBy: 'a', intent: null } },
    { name: 'the store is past it: committed', state: open({ sequenceNumber: 19, by: 'a', generation: 3 }), instance: 'a', stored: 25, expected: { generation: 3, committed: 19, committedBy: 'a', intent: null } },
    { name: 'the store stopped before it: withdrawn', state: open({ sequenceNumber: 19, by: 'a', generation: 3 }), instance: 'a', stored: 9, expected: { generation: 3, committed: 9, committedBy: 'a', intent: null } },
    { name: 'a store that never had the partition: withdrawn', state: open({ sequenceNumber: 19, by: 'a', generation: 3 }, null), instance: 'a', stored: null, expected: { generation: 3, committed: null, committedBy: 'a', intent: null } },
    { name: "another instance's intent: untouched", state: open({ sequenceNumber: 19, by: 'b', generation: 3 }), instance: 'a', stored: 19, expected: null },
    { name: 'no intent: nothing to do', state: open(null), instance: 'a', stored: 19, expected: null },
    {
      name: "killed between COMMIT and the register's update: the batch's routed marks join the partition's",
      state: { ...open({ sequenceNumber: 19, by: 'a', generation: 3, marks: { 'routed:x|s1': '40#2', 'routed:y|s1': '7#0' } }), marks: { 'routed:x|s1': '39#5', 'routed:z|s1': '3#0' } },
      instance: 'a',
      stored: 19,
      expected: { generation: 3, committed: 19, committedBy: 'a', intent: null, marks: { 'routed:x|s1': '40#2', 'routed:y|s1': '7#0', 'routed:z|s1': '3#0' } },
    },
    {
      name: 'withdrawn: its marks are dropped with it',
      state: { ...open({ sequenceNumber: 19, by: 'a', generation: 3, marks: { 'routed:x|s1': '40#2' } }), marks: { 'routed:x|s1': '39#5' } },
      instance: 'a',
      stored: 9,
      expected: { generation: 3, committed: 9, committedBy: 'a', intent: null, marks: { 'routed:x|s1': '39#5' } },
    },
  ];
  for (const { name, state, instance, stored, expected } of cases) {
    it(name, () => assert.deepEqual(resolveIntent(state, instance, stored), expected));
  }
});

describe('the partition register in Azurite', () => {
  let azurite: AzuriteBlob;
  let container: ContainerClient;
  before(async () => {
    azurite = await startAzuriteBlob();
    container = new ContainerClient(azurite.connectionString, 'registers');
    await container.create();
  });
  after(async () => azurite.stop());

  it('refuses the commits of a leader once a later generation fenced the partition', async () => {
    const old = new PartitionRegister(container, 'ns/hub/cg', 'a');
    const next = new PartitionRegister(container, 'ns/hub/cg', 'b');
    await old.fence('0', 1);
    await old.beginCommit('0', 1, 10);
    await old.endCommit('0', 1, 10);
    await next.fence('0', 2);
    await assert.rejects(old.beginCommit('0', 1, 20), FencedError);
    await assert.rejects(old.fence('0', 1), FencedError);
    assert.deepEqual(await next.read('0'), { generation: 2, committed: 10, committedBy: 'a', intent: null });
  });

  it('lets a new leader wait for a killed leader to say whether its last batch committed', async () => {
    const killed = new PartitionRegister(container, 'ns/hub2/cg', 'a');
    await killed.fence('1', 1);
    await killed.beginCommit('1', 1, 30); // ... and then SIGKILL, before or after the store's COMMIT
    const leader = new PartitionRegister(container, 'ns/hub2/cg', 'b');
    await leader.fence('1', 2);
    const settled = leader.awaitSettled('1', async () => null, 10_000, 50);
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(done, false, 'the new leader does not read while the intent is open');
    // The killed instance restarts with the same id; its store holds the batch.
    await new PartitionRegister(container, 'ns/hub2/cg', 'a').resolveOwn('1', 30);
    const { state, gaveUp } = await settled;
    assert.equal(gaveUp, null);
    assert.equal(state.committed, 30, 'the new leader starts after the batch the killed one stored');
  });

  it("keeps routed marks in the blob: a batch's marks reach the next owner, also when its instance was killed before recording the commit", async () => {
    const a = new PartitionRegister(container, 'ns/hub4/cg', 'a');
    const generation = (await a.claimNext('0')).generation;
    await a.beginCommit('0', generation, 10, { 'routed:eventhubs:busy/0|pg-1': '41#0' });
    await a.endCommit('0', generation, 10);
    await a.beginCommit('0', generation, 20, { 'routed:eventhubs:busy/0|pg-1': '57#0', 'routed:eventhubs:busy/1|pg-1': '3#0' }); // then SIGKILL after COMMIT
    await new PartitionRegister(container, 'ns/hub4/cg', 'a').resolveOwn('0', 20);
    const next = await new PartitionRegister(container, 'ns/hub4/cg', 'b').read('0');
    assert.deepEqual(next.marks, { 'routed:eventhubs:busy/0|pg-1': '57#0', 'routed:eventhubs:busy/1|pg-1': '3#0' });
    assert.equal(next.committed, 20);
  });

  it('gives up after the timeout and reads the batch again, saying which intent it gave up on', async () => {
    const killed = new PartitionRegister(container, 'ns/hub3/cg', 'a');
    await killed.fence('0', 1);
    await killed.beginCommit('0', 1, 5);
    const { state, gaveUp } = await new PartitionRegister(container, 'ns/hub3/cg', 'b').awaitSettled('0', async () => null, 200, 50);
    assert.deepEqual(gaveUp, { sequenceNumber: 5, by: 'a', generation: 1 });
    assert.equal(state.committed, null);
  });
});
