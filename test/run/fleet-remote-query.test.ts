/**
 * A fleet queried across machines: two real `run` instances, each holding its store and answering the fleet
 * on a non-loopback address of this machine (queryApi.host) for the fleet's token, queried the way a peer on
 * another VM queries them, by URL: `query --fleet URL --fleet URL`, a dashboard panel of a `run` whose
 * `fleetPeers` is the other's URL, and `serve --fleet URL --fleet URL`. The stores share one file's records
 * (the same source and positions, as a batch read twice around a takeover): every record counts once. A
 * missing or wrong token is refused, the fleet listener answers nothing but read-only queries, the local API
 * stays on loopback, and `run` refuses to open the API to the network without a token. B takes the token from a
 * file (a mounted secret): rotated there, the new and the previous token are accepted without a restart. Wrong
 * tokens from one address get 429 after a few, counted in /metrics and logged without the token.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { readDiscoveryFile } from '../../src/contracts/query-api-discovery.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { startCli, stopChild, waitServing } from '../support/run-child.js';
import { startForwardingProxy } from '../support/forwarding-proxy.js';
import { queryStore } from '../support/store-reader.js';
import { readCapture, writeCaptureParts } from '../web/dashboards/sample-capture.js';
import { CLI } from '../support/cli-command.js';

const run = promisify(execFile);
/** The reverse proxy in front of B's listener for peers: B trusts its X-Forwarded-For. */
const PROXY_OF_B = '127.0.0.7';
const ALL_TIME = 'since=1970-01-01T00:00:00Z';

