import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeRouteConfig, loadRouteConfig } from '../../src/route/route-config.js';
import { parseEventHubsSourceConfig } from '../../src/sources/eventhubs/eventhubs-config.js';

const SECRET = 'c2VjcmV0LWtleS12YWx1ZQ==';
const hubString = (hub: string) => `Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=${SECRET};EntityPath=${hub}`;
const blob = `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${SECRET};EndpointSuffix=core.windows.net`;

describe('route configuration', () => {
  it('takes the hub it reads from the eventHubs environment names, the keyed hub from AUDITDUCK_ROUTE_TO_*, flags last', async () => {
    const config = await loadRouteConfig(
      undefined,
      {
        AUDITDUCK_EVENTHUB_CONNECTION_STRING: hubString('pg-busy'),
        AUDITDUCK_BLOB_CONNECTION_STRING: blob,
        AUDITDUCK_ROUTE_TO_NAMESPACE: 'contoso.servicebus.windows.net',
        AUDITDUCK_ROUTE_TO_HUB: 'ignored',
      },
      { toHub: 'pg-busy-keyed', port: 9400 },
    );
    assert.equal(config.to.hubName, 'pg-busy-keyed');
    assert.equal(config.http.port, 9400);
    const described = JSON.stringify(describeRouteConfig(config));
    assert.match(described, /contoso\.servicebus\.windows\.net\/pg-busy/);
    assert.ok(!described.includes(SECRET), 'no key in what the start log shows');
  });

  it('names the fields it refuses, never their values', async () => {
    await assert.rejects(
      loadRouteConfig(undefined, { AUDITDUCK_EVENTHUB_CONNECTION_STRING: hubString('pg-busy'), AUDITDUCK_EVENTHUB_NAMESPACE: 'x' }),
      (error: Error) => /route\.from/.test(error.message) && /route\.to/.test(error.message) && !error.message.includes(SECRET),
    );
  });

  it('refuses to write into the hub it reads', async () => {
    await assert.rejects(
      loadRouteConfig(undefined, { AUDITDUCK_EVENTHUB_CONNECTION_STRING: hubString('pg-busy'), AUDITDUCK_BLOB_CONNECTION_STRING: blob, AUDITDUCK_ROUTE_TO_CONNECTION_STRING: hubString('pg-busy') }),
      /into the hub it reads/,
    );
  });
});

describe('eventHubs ownership', () => {
  it('balanced needs the Blob checkpoint container', () => {
    assert.throws(() => parseEventHubsSourceConfig({ connectionString: hubString('k'), ownership: 'balanced' }), /eventHubs\.ownership: .*checkpointStore blob/);
    assert.equal(parseEventHubsSourceConfig({ connectionString: hubString('k'), ownership: 'balanced', checkpointStore: 'blob', blobConnectionString: blob }).ownership, 'balanced');
    assert.equal(parseEventHubsSourceConfig({ connectionString: hubString('k') }).ownership, 'leader');
  });
});
