/**
 * `auditduck run` as a container runs it: a start that fails exits non-zero within seconds and leaves
 * nothing behind; SIGTERM ends it within the default 10 s even under load and with a query running.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const HUB = 'lifecycle';

function startRun(env: NodeJS.ProcessEnv): { child: ChildProcess; exit: Promise<{ code: number | null; at: number }>; stderr: () => string } {
  const child = spawn(process.execPath, [...CLI, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  return { child, exit, stderr: () => stderr };
}

describe('run: start and stop as a service', () => {
  let broker: EventHubsBroker;
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    broker = await startEventHubsBroker({ hubName: HUB, partitionCount: 2 });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lifecycle-'));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits non-zero within seconds when the start fails, and leaves no query API discovery file', async (t) => {
    const db = join(dir, 'failed.duckdb');
    const closed = await freePort();
    const started = Date.now();
    const run = startRun(
      runEnv({
        db,
        port: '0',
        hub: { connectionString: `Endpoint=sb://127.0.0.1:${closed};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`, hubName: HUB },
      }),
    );
    children.push(run.child);
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 30_000).unref());
    const outcome = await Promise.race([run.exit, timeout]);
    assert.notEqual(outcome, 'hung', 'run was still running 30 s after its start failed');
    const { code, at } = outcome as { code: number | null; at: number };
    assert.equal(code, 1);
    t.diagnostic(`exited ${at - started} ms after it was started (the SDK tries the hub 4 times first)`);
    assert.ok(at - started < 20_000, `exited after ${at - started} ms`);
    assert.match(run.stderr(), /cannot read the partitions of event hub/);
    assert.equal(existsSync(`${db}.api.json`), false, 'the discovery file of a query API that is gone was left behind');
  });

  it('ends within 10 s of SIGTERM under load, with a long query running', async (t) => {
    const db = join(dir, 'load.duckdb');
    const port = await freePort();
    const env = runEnv({ db, port, hub: { connectionString: broker.connectionString, hubName: HUB } });
    const samples = (await readFile('samples/eventhubs/partition-0.jsonl', 'utf8')).split('\n').filter(Boolean);
    // Enough that the job is still busy when it is told to stop.
    for (let i = 0; i < 40; i++) for (const partition of ['0', '1']) broker.publish(partition, samples.map((s) => Buffer.from(s)));
    const run = startRun(env);
    children.push(run.child);
    await waitFor('the first records', async () => {
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number };
      return health.records > 0 ? true : undefined;
    });
    const api = JSON.parse(await readFile(`${db}.api.json`, 'utf8')) as { port: number; token: string };
    // A read that would run for minutes.
    const query = fetch(`http://127.0.0.1:${api.port}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM range(200000) a(x), range(200000) b(y) WHERE (a.x * b.y) % 7 = 3' }),
    }).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 500));
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    const { code, at } = await run.exit;
    t.diagnostic(`stopped ${at - signalled} ms after SIGTERM`);
    assert.ok(at - signalled < 10_000, `stopping took ${at - signalled} ms`);
    assert.equal(code, 0);
    await query;
    assert.equal(existsSync(`${db}.api.json`), false);
  });

  it('leaves no discovery file, with its API token, when the shutdown deadline cuts the stop short', async () => {
    const db = join(dir, 'cut-short.duckdb');
    const port = await freePort();
    // A deadline of 1 ms: the process exits from the deadline's timer, before the stop gets to its clean-up.
    const env = { ...runEnv({ db, port, hub: { connectionString: broker.connectionString, hubName: HUB } }), AUDITDUCK_SHUTDOWN_TIMEOUT_MS: '1' };
    const run = startRun(env);
    children.push(run.child);
    await waitFor('the job started', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok ? true : undefined));
    assert.equal(existsSync(`${db}.api.json`), true);
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    assert.equal(code, 1, 'the deadline ended it');
    assert.equal(existsSync(`${db}.api.json`), false, 'the discovery file (its token) outlived the process');
  });

  it('stops as told when SIGTERM comes while it is still starting, and leaves no discovery file', async () => {
    const db = join(dir, 'starting.duckdb');
    const port = await freePort();
    const run = startRun(runEnv({ db, port, hub: { connectionString: broker.connectionString, hubName: HUB } }));
    children.push(run.child);
    // The discovery file is written before the start has finished (the source is opened after it).
    const until = Date.now() + 60_000;
    while (!existsSync(`${db}.api.json`) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    assert.equal(code, 0, `a stop, not a death by signal: ${run.stderr()}`);
    assert.equal(existsSync(`${db}.api.json`), false, 'the discovery file (its token) outlived the process');
  });
});