/** An address of this machine other peers would reach it on: not loopback. */
const ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** `auditduck query` as a separate process; its exit code, stdout and stderr. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('a fleet queried across machines, through the query API for peers', { skip: ADDRESS ? false : 'this machine has no non-loopback IPv4 address' }, () => {
  const token = randomBytes(32).toString('base64url');
  const withToken = { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn', AUDITDUCK_QUERY_API_TOKEN: token };
  let dir: string;
  let stores: { a: string; b: string };
  let expected: number;
  let broker: EventHubsBroker;
  let peers: { a: string; b: string };
  let dashboardsOfA: string;
  let metricsOfA: string;
  let outputOfA: () => string;
  let tokenFileOfB: string;
  let outputOfB: () => string;
  const children: ChildProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-remote-'));
    stores = { a: join(dir, 'a.duckdb'), b: join(dir, 'b.duckdb') };
    // The capture in three parts: A holds the first two, B the last two; the middle one is in both stores.
    const parts = await writeCaptureParts(dir, 3);
    const ingest = (db: string, files: string[]) => ingestFiles(files, { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: pino({ level: 'silent' }) });
    await ingest(stores.a, parts.slice(0, 2));
    await ingest(stores.b, parts.slice(1));
    expected = readCapture(parts).auditEvents.length;
    const inA = Number((await queryStore(stores.a, 'SELECT count(*) AS n FROM audit_events'))[0]!.n);
    const inB = Number((await queryStore(stores.b, 'SELECT count(*) AS n FROM audit_events'))[0]!.n);
    assert.ok(inA < expected && inB < expected && inA + inB > expected, 'each store holds part of the fleet, and they share records');

    // Two instances on an empty hub: they hold their stores and answer queries.
    broker = await startEventHubsBroker({ hubName: 'fleet-remote', partitionCount: 1 });
    const hub = { connectionString: broker.connectionString, hubName: 'fleet-remote' };
    const [apiA, apiB, httpA, httpB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    peers = { a: `http://${ADDRESS}:${apiA}`, b: `http://${ADDRESS}:${apiB}` };
    const fleetEnv = (port: number) => ({ AUDITDUCK_QUERY_API_HOST: ADDRESS!, AUDITDUCK_QUERY_API_PORT: String(port), AUDITDUCK_QUERY_API_TOKEN: token });
    const configA = join(dir, 'a.json');
    await writeFile(configA, JSON.stringify({ fleetPeers: [peers.b] }));
    tokenFileOfB = join(dir, 'fleet-token-b');
    await writeFile(tokenFileOfB, `${token}\n`);
    const runA = startCli(['run', '--config', configA], runEnv({ db: stores.a, port: httpA, hub, instanceId: 'a', extra: fleetEnv(apiA) }));
    children.push(runA.child);
    outputOfA = runA.output;
    const fileEnvOfB = {
      ...fleetEnv(apiB),
      AUDITDUCK_QUERY_API_TOKEN: '',
      AUDITDUCK_QUERY_API_TOKEN_FILE: tokenFileOfB,
      AUDITDUCK_QUERY_API_TRUSTED_PROXIES: `${PROXY_OF_B}/32`,
    };
    // At info: the test waits for B to log that it read its token file again.
    const runB = startCli(['run'], runEnv({ db: stores.b, port: httpB, hub, instanceId: 'b', logLevel: 'info', extra: fileEnvOfB }));
    children.push(runB.child);
    outputOfB = runB.output;
    dashboardsOfA = `http://127.0.0.1:${httpA}`;
    metricsOfA = `${dashboardsOfA}/metrics`;
    await waitServing('run A', httpA);
    await waitServing('run B', httpB);
  });

  after(async () => {
    for (const child of children) await stopChild(child);
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('query --fleet with two peer URLs counts every record of the fleet once', async () => {
    const { code, stdout, stderr } = await cli(
      ['query', '--fleet', peers.a, '--fleet', peers.b, '--format', 'json', 'SELECT fleet_member, count(*) AS n FROM audit_events GROUP BY ALL ORDER BY ALL'],
      withToken,
    );
    assert.equal(code, 0, stderr);
    const rows = JSON.parse(stdout) as { fleet_member: string; n: number }[];
    assert.deepEqual(rows.map((r) => r.fleet_member), [`${ADDRESS}:${new URL(peers.a).port}`, `${ADDRESS}:${new URL(peers.b).port}`].sort());
    assert.equal(rows.reduce((sum, r) => sum + r.n, 0), expected);
  });

  it('a missing or wrong token is refused, and the token is never printed', async () => {
    const sql = 'SELECT count(*) FROM audit_events';
    const missing = await cli(['query', '--fleet', peers.a, '--fleet', peers.b, sql], { ...process.env, AUDITDUCK_QUERY_API_TOKEN: '' });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /set AUDITDUCK_QUERY_API_TOKEN/);
    const wrongToken = randomBytes(32).toString('base64url');
    const wrong = await cli(['query', '--fleet', peers.a, '--fleet', peers.b, sql], { ...process.env, AUDITDUCK_QUERY_API_TOKEN: wrongToken });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /refused the token: missing or wrong bearer token/);
    assert.ok(!wrong.stderr.includes(wrongToken) && !wrong.stderr.includes(token));
    const none = await fetch(`${peers.a}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
    assert.equal(none.status, 401);
  });

  it('the fleet listener answers read-only queries only; the local API stays on loopback', async () => {
    const post = (path: string, body: object) =>
      fetch(`${peers.a}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('/api/query', { sql: 'SELECT 1 AS one' })).status, 200);
    assert.equal((await post('/api/query', { sql: 'DELETE FROM audit_events' })).status, 403);
    const local = readDiscoveryFile(stores.a)!;
    const fileRead = await post('/api/query', { sql: `SELECT * FROM read_text('${stores.a}.api.json')` });
    assert.equal(fileRead.status, 403, 'the confinement refuses reading a file');
    assert.ok(!(await fileRead.text()).includes(local.token));
    assert.equal((await post('/api/alerts/acknowledge', { ids: [1], by: 'someone' })).status, 404, 'acknowledging stays with the local API');
    assert.equal(local.host, '127.0.0.1');
    await assert.rejects(fetch(`http://${ADDRESS}:${local.port}/api/query`, { method: 'POST' }), 'the local API is not reachable off loopback');
  });

  it("a dashboard panel of run with fleetPeers: [peer URL] counts the fleet's records once", async () => {
    const response = await fetch(`${dashboardsOfA}/api/dashboards/overview/panels/audit-events?${ALL_TIME}`);
    const body = (await response.json()) as { rows: { audit_events: number }[]; error?: string };
    assert.equal(response.status, 200, body.error);
    assert.equal(Number(body.rows[0]!.audit_events), expected);
  });

  it('serve --fleet with two peer URLs: a panel counts the fleet once', async () => {
    const port = await freePort();
    const serve = startCli(['serve', '--fleet', peers.a, '--fleet', peers.b, '--port', String(port)], withToken);
    children.push(serve.child);
    const base = await waitFor('serve to print its URL', async () => /at (http:\S+?)\/?\s/.exec(serve.output())?.[1], 60_000);
    const body = (await (await fetch(`${base}/api/dashboards/overview/panels/audit-events?${ALL_TIME}`)).json()) as { rows: { audit_events: number }[]; error?: string };
    assert.equal(Number(body.rows?.[0]?.audit_events), expected, body.error);
    await stopChild(serve.child);
    const refused = await cli(['serve', '--fleet', peers.a, '--fleet', peers.b, '--port', '0'], { ...process.env, AUDITDUCK_QUERY_API_TOKEN: '' });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /set AUDITDUCK_QUERY_API_TOKEN/);
  });

  it('run refuses to open the query API to other machines without a token', async () => {
    const env = runEnv({ db: join(dir, 'c.duckdb'), port: 0, extra: { AUDITDUCK_QUERY_API_HOST: ADDRESS!, AUDITDUCK_QUERY_API_TOKEN: '' } });
    const noToken = await cli(['run'], env);
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.stderr, /queryApi\.token: queryApi\.host \(AUDITDUCK_QUERY_API_HOST=.*\) opens the query API to the fleet's other machines, so it needs the fleet's token/);
    const short = await cli(['run'], { ...env, AUDITDUCK_QUERY_API_TOKEN: 'short-token' });
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /AUDITDUCK_QUERY_API_TOKEN must be at least 32 characters/);
    assert.ok(!short.stderr.includes('short-token'), 'the token is not printed');
  });

  it('a token file rotates without a restart: the new and the previous token both open it, then only the new one', async () => {
    const next = randomBytes(32).toString('base64url');
    const post = (auth: string) =>
      fetch(`${peers.b}/api/query`, { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body: JSON.stringify({ sql: 'SELECT 1 AS one' }) }).then((r) => r.status);
    // Probing until it opens would be refused 429 after ten tries: wait for B to say it read the file instead.
    const rereads = () => outputOfB().match(/the fleet's token file changed/g)?.length ?? 0;
    const rotate = async (text: string) => {
      const seen = rereads();
      await writeFile(tokenFileOfB, text);
      await waitFor('B to read its token file again', async () => (rereads() > seen ? true : undefined), 30_000);
    };
    assert.equal(await post(next), 401, 'not yet listed');
    await rotate(`${next}\n${token}\n`);
    assert.match(outputOfB(), /accepting 2 tokens/);
    assert.equal(await post(next), 200, 'the new token opens it');
    assert.equal(await post(token), 200, 'the previous token still opens it while listed');
    const clientFile = join(dir, 'client-token');
    await writeFile(clientFile, `${next}\n${token}\n`);
    const viaFile = await cli(['query', '--fleet', peers.b, '--fleet', peers.b, '--format', 'json', 'SELECT count(*) AS n FROM audit_events'], {
      ...process.env,
      AUDITDUCK_QUERY_API_TOKEN: '',
      AUDITDUCK_QUERY_API_TOKEN_FILE: clientFile,
    });
    assert.equal(viaFile.code, 0, `query --fleet sends the first line of AUDITDUCK_QUERY_API_TOKEN_FILE: ${viaFile.stderr}`);
    await rotate(`${next}\n`);
    assert.equal(await post(token), 401, 'the previous token no longer opens it');
    assert.equal(await post(next), 200);
    await rotate(`${token}\n`);
    assert.ok(!outputOfB().includes(next) && !outputOfB().includes(token), 'no token in the log');
  });

  it('wrong tokens from one address: 429 with Retry-After after ten, other addresses still answered, counted in /metrics, logged without the token', async () => {
    const refusedOfA = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(metricsOfA)).text();
      const counts: Record<string, number> = {};
      for (const m of text.matchAll(/^auditduck_query_api_refused_total\{listener="fleet",reason="([a-z-]+)"\} (\d+)$/gm)) counts[m[1]!] = Number(m[2]);
      return counts;
    };
    const before = await refusedOfA();
    const wrong = randomBytes(32).toString('base64url');
    const from = (source: string, auth: string) =>
      new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
        const url = new URL(peers.a);
        const req = httpRequest({ host: url.hostname, port: url.port, localAddress: source, method: 'POST', path: '/api/query', headers: { authorization: `Bearer ${auth}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ sql: 'SELECT 1' }));
      });
    for (let i = 0; i < 10; i++) assert.equal((await from('127.0.0.5', wrong)).status, 401);
    const limited = await from('127.0.0.5', token);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.retryAfter) > 0, `Retry-After: ${limited.retryAfter}`);
    assert.equal((await from('127.0.0.6', token)).status, 200, 'the right token from another address');
    const afterwards = await refusedOfA();
    assert.equal((afterwards['wrong-token'] ?? 0) - (before['wrong-token'] ?? 0), 10);
    assert.equal((afterwards['cooling-off'] ?? 0) - (before['cooling-off'] ?? 0), 1);
    const log = outputOfA();
    assert.match(log, /127\.0\.0\.5/);
    assert.match(log, /cooling off/);
    assert.ok(!log.includes(wrong) && !log.includes(token), 'no token in the log');
  });

  it("B behind a reverse proxy it trusts: one client's ten wrong tokens cool that client off, not the proxy's other clients", async () => {
    const url = new URL(peers.b);
    const proxy = await startForwardingProxy({ host: url.hostname, port: Number(url.port) }, PROXY_OF_B);
    const wrong = randomBytes(32).toString('base64url');
    const through = (client: string, auth: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: proxy.port, localAddress: client, method: 'POST', path: '/api/query', headers: { authorization: `Bearer ${auth}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ sql: 'SELECT 1' }));
      });
    try {
      for (let i = 0; i < 10; i++) assert.equal(await through('127.0.0.8', wrong), 401);
      assert.equal(await through('127.0.0.8', token), 429);
      assert.equal(await through('127.0.0.9', token), 200, 'another client through the same proxy');
      assert.match(outputOfB(), /refused a wrong token from 127\.0\.0\.8 \(through 127\.0\.0\.7\)/);
    } finally {
      await proxy.close();
    }
  });
});
