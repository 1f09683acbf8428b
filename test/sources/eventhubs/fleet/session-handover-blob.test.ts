/**
 * The hub's session handover blob in Azurite: the next leader reads what the last one wrote, and a leader of an
 * older generation never overwrites what a later one wrote (compare-and-swap on the ETag, generation checked).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { FencedError } from '../../../../src/sources/eventhubs/fleet/partition-register.js';
import { SessionHandoverBlob } from '../../../../src/sources/eventhubs/fleet/session-handover-blob.js';

describe('the session handover blob in Azurite', () => {
  let azurite: AzuriteBlob;
  let container: ContainerClient;
  before(async () => {
    azurite = await startAzuriteBlob();
    container = new ContainerClient(azurite.connectionString, 'handover');
    await container.create();
  });
  after(async () => azurite.stop());

  it('is empty until a leader writes it, then holds the last write and its generation', async () => {
    const reader = new SessionHandoverBlob(container, 'ns/empty/cg');
    assert.equal(await reader.read(), null);
    const leader = new SessionHandoverBlob(container, 'ns/empty/cg');
    await leader.write(1, Buffer.from('first'));
    await leader.write(1, Buffer.from('second'));
    const last = await reader.read();
    assert.deepEqual([last?.body.toString(), last?.generation], ['second', 1]);
  });

  it('refuses the write of an old leader once a later generation wrote, and keeps the later write', async () => {
    const old = new SessionHandoverBlob(container, 'ns/fenced/cg');
    const next = new SessionHandoverBlob(container, 'ns/fenced/cg');
    await old.write(1, Buffer.from('old leader'));
    assert.equal((await next.read())?.body.toString(), 'old leader');
    await next.write(2, Buffer.from('new leader'));
    await assert.rejects(old.write(1, Buffer.from('old leader, too late')), FencedError);
    // A fresh writer object of the old generation (a restarted old leader) is refused too.
    await assert.rejects(new SessionHandoverBlob(container, 'ns/fenced/cg').write(1, Buffer.from('again')), FencedError);
    const last = await new SessionHandoverBlob(container, 'ns/fenced/cg').read();
    assert.deepEqual([last?.body.toString(), last?.generation], ['new leader', 2]);
  });
});
