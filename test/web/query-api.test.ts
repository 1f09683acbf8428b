import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/logging/logger.js';
import { confineDatabase } from '../../src/query/confine-database.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';
import { waitFor } from '../support/local-ports.js';
import { rawRequest } from '../support/raw-http.js';
import { startForwardingProxy, type ForwardingProxy } from '../support/forwarding-proxy.js';
import { acknowledgeAlerts, type AckClassification } from '../../src/detect/acknowledge-alerts.js';
import { newApiToken, startQueryApi, type QueryApi, type QueryApiOptions } from '../../src/web/query-api.js';

/** A store in memory, confined as `run` confines it, and a query API on it (limits 1 s and 1,000 rows, any free port). */
async function openConfinedApi(
  opts: Omit<QueryApiOptions, 'connection' | 'exportDir' | 'port'>,
  seed?: (db: Database) => Promise<unknown>,
): Promise<{ db: Database; api: QueryApi; exportDir: string }> {
  const db = await openDatabase(':memory:');
  await seed?.(db);
  const exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-api-'));
  await confineDatabase(db.connection, { writableDirs: [exportDir] });
  const api = await startQueryApi({ connection: await db.instance.connect(), exportDir, limits: { timeoutMs: 1_000, maxRows: 1_000 }, port: 0, ...opts });
  return { db, api, exportDir };
}

async function closeConfinedApi(db: Database, api: QueryApi, exportDir: string): Promise<void> {
  await api.close();
  await closeDatabase(db);
  await rm(exportDir, { recursive: true, force: true });
}

describe('query API', () => {
  let db: Database;
  let api: QueryApi;
  let exportDir: string;
  const token = newApiToken();
  const post = (body: unknown, auth = `Bearer ${token}`) =>
    fetch(`http://127.0.0.1:${api.port}/api/query`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify(body) });

  before(async () => {
    ({ db, api, exportDir } = await openConfinedApi({ token }, (d) => d.connection.run(`INSERT INTO dead_letters VALUES ('s', '1', 'r', 'raw', now())`)));
  });
  after(() => closeConfinedApi(db, api, exportDir));

  test('returns rows as --format json does, with bound parameters', async () => {
    const r = await post({ sql: 'SELECT source, $x AS x, 1 AS n FROM dead_letters', params: { x: 'y' } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { columns: ['source', 'x', 'n'], rows: [{ source: 's', x: 'y', n: 1 }] });
  });

  test('a missing or wrong token is 401', async () => {
    assert.equal((await post({ sql: 'SELECT 1' }, 'Bearer nope')).status, 401);
    assert.equal((await post({ sql: 'SELECT 1' }, '')).status, 401);
  });

  test('a statement that could write is 403 and the table is unchanged', async () => {
    const r = await post({ sql: 'DELETE FROM dead_letters' });
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { error: string }).error, /refused: statement 1 is DELETE/);
    const count = await post({ sql: 'SELECT count(*) AS n FROM dead_letters' });
    assert.deepEqual(((await count.json()) as { rows: unknown[] }).rows, [{ n: 1 }]);
  });

  test('bad JSON, unknown fields and SQL errors are 400 with the reason', async () => {
    const bad = await fetch(`http://127.0.0.1:${api.port}/api/query`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{' });
    assert.equal(bad.status, 400);
    assert.equal((await post({ sql: 'SELECT 1', extra: true })).status, 400);
    const r = await post({ sql: 'SELECT * FROM no_such_table' });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /no_such_table/);
  });

  test('a runaway query ends with 408 at the time limit, and the next query runs', async () => {
    const started = Date.now();
    const r = await post({ sql: 'SELECT count(*) FROM range(1000000000000)' });
    assert.equal(r.status, 408);
    assert.match(((await r.json()) as { error: string }).error, /ran past 1s and was stopped \(AUDITDUCK_QUERY_TIMEOUT\)/);
    assert.ok(Date.now() - started < 10_000);
    assert.deepEqual(await (await post({ sql: 'SELECT 42 AS n' })).json(), { columns: ['n'], rows: [{ n: 42 }] });
  });

  test('a result over the row limit is 413 before it is held in memory, and the next query runs', async () => {
    const r = await post({ sql: 'SELECT range AS n FROM range(30000000)' });
    assert.equal(r.status, 413);
    assert.match(((await r.json()) as { error: string }).error, /more than 1000 rows \(AUDITDUCK_QUERY_MAX_ROWS\)/);
    assert.equal((await post({ sql: 'SELECT range AS n FROM range(1000)' })).status, 200, 'the limit itself is allowed');
  });

  test('a file answer is not capped by the row limit: it streams back as Parquet', async () => {
    const r = await post({ sql: 'SELECT range AS n FROM range(1000000)', format: 'parquet' });
    assert.equal(r.status, 200);
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
    await waitFor('the file removed once sent', async () => (readdirSync(exportDir).length === 0 ? true : undefined), 5_000);
  });

  test('a body over 1 MiB is 413', async () => {
    const r = await post({ sql: `SELECT '${'x'.repeat(1_100_000)}'` });
    assert.equal(r.status, 413);
  });

  test('a foreign Host (DNS rebinding) and an opaque Origin are 403', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ sql: 'SELECT 1' });
    assert.equal((await rawRequest(api.port, { method: 'POST', path: '/api/query', headers: { ...headers, host: 'evil.example' }, body })).status, 403);
    assert.equal((await rawRequest(api.port, { method: 'POST', path: '/api/query', headers: { ...headers, host: `127.0.0.1:${api.port}`, origin: 'null' }, body })).status, 403);
    assert.equal((await rawRequest(api.port, { method: 'POST', path: '/api/query', headers: { ...headers, host: `localhost:${api.port}` }, body })).status, 200);
  });
});

