import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeConfig, eventHubsOf, loadRunConfig } from '../../src/config/run-config.js';

const CONNECTION = 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0LWtleS12YWx1ZQ==;EntityPath=pg-audit';

async function configFile(content: unknown): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'auditduck-config-')), 'auditduck.json');
  await writeFile(path, JSON.stringify(content));
  return path;
}

describe('run configuration', () => {
  it('runs the demo with defaults when nothing is configured', async () => {
    const config = await loadRunConfig(undefined, {});
    assert.equal(config.eventHubs, undefined);
    assert.equal(config.db, './auditduck.duckdb');
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 8080, trustedProxies: [] });
    assert.deepEqual(config.snapshots.servers, []);
  });

  it('takes the DESIGN environment names, and the environment wins over the file', async () => {
    const file = await configFile({ db: 'from-file.duckdb', http: { port: 9000 }, eventHubs: { namespace: 'file.servicebus.windows.net', hubName: 'file-hub' } });
    const config = await loadRunConfig(file, {
      AUDITDUCK_DB: 'from-env.duckdb',
      AUDITDUCK_HTTP_PORT: '0',
      AUDITDUCK_EVENTHUB_NAME: 'env-hub',
      AUDITDUCK_CONSUMER_GROUP: 'auditduck',
      AUDITDUCK_START_POSITION: '2026-11-01T00:00:00Z',
      AUDITDUCK_CHECKPOINT_STORE: 'blob',
      AUDITDUCK_BLOB_ACCOUNT_URL: 'https://acct.blob.core.windows.net',
    });
    assert.equal(config.db, 'from-env.duckdb');
    assert.equal(config.http.port, 0);
    assert.equal(eventHubsOf(config)[0]!.hubName, 'env-hub');
    assert.equal(eventHubsOf(config)[0]!.namespace, 'file.servicebus.windows.net');
    assert.equal(eventHubsOf(config)[0]!.consumerGroup, 'auditduck');
    assert.equal(eventHubsOf(config)[0]!.checkpointStore, 'blob');
  });

  it('names the bad field, and never echoes a secret, when the configuration is invalid', async () => {
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_HTTP_PORT: 'eighty' }), /http\.port/);
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_EVENTHUB_CONNECTION_STRING: CONNECTION, AUDITDUCK_START_POSITION: 'yesterday' }), (error: Error) => {
      assert.match(error.message, /startPosition/);
      assert.doesNotMatch(error.message, /c2VjcmV0/);
      return true;
    });
    await assert.rejects(loadRunConfig(await configFile({ unknownSetting: 1 }), {}), /unknownSetting|Unrecognized/);
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_CHECKPOINT_STORE: 'blob', AUDITDUCK_EVENTHUB_CONNECTION_STRING: CONNECTION }), /blob/);
  });

  it('masks keys and webhook paths when the configuration is logged', async () => {
    const config = await loadRunConfig(undefined, { AUDITDUCK_EVENTHUB_CONNECTION_STRING: CONNECTION, AUDITDUCK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXSECRET' });
    const text = JSON.stringify(describeConfig(config));
    assert.doesNotMatch(text, /c2VjcmV0LWtleS12YWx1ZQ/);
    assert.doesNotMatch(text, /XXXXSECRET/);
    assert.match(text, /ns\.servicebus\.windows\.net/);
  });

  it('opens the query API to peers only with the fleet token, which it never prints', async () => {
    const token = 'a'.repeat(40);
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4' }), /queryApi\.token: .*needs the fleet's token: set AUDITDUCK_QUERY_API_TOKEN/);
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN: 'short' }), /at least 32 characters/);
    await assert.rejects(loadRunConfig(await configFile({ fleetPeers: ['https://10.0.0.5:8081'] }), {}), /fleetPeers: https:\/\/10\.0\.0\.5:8081 is the query API of another machine's run: set AUDITDUCK_QUERY_API_TOKEN/);
    await assert.rejects(loadRunConfig(await configFile({ fleetPeers: ['https://u:p@10.0.0.5:8081'] }), { AUDITDUCK_QUERY_API_TOKEN: token }), /fleetPeers: .*no credentials/);
    const config = await loadRunConfig(await configFile({ fleetPeers: ['https://10.0.0.5:8081', '/data/b.duckdb'] }), {
      AUDITDUCK_QUERY_API_HOST: '10.0.0.4',
      AUDITDUCK_QUERY_API_PORT: '9443',
      AUDITDUCK_QUERY_API_TOKEN: token,
    });
    assert.deepEqual(config.queryApi, { host: '10.0.0.4', port: 9443, token, trustedProxies: [] });
    const text = JSON.stringify(describeConfig(config));
    assert.ok(!text.includes(token), text);
    assert.match(text, /"token":"\(set\)"/);
  });

  it('takes the fleet token from a file (a mounted secret) instead, checked at start like the variable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-config-'));
    const file = join(dir, 'fleet-token');
    const [next, previous] = ['n'.repeat(40), 'p'.repeat(40)];
    await writeFile(file, `${next}\n${previous}\n`);
    const fromEnv = await loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN_FILE: file });
    assert.deepEqual(fromEnv.queryApi, { host: '10.0.0.4', port: 8081, tokenFile: file, trustedProxies: [] });
    const fromFile = await loadRunConfig(await configFile({ queryApi: { host: '10.0.0.4', tokenFile: file }, fleetPeers: ['https://10.0.0.5:8081'] }), {});
    assert.equal(fromFile.queryApi.tokenFile, file);
    const text = JSON.stringify(describeConfig(fromFile));
    assert.ok(!text.includes(next) && !text.includes(previous), text);
    assert.match(text, /"tokenFile":"[^"]*fleet-token"/);

    await assert.rejects(
      loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN_FILE: file, AUDITDUCK_QUERY_API_TOKEN: next }),
      /queryApi\.tokenFile: give the fleet's token either in queryApi\.token \(AUDITDUCK_QUERY_API_TOKEN\) or in queryApi\.tokenFile \(AUDITDUCK_QUERY_API_TOKEN_FILE\), not both/,
    );
    const short = 'a-short-secret';
    await writeFile(file, `${short}\n`);
    await assert.rejects(
      loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN_FILE: file }),
      (error: Error) => /queryApi\.tokenFile: .*fleet-token, line 1: a token must be at least 32 characters/.test(error.message) && !error.message.includes(short),
    );
    await assert.rejects(
      loadRunConfig(undefined, { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN_FILE: join(dir, 'missing') }),
      /queryApi\.tokenFile: cannot read the fleet's token file .*missing/,
    );
  });

  it('takes the trusted reverse proxies of the fleet listener from the file or AUDITDUCK_QUERY_API_TRUSTED_PROXIES, and names a bad entry', async () => {
    const token = 'a'.repeat(40);
    const fleet = { AUDITDUCK_QUERY_API_HOST: '10.0.0.4', AUDITDUCK_QUERY_API_TOKEN: token };
    assert.deepEqual((await loadRunConfig(undefined, fleet)).queryApi.trustedProxies, [], 'none trusted by default');
    const fromEnv = await loadRunConfig(undefined, { ...fleet, AUDITDUCK_QUERY_API_TRUSTED_PROXIES: '10.240.0.0/16, 10.0.0.7 ,fd00::/8' });
    assert.deepEqual(fromEnv.queryApi.trustedProxies, ['10.240.0.0/16', '10.0.0.7', 'fd00::/8']);
    assert.match(JSON.stringify(describeConfig(fromEnv)), /"trustedProxies":\["10\.240\.0\.0\/16","10\.0\.0\.7","fd00::\/8"\]/);
    const fromFile = await loadRunConfig(await configFile({ queryApi: { host: '10.0.0.4', trustedProxies: ['uniquelocal'] } }), { AUDITDUCK_QUERY_API_TOKEN: token });
    assert.deepEqual(fromFile.queryApi.trustedProxies, ['uniquelocal']);

    await assert.rejects(
      loadRunConfig(undefined, { ...fleet, AUDITDUCK_QUERY_API_TRUSTED_PROXIES: '10.240.0.0/16,10.0.0.0/33' }),
      /queryApi\.trustedProxies\.1: 10\.0\.0\.0\/33 is not an address, a CIDR range or one of loopback, linklocal, uniquelocal \(invalid range on address: 10\.0\.0\.0\/33\)/,
    );
    await assert.rejects(
      loadRunConfig(await configFile({ queryApi: { host: '10.0.0.4', trustedProxies: ['ingress-nginx'] } }), { AUDITDUCK_QUERY_API_TOKEN: token }),
      /queryApi\.trustedProxies\.0: ingress-nginx is not an address/,
    );
    await assert.rejects(
      loadRunConfig(undefined, { AUDITDUCK_QUERY_API_TRUSTED_PROXIES: '10.0.0.7' }),
      /queryApi\.trustedProxies: .*only the listener for the fleet's peers .*queryApi\.host/,
    );
  });

  it('takes the trusted reverse proxies of the dashboards from the file or AUDITDUCK_HTTP_TRUSTED_PROXIES, off loopback only, and names a bad entry', async () => {
    const offLoopback = { AUDITDUCK_HTTP_HOST: '0.0.0.0' };
    assert.deepEqual((await loadRunConfig(undefined, offLoopback)).http.trustedProxies, [], 'none trusted by default');
    const fromEnv = await loadRunConfig(undefined, { ...offLoopback, AUDITDUCK_HTTP_TRUSTED_PROXIES: ' 10.240.0.0/16,fd00::/8 ' });
    assert.deepEqual(fromEnv.http, { host: '0.0.0.0', port: 8080, trustedProxies: ['10.240.0.0/16', 'fd00::/8'] });
    const fromFile = await loadRunConfig(await configFile({ http: { host: '10.0.0.4', trustedProxies: ['uniquelocal'] } }), {});
    assert.deepEqual(fromFile.http.trustedProxies, ['uniquelocal']);

    await assert.rejects(
      loadRunConfig(undefined, { ...offLoopback, AUDITDUCK_HTTP_TRUSTED_PROXIES: '10.0.0.7,0.0.0.0/0' }),
      /http\.trustedProxies\.1: 0\.0\.0\.0\/0 is not an address, a CIDR range or one of loopback, linklocal, uniquelocal/,
    );
    await assert.rejects(
      loadRunConfig(undefined, { AUDITDUCK_HTTP_TRUSTED_PROXIES: '10.0.0.7' }),
      /http\.trustedProxies: .*on loopback .*no token.*http\.host \(AUDITDUCK_HTTP_HOST\)/,
    );
    const onLoopbackWithToken = await loadRunConfig(undefined, { AUDITDUCK_HTTP_TRUSTED_PROXIES: '127.0.0.1', AUDITDUCK_UI_TOKEN: 'a-token-of-sixteen-or-more' });
    assert.deepEqual(onLoopbackWithToken.http.trustedProxies, ['127.0.0.1'], 'a proxy on the same machine, in front of a token set on loopback');
  });

  it('accepts the example in docs/configuration.md', async () => {
    const docs = await readFile('docs/configuration.md', 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(docs)![1]!;
    const config = await loadRunConfig(await configFile(JSON.parse(example)), {});
    assert.equal(eventHubsOf(config)[0]!.hubName, 'pg-audit');
    assert.equal(config.snapshots.servers[0]?.name, 'prod-pg');
  });

  it('takes the lake from AUDITDUCK_LAKE with its interval and hot days, prints it without its SAS, and refuses hot days without a lake', async () => {
    const config = await loadRunConfig(undefined, {
      AUDITDUCK_LAKE: 'https://acct.blob.core.windows.net/audit-lake/prod?sv=2024&sig=SASSECRET',
      AUDITDUCK_LAKE_INTERVAL_MS: '30000',
      AUDITDUCK_RETENTION_HOT_DAYS: '7',
    });
    assert.equal(config.lakeExport.intervalMs, 30_000);
    assert.equal(config.retention.hotDays, 7);
    const text = JSON.stringify(describeConfig(config));
    assert.match(text, /acct\.blob\.core\.windows\.net\/audit-lake\/prod/);
    assert.doesNotMatch(text, /SASSECRET/);
    await assert.rejects(loadRunConfig(undefined, { AUDITDUCK_RETENTION_HOT_DAYS: '7' }), /retention\.hotDays: .* needs a lake/);
  });
});
