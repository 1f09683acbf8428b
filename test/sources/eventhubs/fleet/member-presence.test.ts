/**
 * Who is alive in a hub's fleet, and a standby leaving a free hub to an instance with room, against
 * Azurite: liveness is an ETag that moved within leaseTimeMs on the reader's own clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { startAzuriteBlob, type AzuriteBlob } from '../../../support/azurite-blob.js';
import { MemberPresence } from '../../../../src/sources/eventhubs/fleet/member-presence.js';
import { LeaderLease } from '../../../../src/sources/eventhubs/fleet/leader-lease.js';

const LEASE_MS = 4_000;

describe('fleet members and the spreading grace in Azurite', () => {
  let azurite: AzuriteBlob;
  let container: ContainerClient;
  let clock = 0;
  const now = () => clock;
  before(async () => {
    azurite = await startAzuriteBlob();
    container = new ContainerClient(azurite.connectionString, 'members');
    await container.create();
  });
  after(async () => azurite.stop());

  it('sees each instance with the hubs it leads, loses one that stops announcing, and one that withdraws', async () => {
    const a = new MemberPresence(container, 'ns/hub/cg', 'host-a:/data/a.duckdb', LEASE_MS, now);
    const b = new MemberPresence(container, 'ns/hub/cg', 'b', LEASE_MS, now);
    const c = new MemberPresence(container, 'ns/hub/cg', 'c', LEASE_MS, now);
    await a.announce(2);
    await b.announce(0);
    await c.announce(1);
    const names = async () => (await a.live()).map((m) => `${m.instanceId}:${m.leads}`).sort();
    assert.deepEqual(await names(), ['b:0', 'c:1', 'host-a:/data/a.duckdb:2']);
    // b keeps announcing, c was killed: after a lease time of silence only c is gone.
    clock += LEASE_MS - 1;
    await b.announce(1);
    assert.deepEqual(await names(), ['b:1', 'c:1', 'host-a:/data/a.duckdb:2']);
    clock += 1;
    assert.deepEqual(await names(), ['b:1', 'host-a:/data/a.duckdb:2'], 'silent for leaseTimeMs: gone');
    await b.withdraw();
    assert.deepEqual(await names(), ['host-a:/data/a.duckdb:2'], 'a clean stop is seen at once');
  });

  it('leaves a free hub to an instance with room until the grace period is over', async () => {
    const lease = new LeaderLease(container.getBlobClient('ns/spread/cg/leader'), 'a', { leaseTimeMs: LEASE_MS, heartbeatMs: 1_000 }, now);
    const waited: number[] = [];
    const grace = (unledForMs: number) => (waited.push(unledForMs), unledForMs >= LEASE_MS);
    assert.equal(await lease.tryTakeOver(grace), null, 'declined: left to an instance with room');
    clock += LEASE_MS / 2;
    assert.equal(await lease.tryTakeOver(grace), null);
    clock += LEASE_MS / 2;
    assert.equal(await lease.tryTakeOver(grace), 1, 'nobody took it: taken after the grace period');
    assert.deepEqual(waited, [0, LEASE_MS / 2, LEASE_MS]);
    await lease.release();
  });
});