describe('query API shutdown', () => {
  test('close() stops a running query instead of waiting for it', async () => {
    const db = await openDatabase(':memory:');
    const exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-api-'));
    const token = newApiToken();
    const api = await startQueryApi({ connection: await db.instance.connect(), exportDir, limits: { timeoutMs: 600_000, maxRows: 10 }, port: 0, token });
    const runaway = fetch(`http://127.0.0.1:${api.port}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ sql: 'SELECT count(*) FROM range(1000000000000)' }),
    }).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await api.close();
    assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
    await runaway;
    await closeDatabase(db);
    await rm(exportDir, { recursive: true, force: true });
  });
});

describe('query API: acknowledging alerts for `auditduck alerts ack`', () => {
  let db: Database;
  let api: QueryApi;
  let bare: QueryApi;
  let exportDir: string;
  const token = newApiToken();
  const ack = (body: unknown, auth = `Bearer ${token}`, port = api.port) =>
    fetch(`http://127.0.0.1:${port}/api/alerts/acknowledge`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const alert = async (id: number) =>
    (await db.connection.runAndReadAll(`SELECT status, acknowledged_by, ack_comment FROM alerts WHERE alert_id = ${id}`)).getRowObjects()[0];

  before(async () => {
    db = await openDatabase(':memory:');
    await db.connection.run(`INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, summary, dedup_key) VALUES
      ('admin-granted', 'high', 'pg1', now(), now(), 'a', 'k1'), ('admin-granted', 'high', 'pg1', now(), now(), 'b', 'k2'),
      ('brute-force', 'medium', 'pg1', now(), now(), 'c', 'k3'), ('brute-force', 'medium', 'pg1', now(), now(), 'd', 'k4')`);
    exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-api-'));
    await confineDatabase(db.connection, { writableDirs: [exportDir] });
    // As `run` does: the acknowledgement is written on the writer's connection, not the API's read connection.
    const acknowledgeOnWriter = (ids: number[], by: string, comment: string | null, classification?: AckClassification | null) =>
      acknowledgeAlerts(db.connection, ids, by, comment, classification ?? null);
    api = await startQueryApi({ connection: await db.instance.connect(), exportDir, port: 0, token, acknowledgeAlerts: acknowledgeOnWriter });
    bare = await startQueryApi({ connection: await db.instance.connect(), exportDir, port: 0, token });
  });
  after(async () => {
    await api.close();
    await bare.close();
    await closeDatabase(db);
    await rm(exportDir, { recursive: true, force: true });
  });

  test('acknowledges the open ones among the ids, recording who sent it and the comment with its secrets redacted', async () => {
    const r = await ack({ ids: [1, 99], by: 'alice', comment: 'benign: rotation, see postgresql://app:hunter2secret@db.example/x' });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { acknowledged: [1] });
    assert.deepEqual(await alert(1), { status: 'acknowledged', acknowledged_by: 'alice', ack_comment: 'benign: rotation, see postgresql://app:<REDACTED>@db.example/x' });
    assert.deepEqual(await (await ack({ ids: [1], by: 'bob' })).json(), { acknowledged: [] }, 'twice is a no-op');
    assert.equal((await alert(1))!.acknowledged_by, 'alice');
  });

  test('without a comment, none is stored', async () => {
    assert.deepEqual(await (await ack({ ids: [3], by: 'carol' })).json(), { acknowledged: [3] });
    assert.deepEqual(await alert(3), { status: 'acknowledged', acknowledged_by: 'carol', ack_comment: null });
  });

  test('a classification is stored with the acknowledgement; one not in the list is 400 and changes nothing', async () => {
    const classified = async (id: number) =>
      (await db.connection.runAndReadAll(`SELECT ack_classification FROM alerts WHERE alert_id = ${id}`)).getRows()[0]![0];
    assert.equal((await ack({ ids: [4], by: 'dave', classification: 'fine-i-guess' })).status, 400);
    assert.equal((await alert(4))!.status, 'open');
    assert.equal(await classified(3), null, 'none given, none stored');
    const r = await ack({ ids: [4], by: 'dave', classification: 'false-positive' });
    assert.deepEqual(await r.json(), { acknowledged: [4] });
    assert.equal(await classified(4), 'false-positive');
  });

  test('a missing or wrong token is 401 and changes nothing', async () => {
    assert.equal((await ack({ ids: [2], by: 'mallory' }, 'Bearer nope')).status, 401);
    assert.equal((await ack({ ids: [2], by: 'mallory' }, '')).status, 401);
    assert.equal((await alert(2))!.status, 'open');
  });

  for (const [what, body] of [
    ['no one to record', { ids: [2] }],
    ['an empty name', { ids: [2], by: '  ' }],
    ['no ids', { ids: [], by: 'alice' }],
    ['an id that is not a number', { ids: ['2'], by: 'alice' }],
    ['an unknown field', { ids: [2], by: 'alice', status: 'retracted' }],
    ['a comment over 2000 characters', { ids: [2], by: 'alice', comment: 'x'.repeat(2001) }],
  ] as const) {
    test(`a request with ${what} is 400 with the reason, and changes nothing`, async () => {
      const r = await ack(body);
      assert.equal(r.status, 400);
      assert.match(((await r.json()) as { error: string }).error, /bad request/);
      assert.equal((await alert(2))!.status, 'open');
    });
  }

  test('an API started without a way to acknowledge answers 404 and names what it serves', async () => {
    const r = await ack({ ids: [2], by: 'alice' }, `Bearer ${token}`, bare.port);
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: string }).error, /POST \/api\/query/);
  });
});

