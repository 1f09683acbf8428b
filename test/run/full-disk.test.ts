/**
 * A full disk is the store's fault, not the data's: `run` keeps retrying the batch (never dead-letters it),
 * /readyz answers 503 saying the store cannot commit (without the store's path) and /metrics shows it; once
 * space is freed, the batch commits and /readyz is ready again. The disk is a small tmpfs mounted for the test
 * (root only: CI and the developers' machines run as root).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const HUB = 'fulldisk';

/** Writes zeros until the file system says it is full. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe('run on a full disk', () => {
  let broker: EventHubsBroker;
  let dir: string;
  let disk: string;
  let mounted = false;
  let child: ChildProcess | undefined;

  before(async () => {
    broker = await startEventHubsBroker({ hubName: HUB, partitionCount: 1 });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fulldisk-'));
    disk = join(dir, 'disk');
    await mkdir(disk);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', disk], { encoding: 'utf8' });
    assert.equal(mount.status, 0, `mounting a tmpfs needs root: ${mount.stderr}`);
    mounted = true;
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    if (mounted) spawnSync('umount', ['-l', disk]);
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries, fails /readyz and shows in /metrics until space is freed, then stores the batch', async () => {
    const db = join(disk, 'store.duckdb');
    const port = await freePort();
    child = spawn(process.execPath, [...CLI, 'run'], {
      env: runEnv({
        db,
        port,
        hub: { connectionString: broker.connectionString, hubName: HUB },
        logLevel: 'error',
        extra: { AUDITDUCK_POISON_BATCH_ATTEMPTS: '2' },
      }),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    const health = async () => (await (await fetch(`${base}/healthz`)).json()) as { records: number; deadLetters: number };
    const samples = (await readFile('samples/eventhubs/partition-0.jsonl', 'utf8')).split('\n').filter(Boolean);
    broker.publish('0', [Buffer.from(samples[0]!)]);
    const first = await waitFor('the first event stored', async () => ((await health()).records > 0 ? (await health()).records : undefined));

    const filler = join(disk, 'filler');
    fillDisk(filler);
    for (let i = 0; i < 20; i++) broker.publish('0', samples.map((s) => Buffer.from(s)));

    const notReady = await waitFor('/readyz to say the store cannot commit', async () => {
      const res = await fetch(`${base}/readyz`);
      const body = (await res.json()) as { reasons: string[] };
      return res.status === 503 && body.reasons.some((r) => r.startsWith('the store cannot commit')) ? body : undefined;
    }, 20_000);
    assert.ok(!JSON.stringify(notReady).includes(disk), `/readyz disclosed the store's path: ${JSON.stringify(notReady)}`);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /auditduck_store_commit_failing 1/);
    assert.match(metrics, new RegExp(`auditduck_batch_failures_total\\{source="eventhubs:${HUB}/0",cause="store"\\} [1-9]`));
    assert.match(metrics, /auditduck_ready 0/);
    // Past the poison-batch attempts (2), and still nothing dead-lettered: the data is not at fault.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal((await health()).deadLetters, 0);
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'liveness stays ok: a restart would not free the disk');

    rmSync(filler);
    await waitFor('/readyz to be ready again', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined), 60_000);
    const expected = first + 20 * samples.reduce((n, s) => n + (JSON.parse(s) as { records: unknown[] }).records.length, 0);
    await waitFor('every event stored once space was freed', async () => ((await health()).records === expected ? true : undefined), 60_000);
    assert.equal((await health()).deadLetters, 0);
    assert.match(await (await fetch(`${base}/metrics`)).text(), /auditduck_store_commit_failing 0/);

    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
