import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessToken } from '@azure/identity';
import { entraPasswordProvider } from '../../src/snapshot/server-connection.js';
import { ENTRA_POSTGRES_SCOPE, snapshotConfigSchema, watchedServerSchema } from '../../src/snapshot/watched-server.js';

describe('watched server configuration', () => {
  it('verifies TLS by default and fills the port, database and Entra scope', () => {
    const s = watchedServerSchema.parse({ name: 'prod', host: 'prod.postgres.database.azure.com', user: 'auditduck', auth: { kind: 'entra' } });
    assert.equal(s.sslmode, 'verify-full');
    assert.equal(s.port, 5432);
    assert.equal(s.database, 'postgres');
    assert.deepEqual(s.auth, { kind: 'entra', scope: ENTRA_POSTGRES_SCOPE });
  });

  const rejected: [string, unknown][] = [
    ['a password in the file', { name: 'a', host: 'h', user: 'u', auth: { kind: 'password-env', env: 'PW' }, password: 'x' }],
    ['TLS turned off', { name: 'a', host: 'h', user: 'u', sslmode: 'disable', auth: { kind: 'entra' } }],
    ['an env var name that is not one', { name: 'a', host: 'h', user: 'u', auth: { kind: 'password-env', env: 'pw=secret' } }],
    ['an unknown auth kind', { name: 'a', host: 'h', user: 'u', auth: { kind: 'password', value: 'x' } }],
  ];
  for (const [name, input] of rejected) it(`rejects ${name}`, () => assert.equal(watchedServerSchema.safeParse(input).success, false));

  it('takes the interval as a duration and rejects a server listed twice', () => {
    const server = { name: 'a', host: 'h', user: 'u', auth: { kind: 'entra' } };
    assert.equal(snapshotConfigSchema.parse({ servers: [server], interval: '5m' }).interval, 300_000);
    assert.equal(snapshotConfigSchema.safeParse({ servers: [server, server] }).success, false);
    assert.equal(snapshotConfigSchema.safeParse({ interval: 'soon' }).success, false);
  });
});

describe('Entra token as the password', () => {
  it('asks the credential for the PostgreSQL scope, caches the token and refreshes it five minutes before expiry', async () => {
    let now = 1_000_000;
    const scopes: string[] = [];
    let n = 0;
    const credential = {
      async getToken(scope: string | string[]): Promise<AccessToken> {
        scopes.push(String(scope));
        n += 1;
        return { token: `t${n}`, expiresOnTimestamp: now + 60 * 60_000 };
      },
    };
    const password = entraPasswordProvider(ENTRA_POSTGRES_SCOPE, credential, () => now);
    assert.equal(await password(), 't1');
    now += 50 * 60_000;
    assert.equal(await password(), 't1');
    now += 6 * 60_000; // 4 minutes left
    assert.equal(await password(), 't2');
    assert.deepEqual(scopes, [ENTRA_POSTGRES_SCOPE, ENTRA_POSTGRES_SCOPE]);
  });

  it('keeps using a still-valid token when a refresh fails, and explains when none is left', async () => {
    let now = 0;
    let fail = false;
    const credential = {
      async getToken(): Promise<AccessToken> {
        if (fail) throw new Error('ManagedIdentityCredential: endpoint unavailable');
        return { token: 'ok', expiresOnTimestamp: now + 10 * 60_000 };
      },
    };
    const password = entraPasswordProvider(ENTRA_POSTGRES_SCOPE, credential, () => now);
    assert.equal(await password(), 'ok');
    fail = true;
    now += 6 * 60_000;
    assert.equal(await password(), 'ok');
    now += 10 * 60_000;
    await assert.rejects(password(), /getting a Microsoft Entra token failed: ManagedIdentityCredential/);
  });
});