describe('query API: the listener for fleet peers on other machines', () => {
  let db: Database;
  let api: QueryApi;
  let exportDir: string;
  const token = newApiToken();
  const fleetToken = newApiToken();
  const post = (port: number, auth: string, sql: string) =>
    fetch(`http://127.0.0.1:${port}/api/query`, { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body: JSON.stringify({ sql }) });

  before(async () => {
    ({ db, api, exportDir } = await openConfinedApi({
      token,
      fleet: { host: '127.0.0.1', port: 0, tokens: () => [fleetToken] },
      acknowledgeAlerts: async (ids) => ids,
    }));
  });
  after(() => closeConfinedApi(db, api, exportDir));

  test("each listener takes its own token only: the local one's key opens nothing on the fleet's, and back", async () => {
    assert.ok(api.fleetPort !== null && api.fleetPort !== api.port);
    assert.equal((await post(api.fleetPort, fleetToken, 'SELECT 1')).status, 200);
    assert.equal((await post(api.fleetPort, token, 'SELECT 1')).status, 401);
    assert.equal((await post(api.port, fleetToken, 'SELECT 1')).status, 401);
    assert.equal((await post(api.port, token, 'SELECT 1')).status, 200);
  });

  test('the same confinement and limits: a write is 403, a result over the row limit 413', async () => {
    assert.equal((await post(api.fleetPort!, fleetToken, 'DELETE FROM dead_letters')).status, 403);
    assert.equal((await post(api.fleetPort!, fleetToken, 'SELECT range FROM range(5000)')).status, 413);
  });

  test('no acknowledging through it: who acknowledges is trusted only from the discovery file', async () => {
    const r = await fetch(`http://127.0.0.1:${api.fleetPort}/api/alerts/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fleetToken}` },
      body: JSON.stringify({ ids: [1], by: 'someone' }),
    });
    assert.equal(r.status, 404);
  });

  test('a short fleet token, or an address it cannot listen on, stops the start with the reason', async () => {
    const connection = await db.instance.connect();
    try {
      await assert.rejects(startQueryApi({ connection, exportDir, port: 0, token, fleet: { host: '127.0.0.1', port: 0, tokens: () => ['short'] } }), /at least 32 characters/);
      await assert.rejects(
        startQueryApi({ connection, exportDir, port: 0, token, fleet: { host: '127.0.0.1', port: api.fleetPort!, tokens: () => [fleetToken] } }),
        /the query API for the fleet cannot listen on 127\.0\.0\.1:\d+ \(queryApi\.host, queryApi\.port\): .*EADDRINUSE/,
      );
    } finally {
      connection.closeSync();
    }
  });
});

