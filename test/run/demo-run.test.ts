/**
 * `auditduck run` with no Event Hub configured: the demo stream from samples/ goes through the whole
 * pipeline, /healthz and /metrics answer, the CLI queries the store through the running process, a
 * SIGTERM stops it cleanly, and a restart adds nothing twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { queryStore } from '../support/store-reader.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { demoRecordCount, runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);

function startRun(db: string, port: number, webhook?: string): ChildProcess {
  return spawn(process.execPath, [...CLI, 'run'], {
    env: runEnv({ db, port, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'json', ...(webhook ? { AUDITDUCK_WEBHOOK_URL: webhook } : {}) } }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('auditduck run on the built-in demo stream', () => {
  let dir: string;
  let db: string;
  let port: number;
  let child: ChildProcess;
  let stderr = '';
  let expected: number;
  const received: { rule_id?: string; ruleId?: string; [k: string]: unknown }[] = [];
  let webhook: Server;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-run-'));
    db = join(dir, 'store.duckdb');
    port = await freePort();
    expected = await demoRecordCount();
    webhook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    child = startRun(db, port, `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`);
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  });
  after(async () => {
    webhook.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('says it is running the demo stream and how to point it at a hub', async () => {
    await waitFor('the demo warning', async () => (stderr.includes('DEMO stream') ? true : undefined));
    assert.match(stderr, /AUDITDUCK_EVENTHUB_CONNECTION_STRING/);
  });

  it('ingests every sample record and reports it on /healthz and /metrics', async () => {
    const health = await waitFor('all samples', async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number };
      return body.records === expected ? body : undefined;
    });
    assert.equal((health as unknown as { status: string }).status, 'ok');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const total = [...metrics.matchAll(/^auditduck_records_total\{source="demo:[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(total, expected);
  });

  it('raises alerts on what the capture did and delivers them to the webhook', async () => {
    await waitFor('a superuser alert at the webhook', async () => (JSON.stringify(received).includes('admin-granted') ? true : undefined));
    const [row] = await waitFor('the alert in the store', async () => {
      const { stdout } = await exec(process.execPath, [...CLI, 'query', '--db', db, '--format', 'json', "SELECT count(*) AS n FROM alerts WHERE rule_id = 'admin-granted'"]);
      const rows = JSON.parse(stdout) as { n: number }[];
      return rows[0]!.n > 0 ? rows : undefined;
    });
    assert.ok(row!.n >= 1);
  });

  it('answers `auditduck query` through the running process, and refuses writes', async () => {
    const { stdout } = await exec(process.execPath, [...CLI, 'query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM log_records']);
    assert.deepEqual(JSON.parse(stdout), [{ n: expected }]);
    // A base table: DELETE on the log_records view fails to bind before the read-only check is reached.
    const events = async () => (JSON.parse((await exec(process.execPath, [...CLI, 'query', '--db', db, '--format', 'json', 'SELECT count(*) AS n FROM audit_events'])).stdout) as { n: number }[])[0]!.n;
    const before = await events();
    assert.ok(before > 0);
    await assert.rejects(exec(process.execPath, [...CLI, 'query', '--db', db, 'DELETE FROM audit_events']), (error: { code?: number; stderr?: string }) => {
      assert.notEqual(error.code, 0);
      assert.match(error.stderr ?? '', /refused: statement 1 is DELETE/);
      return true;
    });
    assert.equal(await events(), before);
  });

  it('acknowledges alerts through the running process with `alerts ack --comment`, as the OS user', async () => {
    const cli = async (...args: string[]) => (await exec(process.execPath, [...CLI, ...args])).stdout;
    const open = JSON.parse(await cli('alerts', '--db', db, '--format', 'json', '--status', 'open')) as { alert_id: number }[];
    assert.ok(open.length >= 2, 'the capture raised alerts');
    const [first, second] = open.map((a) => a.alert_id);
    const stdout = await cli('alerts', 'ack', String(first), String(second), '--db', db, '--comment', 'benign: the demo capture');
    assert.match(stdout, new RegExp(`^acknowledged 2 alert\\(s\\): ${Math.min(first!, second!)}, ${Math.max(first!, second!)} \\(through \`auditduck run\`, process ${child.pid}\\)\n$`));
    const rows = JSON.parse(await cli('query', '--db', db, '--format', 'json', `SELECT status, acknowledged_by, ack_comment FROM alerts WHERE alert_id IN (${first}, ${second})`));
    const expectedRow = { status: 'acknowledged', acknowledged_by: userInfo().username, ack_comment: 'benign: the demo capture' };
    assert.deepEqual(rows, [expectedRow, expectedRow]);
    assert.match(stderr, /alerts acknowledged with auditduck alerts ack/);
  });

  it('stops cleanly on SIGTERM and adds nothing when restarted', async () => {
    assert.equal(await stop(child), 0);
    assert.equal(existsSync(`${db}.api.json`), false);
    const again = startRun(db, port);
    await waitFor('the restarted job', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await stop(again), 0);
    const [row] = await queryStore(db, 'SELECT count(*) AS n, count(DISTINCT (source, position)) AS distinct_positions FROM log_records');
    assert.equal(row!.n, expected);
    assert.equal(row!.distinct_positions, expected);
  });
});
