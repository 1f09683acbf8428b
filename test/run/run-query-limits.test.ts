/**
 * `auditduck run` keeps serving through the queries that used to take it down: a runaway query ends at
 * the time limit, a 30-million-row SELECT is refused instead of filling the heap, a request with a foreign
 * Host is refused, a client guessing the dashboards' token is cooled off, and SIGTERM during a running query
 * stops the process promptly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '../support/local-ports.js';
import { startForwardingProxy } from '../support/forwarding-proxy.js';
import { rawRequest } from '../support/raw-http.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

interface Api {
  host: string;
  port: number;
  token: string;
}

/** `log` collects run's log lines (also passed on to this process's stderr). */
async function startRun(db: string, env: Record<string, string>, log: string[] = []): Promise<{ child: ChildProcess; api: Api; httpPort: number }> {
  const httpPort = await freePort();
  const child = spawn(process.execPath, [...CLI, 'run'], {
    env: runEnv({ db, port: httpPort, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'json', ...env } }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log.push(chunk.toString());
    process.stderr.write(chunk);
  });
  const api = await waitFor('the query API of run', async () => JSON.parse(readFileSync(`${db}.api.json`, 'utf8')) as Api);
  await waitFor('the dashboards of run', async () => ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok ? true : undefined));
  return { child, api, httpPort };
}

/** A GET of the dashboards' list from a chosen loopback source address, with a bearer token. */
function dashboardsFrom(source: string, port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, localAddress: source, path: '/api/dashboards', headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function query(api: Api, sql: string): Promise<Response> {
  return fetch(`http://${api.host}:${api.port}/api/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('auditduck run under hostile queries', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-run-limits-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a runaway query and a 30-million-row SELECT end in errors, and run keeps serving', async () => {
    const { child, api, httpPort } = await startRun(join(dir, 'a.duckdb'), { AUDITDUCK_QUERY_TIMEOUT: '5s' });
    try {
      const started = Date.now();
      const runaway = await query(api, 'SELECT count(*) FROM range(1000000000000)');
      assert.equal(runaway.status, 408, await runaway.clone().text());
      assert.ok(Date.now() - started < 30_000, `the runaway ended after ${Date.now() - started} ms`);

      const huge = await query(api, 'SELECT range AS n, md5(range::VARCHAR) AS h FROM range(30000000)');
      assert.equal(huge.status, 413, await huge.clone().text());
      assert.match(((await huge.json()) as { error: string }).error, /more than 100000 rows/);

      assert.equal(child.exitCode, null, 'run is still up');
      assert.deepEqual(await (await query(api, 'SELECT 1 AS up')).json(), { columns: ['up'], rows: [{ up: 1 }] });
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
    } finally {
      await stop(child);
    }
  });

  test('a foreign Host gets 403 from the dashboards and the query API, each counted in /metrics', async () => {
    const { child, api, httpPort } = await startRun(join(dir, 'b.duckdb'), {});
    try {
      assert.equal((await rawRequest(httpPort, { path: '/api/dashboards', headers: { host: 'rebound.example' } })).status, 403);
      assert.equal((await rawRequest(httpPort, { path: '/api/dashboards', headers: { host: `localhost:${httpPort}` } })).status, 200);
      const body = JSON.stringify({ sql: 'SELECT 1' });
      const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', host: 'rebound.example' };
      assert.equal((await rawRequest(api.port, { method: 'POST', path: '/api/query', headers, body })).status, 403);
      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(metrics, /^auditduck_ui_refused_total\{reason="host-or-origin"\} 1$/m);
      assert.match(metrics, /^auditduck_query_api_refused_total\{[^}]*reason="host-or-origin"[^}]*\} 1$/m);
    } finally {
      await stop(child);
    }
  });

  test("a client guessing the dashboards' token behind a trusted proxy is cooled off alone, counted in /metrics and warned about by address", async () => {
    const token = 'the-ui-token-of-this-test-run';
    const wrong = 'a-wrong-ui-token-of-the-test';
    const proxyAddress = '127.0.0.30';
    const log: string[] = [];
    const { child, httpPort } = await startRun(
      join(dir, 'd.duckdb'),
      { AUDITDUCK_HTTP_HOST: '0.0.0.0', AUDITDUCK_UI_TOKEN: token, AUDITDUCK_HTTP_TRUSTED_PROXIES: proxyAddress },
      log,
    );
    const proxy = await startForwardingProxy({ host: '127.0.0.1', port: httpPort }, proxyAddress);
    try {
      for (let i = 0; i < 10; i++) assert.equal(await dashboardsFrom('127.0.0.31', proxy.port, wrong), 401);
      assert.equal(await dashboardsFrom('127.0.0.31', proxy.port, token), 429, 'cooling off, the right token included');
      assert.equal(await dashboardsFrom('127.0.0.32', proxy.port, token), 200, 'another client through the same proxy gets in');

      const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      assert.match(metrics, /^auditduck_ui_refused_total\{reason="wrong-token"\} 10$/m);
      assert.match(metrics, /^auditduck_ui_refused_total\{reason="cooling-off"\} 1$/m);
      const warnings = log.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; address?: string; via?: string }).filter((l) => l.level === 40 && l.msg.startsWith('dashboards:'));
      assert.deepEqual(warnings.map((w) => `${w.address} via ${w.via}`), [`127.0.0.31 via ${proxyAddress}`, `127.0.0.31 via ${proxyAddress}`]);
      assert.ok(!log.join('').includes(wrong) && !log.join('').includes(token), 'no token value in the log');
    } finally {
      await proxy.close();
      await stop(child);
    }
  });

  test('SIGTERM during a running query stops run within seconds', async () => {
    const { child, api } = await startRun(join(dir, 'c.duckdb'), { AUDITDUCK_QUERY_TIMEOUT: '10m' });
    const runaway = query(api, 'SELECT count(*) FROM range(1000000000000)').catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 1_000));
    const started = Date.now();
    const code = await stop(child);
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 15_000, `stopping took ${Date.now() - started} ms`);
    await runaway;
  });
});
