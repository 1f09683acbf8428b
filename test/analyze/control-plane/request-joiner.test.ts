import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestJoiner } from '../../../src/analyze/control-plane/request-joiner.js';
import type { ControlPlaneEvent } from '../../../src/contracts/control-plane-event.js';

const T0 = Date.parse('2026-11-21T03:05:00Z');

function ev(status: string, minutes: number, extra: Partial<ControlPlaneEvent> = {}): ControlPlaneEvent {
  const withValue = status === 'start';
  return {
    server: 'pg-prod', loggedAt: new Date(T0 + minutes * 60_000), operation: 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write',
    action: 'firewall-rule-write', status, caller: 'mallory@contoso.com', callerType: 'upn', callerRole: null, callerIp: '203.0.113.7',
    correlationId: 'c1', target: 'AllowAll', requestedValue: withValue ? '0.0.0.0-255.255.255.255' : null, requestedFrom: withValue ? 'request' : null,
    request: withValue ? { properties: { startIpAddress: '0.0.0.0', endIpAddress: '255.255.255.255' } } : null,
    subscription: 's', resourceGroup: 'rg', resourceId: '/x/allowall', category: 'Write', level: 'Information', resultSignature: null,
    statusCode: null, durationMs: null, properties: null, source: 'test', position: String(minutes), ...extra,
  };
}

describe('request joiner', () => {
  it('fills an outcome from its Start in the same batch, whichever comes first', () => {
    const joined = new RequestJoiner().join([ev('success', 1), ev('accept', 0.5), ev('start', 0)]);
    const success = joined.events[0]!;
    assert.equal(success.requestedValue, '0.0.0.0-255.255.255.255');
    assert.equal(success.requestedFrom, 'start');
    assert.deepEqual(success.request, { properties: { startIpAddress: '0.0.0.0', endIpAddress: '255.255.255.255' } });
    assert.equal(joined.events[1]!.requestedValue, null, 'an Accept is a request half, not an outcome: it stays as it came');
    assert.deepEqual(joined.completed, []);
  });

  it('fills an outcome of a later batch from a Start of an earlier one', () => {
    const joiner = new RequestJoiner();
    joiner.join([ev('start', 0)]);
    const { events, completed } = joiner.join([ev('failure', 1)]);
    assert.equal(events[0]!.requestedValue, '0.0.0.0-255.255.255.255');
    assert.deepEqual(completed, []);
  });

  it('an outcome stored before its Start is completed, once, when the Start arrives', () => {
    const joiner = new RequestJoiner();
    const first = joiner.join([ev('success', 1)]);
    assert.equal(first.events[0]!.requestedValue, null);
    const second = joiner.join([ev('start', 0)]);
    assert.equal(second.completed.length, 1);
    assert.equal(second.completed[0]!.completedLate, true);
    assert.equal(second.completed[0]!.status, 'success');
    assert.equal(second.completed[0]!.requestedValue, '0.0.0.0-255.255.255.255');
    assert.deepEqual(joiner.join([ev('start', 0, { position: 'again' })]).completed, [], 'a redelivered Start completes nothing twice');
  });

  it('keys by correlation id, operation and resource: another request of the same correlation is not filled', () => {
    const joiner = new RequestJoiner();
    const { events } = joiner.join([ev('start', 0), ev('success', 1, { resourceId: '/x/other' }), ev('success', 1, { correlationId: 'c2' }), ev('success', 1, { correlationId: null })]);
    assert.deepEqual(events.slice(1).map((e) => e.requestedValue), [null, null, null]);
  });

  it('forgets halves older than the hold time in event time, and keeps at most maxPending', () => {
    const joiner = new RequestJoiner({ holdMinutes: 10 });
    joiner.join([ev('start', 0)]);
    joiner.join([ev('success', 30, { correlationId: 'other' })]);
    assert.equal(joiner.join([ev('success', 31)]).events[0]!.requestedValue, null, 'the Start was dropped after 10 minutes');

    const small = new RequestJoiner({ maxPending: 2 });
    small.join([ev('start', 0, { correlationId: 'a' }), ev('start', 0, { correlationId: 'b' }), ev('start', 0, { correlationId: 'c' })]);
    assert.equal(small.pending, 2);
    assert.equal(small.join([ev('success', 1, { correlationId: 'a' })]).events[0]!.requestedValue, null, 'the oldest went first');
    assert.equal(small.join([ev('success', 1, { correlationId: 'c' })]).events[0]!.requestedValue, '0.0.0.0-255.255.255.255');
  });

  it("an outcome's own request body wins over its Start's", () => {
    const { events } = new RequestJoiner().join([ev('start', 0), ev('success', 1, { requestedValue: '1.1.1.1-1.1.1.1', requestedFrom: 'request' })]);
    assert.equal(events[1]!.requestedValue, '1.1.1.1-1.1.1.1');
  });
});
