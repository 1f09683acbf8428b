import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { clientAddress, trustedProxies } from '../../src/web/client-address.js';

/** What clientAddress reads of a request: the peer's address and the headers. */
function request(remoteAddress: string | undefined, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage;
}

describe('the client address of a request', () => {
  test('with no trusted proxy, the peer is the client and X-Forwarded-For is ignored', () => {
    assert.deepEqual(clientAddress(request('10.0.0.3', '203.0.113.7'), trustedProxies([])), { address: '10.0.0.3' });
  });

  test('from a trusted proxy, the right-most forwarded address not itself trusted: what a client prepends is ignored', () => {
    const trusted = trustedProxies(['10.0.0.0/24']);
    assert.deepEqual(clientAddress(request('10.0.0.3', '198.51.100.1, 203.0.113.7'), trusted), { address: '203.0.113.7', via: '10.0.0.3' });
    assert.deepEqual(clientAddress(request('10.0.0.3', '198.51.100.1, 203.0.113.7, 10.0.0.2'), trusted), { address: '203.0.113.7', via: '10.0.0.3' }, 'two trusted hops');
    assert.deepEqual(clientAddress(request('::ffff:10.0.0.3', '203.0.113.7'), trusted), { address: '203.0.113.7', via: '::ffff:10.0.0.3' }, 'an IPv4 peer on a dual-stack socket');
  });

  test('an untrusted peer is the client whatever it forwards', () => {
    assert.deepEqual(clientAddress(request('10.0.1.3', '10.0.0.2'), trustedProxies(['10.0.0.0/24'])), { address: '10.0.1.3' });
  });

  test('a trusted proxy that forwards nothing is the client itself', () => {
    assert.deepEqual(clientAddress(request('10.0.0.3'), trustedProxies(['10.0.0.3'])), { address: '10.0.0.3' });
  });

  test("Application Gateway's address:port entries are read without the port, for the client and for trusted hops", () => {
    const trusted = trustedProxies(['10.0.0.0/24', 'fd00::/8']);
    assert.deepEqual(clientAddress(request('10.0.0.3', '203.0.113.7:51234'), trusted), { address: '203.0.113.7', via: '10.0.0.3' });
    assert.deepEqual(clientAddress(request('10.0.0.3', '[2001:db8::7]:51234'), trusted), { address: '2001:db8::7', via: '10.0.0.3' });
    assert.deepEqual(clientAddress(request('10.0.0.3', '203.0.113.7, 10.0.0.2:443'), trusted), { address: '203.0.113.7', via: '10.0.0.3' });
    assert.deepEqual(clientAddress(request('fd00::3', '[fd00::2]:443, 2001:db8::7'), trusted), { address: '2001:db8::7', via: 'fd00::3' });
  });

  test('an entry that is no address is counted against the trusted hop that forwarded it', () => {
    const trusted = trustedProxies(['10.0.0.0/24']);
    assert.deepEqual(clientAddress(request('10.0.0.3', 'unknown'), trusted), { address: '10.0.0.3' });
    assert.deepEqual(clientAddress(request('10.0.0.3', 'unknown, 10.0.0.2'), trusted), { address: '10.0.0.2', via: '10.0.0.3' });
  });

  test('the trusted proxies are addresses, CIDR ranges or named ranges; anything else is refused with the entry', () => {
    assert.equal(trustedProxies(['loopback'])('127.0.0.9', 0), true);
    assert.equal(trustedProxies(['uniquelocal'])('172.20.1.1', 0), true);
    assert.equal(trustedProxies(['10.0.0.0/255.255.255.0'])('10.0.0.200', 0), true);
    assert.throws(() => trustedProxies(['10.0.0.0/24', '10.0.0.0/33']), /^Error: 10\.0\.0\.0\/33 is not an address, a CIDR range or one of loopback, linklocal, uniquelocal \(invalid range on address: 10\.0\.0\.0\/33\)$/);
    assert.throws(() => trustedProxies(['ingress.example']), /ingress\.example is not an address/);
    assert.throws(() => trustedProxies(['0.0.0.0/0']), /0\.0\.0\.0\/0 is not an address/, 'trusting every address would let any client name itself');
  });
});