/**
 * A POST of `SELECT 1` from a chosen loopback source address (127.0.0.0/8 is all this machine's): another client
 * for the server; `headers` are sent too (an X-Forwarded-For of the client's choosing).
 */
function postFrom(source: string, port: number, auth: string | null, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, localAddress: source, method: 'POST', path: '/api/query', headers: { ...headers, ...(auth === null ? {} : { authorization: `Bearer ${auth}` }) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ sql: 'SELECT 1' }));
  });
}

describe('query API: wrong tokens are rate limited per client address, and the fleet token rotates without a restart', () => {
  let db: Database;
  let api: QueryApi;
  let exportDir: string;
  const token = newApiToken();
  const tokens = { now: [newApiToken()] };
  const lines: string[] = [];
  const refused: string[] = [];

  before(async () => {
    ({ db, api, exportDir } = await openConfinedApi({
      token,
      fleet: { host: '127.0.0.1', port: 0, tokens: () => tokens.now },
      log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
      onRefused: (listener, reason) => void refused.push(`${listener}:${reason}`),
      failedAuthLimit: { maxFailures: 5, windowMs: 60_000, coolOffMs: 30_000 },
    }));
  });
  after(() => closeConfinedApi(db, api, exportDir));

  test('after maxFailures wrong or missing tokens from one address, 429 with Retry-After, the right token included; another address still gets in', async () => {
    const wrong = newApiToken();
    for (let i = 0; i < 4; i++) assert.equal((await postFrom('127.0.0.2', api.fleetPort!, wrong)).status, 401);
    assert.equal((await postFrom('127.0.0.2', api.fleetPort!, null)).status, 401, 'a missing token counts too');
    const limited = await postFrom('127.0.0.2', api.fleetPort!, tokens.now[0]!);
    assert.equal(limited.status, 429, 'cooling off: the token is not even compared');
    assert.ok(Number(limited.retryAfter) > 0 && Number(limited.retryAfter) <= 30, `Retry-After: ${limited.retryAfter}`);
    assert.match(limited.body, /too many missing or wrong tokens from your address: retry after \d+ s/);
    assert.equal((await postFrom('127.0.0.3', api.fleetPort!, tokens.now[0]!)).status, 200, 'the right token from another address works');
    assert.equal((await postFrom('127.0.0.2', api.port, token)).status, 200, 'the local listener counts its own failures');
    assert.deepEqual(refused, [...Array(4).fill('fleet:wrong-token'), 'fleet:missing-token', 'fleet:cooling-off']);

    const text = lines.join('');
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; address?: string }).filter((l) => l.level === 40);
    assert.deepEqual(
      warnings.map((w) => w.address),
      ['127.0.0.2', '127.0.0.2'],
      'one warning at the first refusal of the window, one when the cool-off starts',
    );
    assert.match(warnings[1]!.msg, /cooling off/);
    for (const secret of [wrong, ...tokens.now, token]) assert.ok(!text.includes(secret), 'no token value in the log');
  });

  test('a foreign Host is refused and counted as such, not as a token failure', async () => {
    const before = refused.length;
    const r = await rawRequest(api.fleetPort!, { method: 'POST', path: '/api/query', headers: { authorization: `Bearer ${tokens.now[0]}`, host: 'evil.example' }, body: '{}' });
    assert.equal(r.status, 403);
    assert.deepEqual(refused.slice(before), ['fleet:host-or-origin']);
  });

  test('a rotation: the previous and the new token are both accepted while both are listed, then only the new one', async () => {
    const [previous] = tokens.now;
    const next = newApiToken();
    tokens.now = [next, previous!];
    assert.equal((await postFrom('127.0.0.4', api.fleetPort!, next)).status, 200);
    assert.equal((await postFrom('127.0.0.4', api.fleetPort!, previous!)).status, 200);
    tokens.now = [next];
    assert.equal((await postFrom('127.0.0.4', api.fleetPort!, next)).status, 200);
    assert.equal((await postFrom('127.0.0.4', api.fleetPort!, previous!)).status, 401);
  });
});

