import assert from 'node:assert/strict';
import { hostname, networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { allowedHosts, checkRequest, hostOf } from '../../src/web/request-guard.js';

describe('request guard', () => {
  test('bound to loopback, only loopback names pass', () => {
    const hosts = allowedHosts('127.0.0.1', {});
    for (const ok of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', '[::1]:8080', '127.0.0.2']) assert.equal(checkRequest({ host: ok }, hosts).ok, true, ok);
    for (const bad of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', 'localhost.evil.example', '10.0.0.5:8080']) {
      assert.equal(checkRequest({ host: bad }, hosts).ok, false, bad);
    }
    assert.equal(checkRequest({}, hosts).ok, false, 'no Host at all');
  });

  test('bound to all addresses, the machine’s own addresses and name pass, others do not', () => {
    const hosts = allowedHosts('0.0.0.0', {});
    const own = Object.values(networkInterfaces()).flatMap((a) => a ?? []).map((a) => a.address);
    for (const address of own) assert.equal(checkRequest({ host: address.includes(':') ? `[${address}]:1` : `${address}:1` }, hosts).ok, true, address);
    assert.equal(checkRequest({ host: `${hostname()}:8080` }, hosts).ok, true);
    assert.equal(checkRequest({ host: 'rebound.example' }, hosts).ok, false);
  });

  test('AUDITDUCK_HTTP_ALLOWED_HOSTS adds names, and * turns the Host check off', () => {
    assert.equal(checkRequest({ host: 'auditduck.corp.example' }, allowedHosts('0.0.0.0', { AUDITDUCK_HTTP_ALLOWED_HOSTS: 'auditduck.corp.example, other' })).ok, true);
    assert.equal(checkRequest({ host: 'anything' }, allowedHosts('127.0.0.1', { AUDITDUCK_HTTP_ALLOWED_HOSTS: '*' })).ok, true);
  });

  test('an Origin must be this same host; null and other sites are refused', () => {
    const hosts = allowedHosts('127.0.0.1', {});
    assert.equal(checkRequest({ host: 'localhost:8080', origin: 'http://localhost:8080' }, hosts).ok, true);
    for (const origin of ['null', 'http://evil.example', 'http://localhost:9999', 'file://', 'not a url']) {
      assert.equal(checkRequest({ host: 'localhost:8080', origin }, hosts).ok, false, origin);
    }
  });

  test('hostOf drops the port and IPv6 brackets', () => {
    assert.equal(hostOf('Example.COM:80'), 'example.com');
    assert.equal(hostOf('[::1]:8080'), '::1');
    assert.equal(hostOf('127.0.0.1'), '127.0.0.1');
  });
});
