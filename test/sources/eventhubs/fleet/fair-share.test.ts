import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fairShare, InstanceLeads, mayTakeHub, shouldHandOver } from '../../../../src/sources/eventhubs/fleet/fair-share.js';

describe('fair share of hubs', () => {
  it('is ceil(hubs / live instances), and every hub for a lone instance', () => {
    assert.equal(fairShare(2, 2), 1);
    assert.equal(fairShare(3, 2), 2);
    assert.equal(fairShare(4, 3), 2);
    assert.equal(fairShare(5, 1), 5);
    assert.equal(fairShare(1, 4), 1);
    assert.equal(fairShare(2, 0), 2, 'no live member seen (storage unreachable): this instance alone');
  });

  it('lets a standby take a free hub below its share, or anyone after the grace period', () => {
    assert.equal(mayTakeHub(0, 1, 0, 4_000), true);
    assert.equal(mayTakeHub(1, 1, 0, 4_000), false, 'at its share: left to an instance with room');
    assert.equal(mayTakeHub(1, 1, 3_999, 4_000), false);
    assert.equal(mayTakeHub(1, 1, 4_000, 4_000), true, 'nobody with room took it: the hub is not left unread');
  });

  it('hands a hub over only above the share and only to an instance with room', () => {
    assert.equal(shouldHandOver(2, 1, [0]), true);
    assert.equal(shouldHandOver(2, 1, [1]), false, 'the other is at its share: nobody has room');
    assert.equal(shouldHandOver(1, 1, [0]), false, 'at its share: one hub is not moved back and forth');
    assert.equal(shouldHandOver(2, 2, [0]), false, 'three hubs on two instances: 2 + 1 is spread');
    assert.equal(shouldHandOver(3, 2, [0, 2]), true);
    assert.equal(shouldHandOver(2, 2, []), false, 'alone');
  });

  it('hands over one hub at a time per instance', () => {
    const leads = new InstanceLeads(4);
    assert.equal(leads.claimHandOver(), true);
    assert.equal(leads.claimHandOver(), false);
    leads.handOverDone();
    assert.equal(leads.claimHandOver(), true);
  });
});
