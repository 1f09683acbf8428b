import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientKey, FailedAuthLimit } from '../../src/web/failed-auth-limit.js';

/** A limit on a clock the test moves. */
function limitAt(opts: { maxFailures?: number; windowMs?: number; coolOffMs?: number; maxAddresses?: number } = {}) {
  const clock = { now: 1_000_000 };
  const limit = new FailedAuthLimit({ maxFailures: 3, windowMs: 60_000, coolOffMs: 30_000, maxAddresses: 100, ...opts, now: () => clock.now });
  return { limit, clock };
}

describe('failed authentication limit', () => {
  test('an address cools off once it failed maxFailures times within the window, with the seconds left', () => {
    const { limit, clock } = limitAt();
    for (let i = 0; i < 3; i++) {
      assert.equal(limit.coolingOff('10.0.0.9'), null, `failure ${i} still answered`);
      limit.failed('10.0.0.9');
    }
    assert.deepEqual(limit.coolingOff('10.0.0.9'), { retryAfterSeconds: 30, warn: true });
    clock.now += 10_500;
    assert.deepEqual(limit.coolingOff('10.0.0.9'), { retryAfterSeconds: 20, warn: false }, 'one warning per cool-off');
    clock.now += 19_500;
    assert.equal(limit.coolingOff('10.0.0.9'), null, 'answered again once the cool-off ended');
    assert.equal(limit.failed('10.0.0.9').warn, true, 'a new window, a new warning');
  });

  test('failures spread wider than the window never cool an address off', () => {
    const { limit, clock } = limitAt();
    for (let i = 0; i < 10; i++) {
      limit.failed('10.0.0.9');
      limit.failed('10.0.0.9');
      clock.now += 60_000;
      assert.equal(limit.coolingOff('10.0.0.9'), null);
    }
  });

  test('one warning per address per window: the first failure of the window', () => {
    const { limit, clock } = limitAt({ maxFailures: 100 });
    assert.equal(limit.failed('10.0.0.9').warn, true);
    assert.equal(limit.failed('10.0.0.9').warn, false);
    assert.equal(limit.failed('10.0.0.8').warn, true, 'another address has its own window');
    clock.now += 60_000;
    assert.equal(limit.failed('10.0.0.9').warn, true);
  });

  test('another address is not cooled off by the failures of one', () => {
    const { limit } = limitAt();
    for (let i = 0; i < 5; i++) limit.failed('10.0.0.9');
    assert.ok(limit.coolingOff('10.0.0.9'));
    assert.equal(limit.coolingOff('10.0.0.5'), null);
  });

  test('the table holds at most maxAddresses: an attacker rotating addresses does not grow it', () => {
    const { limit, clock } = limitAt({ maxAddresses: 50 });
    for (let i = 0; i < 10_000; i++) {
      limit.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      clock.now += 1;
      assert.ok(limit.size <= 50, `${limit.size} addresses held`);
    }
    assert.equal(limit.size, 50);
  });

  test('when full, expired addresses go first, then the one that failed longest ago', () => {
    const { limit, clock } = limitAt({ maxAddresses: 3 });
    for (let i = 0; i < 3; i++) limit.failed('10.0.0.1');
    limit.failed('10.0.0.2');
    clock.now += 40_000;
    limit.failed('10.0.0.3');
    limit.failed('10.0.0.4');
    assert.ok(limit.coolingOff('10.0.0.1') === null, 'its cool-off ended: it was dropped first');
    limit.failed('10.0.0.5');
    assert.equal(limit.size, 3);
    assert.equal(limit.failed('10.0.0.2').warn, true, '10.0.0.2 was the oldest left: dropped, so a new window');
  });
});

describe('client key', () => {
  test('an IPv4 address as itself, an IPv4-mapped IPv6 address as its IPv4', () => {
    assert.equal(clientKey('10.0.0.4'), '10.0.0.4');
    assert.equal(clientKey('::ffff:10.0.0.4'), '10.0.0.4');
  });

  test('an IPv6 address by its /64: one host holds a whole /64', () => {
    assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
  });

  test('an unknown address (the socket closed) is one key', () => {
    assert.equal(clientKey(undefined), 'unknown');
  });
});
