/**
 * `auditduck run` keeps serving through the queries that used to take it down: a runaway query ends at
 * the time limit, a 30-million-row SELECT is refused instead of filling the heap, a request with a foreign
 * Host is refused, and SIGTERM during a running query stops the process promptly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '../support/local-ports.js';
import { rawRequest } from '../support/raw-http.js';
import { runEnv } from '../support/run-env.js';

interface Api {
  host: string;
  port: number;
  token: string;
}

async function startRun(db: string, env: Record<string, string>): Promise<{ child: ChildProcess; api: Api; httpPort: number }> {
  const httpPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run'], {
    env: runEnv({ db, port: httpPort, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'json', ...env } }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const api = await waitFor('the query API of run', async () => JSON.parse(readFileSync(`${db}.api.json`, 'utf8')) as Api);
  await waitFor('the dashboards of run', async () => ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok ? true : undefined));
  return { child, api, httpPort };
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

  test('a foreign Host gets 403 from the dashboards and the query API', async () => {
    const { child, api, httpPort } = await startRun(join(dir, 'b.duckdb'), {});
    try {
      assert.equal((await rawRequest(httpPort, { path: '/api/dashboards', headers: { host: 'rebound.example' } })).status, 403);
      assert.equal((await rawRequest(httpPort, { path: '/api/dashboards', headers: { host: `localhost:${httpPort}` } })).status, 200);
      const body = JSON.stringify({ sql: 'SELECT 1' });
      const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', host: 'rebound.example' };
      assert.equal((await rawRequest(api.port, { method: 'POST', path: '/api/query', headers, body })).status, 403);
    } finally {
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
