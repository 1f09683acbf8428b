import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { describeLake, parseLakeLocation } from '../../src/lake/lake-location.js';

describe('where the lake is, from the string users give', () => {
  const cases: [string, ReturnType<typeof parseLakeLocation>][] = [
    ['/var/lib/auditduck/lake', { kind: 'directory', path: '/var/lib/auditduck/lake' }],
    ['lake', { kind: 'directory', path: resolve('lake') }],
    ['https://acct.blob.core.windows.net/audit-lake/prod/eu', { kind: 'blob', serviceUrl: 'https://acct.blob.core.windows.net', container: 'audit-lake', prefix: 'prod/eu', sas: null }],
    ['https://acct.blob.core.windows.net/audit-lake', { kind: 'blob', serviceUrl: 'https://acct.blob.core.windows.net', container: 'audit-lake', prefix: '', sas: null }],
    ['http://127.0.0.1:10000/devstoreaccount1/audit-lake/prod', { kind: 'blob', serviceUrl: 'http://127.0.0.1:10000/devstoreaccount1', container: 'audit-lake', prefix: 'prod', sas: null }],
    ['https://acct.blob.core.windows.net/audit-lake/prod?sv=2024&sig=abc', { kind: 'blob', serviceUrl: 'https://acct.blob.core.windows.net', container: 'audit-lake', prefix: 'prod', sas: 'sv=2024&sig=abc' }],
  ];
  for (const [text, expected] of cases) it(`reads ${text}`, () => assert.deepEqual(parseLakeLocation(text), expected));

  it('refuses a URL without a container, and an empty lake, saying what to give', () => {
    assert.throws(() => parseLakeLocation('https://acct.blob.core.windows.net/'), /names no container: give https:\/\/ACCOUNT/);
    assert.throws(() => parseLakeLocation('  '), /the lake is empty/);
  });

  it('prints a lake without its SAS token', () => {
    assert.equal(describeLake('https://a.blob.core.windows.net/c/p?sv=1&sig=SECRET'), 'https://a.blob.core.windows.net/c/p?<SAS redacted>');
  });
});
