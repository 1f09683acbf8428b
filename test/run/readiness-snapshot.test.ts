/**
 * A watched server that cannot be reached makes `run` not ready: /readyz answers 503 naming the server and the
 * reason, /metrics says `auditduck_ready 0`, and liveness stays ok (ingest goes on).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

describe('run with a snapshot server that cannot be reached', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-readiness-'));
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /readyz with 503 and the server, while /healthz stays ok', async () => {
    const port = await freePort();
    const closed = await freePort();
    const config = join(dir, 'auditduck.json');
    await writeFile(
      config,
      JSON.stringify({
        snapshots: {
          servers: [{ name: 'prod-pg', host: '127.0.0.1', port: closed, user: 'auditduck_reader', sslmode: 'require', auth: { kind: 'password-env', env: 'PGPASSWORD_PROD' }, connectTimeoutMs: 1000 }],
        },
      }),
    );
    child = spawn(process.execPath, [...CLI, 'run', '--config', config], {
      env: runEnv({ db: join(dir, 'store.duckdb'), port, logLevel: 'error', extra: { PGPASSWORD_PROD: 'not-used' } }),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    const body = await waitFor('/readyz to name the snapshot server', async () => {
      const res = await fetch(`${base}/readyz`);
      const json = (await res.json()) as { reasons: string[]; snapshots: { server: string; consecutiveFailures: number }[] };
      return res.status === 503 && json.reasons.some((r) => r.startsWith('snapshot server prod-pg is unreachable')) ? json : undefined;
    });
    assert.ok(body.snapshots.find((s) => s.server === 'prod-pg')!.consecutiveFailures >= 1);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /auditduck_ready 0/);
    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