describe("query API behind a reverse proxy: failures are counted per client address the trusted proxy forwards", () => {
  let db: Database;
  let api: QueryApi;
  let exportDir: string;
  let proxy: ForwardingProxy;
  const token = newApiToken();
  const fleetToken = newApiToken();
  const wrong = newApiToken();
  /** The proxy's own address, trusted; the clients behind it are 127.0.0.21 and 127.0.0.22. */
  const PROXY = '127.0.0.20';
  const lines: string[] = [];
  const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; address?: string; via?: string }).filter((l) => l.level === 40);

  before(async () => {
    ({ db, api, exportDir } = await openConfinedApi({
      token,
      fleet: { host: '127.0.0.1', port: 0, tokens: () => [fleetToken], trustedProxies: [PROXY] },
      log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
    }));
    proxy = await startForwardingProxy({ host: '127.0.0.1', port: api.fleetPort! }, PROXY);
  });
  after(async () => {
    await proxy.close();
    await closeConfinedApi(db, api, exportDir);
  });

  test("one client's 10 failures cool that client off; another client through the same proxy gets in and has its own count", async () => {
    for (let i = 0; i < 10; i++) assert.equal((await postFrom('127.0.0.21', proxy.port, wrong)).status, 401);
    const limited = await postFrom('127.0.0.21', proxy.port, fleetToken);
    assert.equal(limited.status, 429, 'the client behind the proxy cools off');
    assert.ok(Number(limited.retryAfter) > 0 && Number(limited.retryAfter) <= 60, `Retry-After: ${limited.retryAfter}`);
    const spoofed = await postFrom('127.0.0.21', proxy.port, fleetToken, { 'x-forwarded-for': '127.0.0.99' });
    assert.equal(spoofed.status, 429, 'an X-Forwarded-For of its own does not help: the proxy appends the address it sees');

    for (let i = 0; i < 9; i++) assert.equal((await postFrom('127.0.0.22', proxy.port, wrong)).status, 401);
    assert.equal((await postFrom('127.0.0.22', proxy.port, fleetToken)).status, 200, 'the other client is not cooled off by the first');
    assert.equal((await postFrom('127.0.0.22', proxy.port, wrong)).status, 401, 'its own tenth failure');
    assert.equal((await postFrom('127.0.0.22', proxy.port, fleetToken)).status, 429, 'then it cools off too');

    assert.deepEqual(
      warnings().map((w) => `${w.address} via ${w.via}`),
      [`127.0.0.21 via ${PROXY}`, `127.0.0.21 via ${PROXY}`, `127.0.0.22 via ${PROXY}`, `127.0.0.22 via ${PROXY}`],
      "the log names the client, and the proxy it came through",
    );
    assert.ok(warnings()[0]!.msg.includes(`from 127.0.0.21 (through ${PROXY})`), warnings()[0]!.msg);
  });

  test('a peer that is not a trusted proxy is counted by its own address, whatever X-Forwarded-For it sends', async () => {
    for (let i = 0; i < 10; i++) {
      assert.equal((await postFrom('127.0.0.23', api.fleetPort!, wrong, { 'x-forwarded-for': `10.9.8.${i}` })).status, 401);
    }
    assert.equal((await postFrom('127.0.0.23', api.fleetPort!, fleetToken, { 'x-forwarded-for': '10.9.8.200' })).status, 429);
    assert.equal(warnings().at(-1)!.address, '127.0.0.23');
    assert.equal(warnings().at(-1)!.via, undefined);
  });

  test("the local listener trusts no proxy: the trusted proxy's address sending X-Forwarded-For to it is counted as itself", async () => {
    for (let i = 0; i < 10; i++) {
      assert.equal((await postFrom(PROXY, api.port, wrong, { 'x-forwarded-for': `10.9.7.${i}` })).status, 401);
    }
    assert.equal((await postFrom(PROXY, api.port, token, { 'x-forwarded-for': '10.9.7.200' })).status, 429);
  });
});
