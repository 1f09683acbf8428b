/**
 * A lake that cannot be written never stops ingestion: `run` stores the demo stream while every export fails,
 * says so on /healthz, /metrics and /readyz, keeps the segments staged beside the store, and catches up with
 * every row once the lake can be written again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLakeQueryTarget } from '../../src/lake/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { queryStore } from '../support/store-reader.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

interface Health {
  records: number;
  lake?: { pendingSegments: number; consecutiveFailures: number; lagSeconds: number; lastError: string | null; publishedSegments: number };
}

describe('run with a lake it cannot write', () => {
  let dir: string;
  let db: string;
  let blocker: string;
  let lake: string;
  let port: number;
  let child: ChildProcess;
  let expected = 0;

  const get = async (path: string) => fetch(`http://127.0.0.1:${port}${path}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-down-'));
    db = join(dir, 'store.duckdb');
    // A regular file where the lake's parent folder should be: every write under it fails (ENOTDIR).
    blocker = join(dir, 'mount');
    lake = join(blocker, 'lake');
    await writeFile(blocker, 'not a folder');
    port = await freePort();
    for (const file of await readdir('samples/eventhubs')) {
      for (const line of (await readFile(join('samples/eventhubs', file), 'utf8')).split('\n')) if (line.trim()) expected += (JSON.parse(line) as { records: unknown[] }).records.length;
    }
    child = spawn(process.execPath, [...CLI, 'run', '--lake', lake], {
      env: runEnv({ db, port, logLevel: 'error', extra: { AUDITDUCK_LAKE_INTERVAL_MS: '1000', AUDITDUCK_LAKE_FAILING_MS: '0' } }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.resume();
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('stores everything while the exports fail, and says so on /healthz, /metrics and /readyz', async () => {
    const health = await waitFor('the demo stream stored and the lake failing', async () => {
      const h = (await (await get('/healthz').catch(() => null))?.json().catch(() => null)) as Health | null;
      return h && h.records === expected && (h.lake?.consecutiveFailures ?? 0) >= 2 ? h : undefined;
    });
    assert.ok(health.lake!.pendingSegments >= 1, JSON.stringify(health.lake));
    assert.ok(health.lake!.lagSeconds > 0);
    assert.equal(health.lake!.publishedSegments, 0);
    assert.doesNotMatch(health.lake!.lastError ?? '', /auditduck-lake-down/, 'a file path reached /healthz');
    const readyz = await get('/readyz');
    assert.equal(readyz.status, 503);
    assert.match(((await readyz.json()) as { reasons: string[] }).reasons.join('\n'), /the lake export has failed \d+ times/);
    const metrics = await (await get('/metrics')).text();
    assert.match(metrics, /auditduck_lake_export_failures_total [1-9]/);
    assert.match(metrics, /auditduck_lake_pending_segments [1-9]/);
  });

  it('catches up with every row once the lake can be written', async () => {
    await rm(blocker);
    await waitFor('the lake to catch up', async () => {
      const h = (await (await get('/healthz')).json()) as Health;
      return h.lake!.pendingSegments === 0 && h.lake!.lagSeconds === 0 ? true : undefined;
    });
    assert.equal((await get('/readyz')).status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    const target = await openLakeQueryTarget(lake);
    try {
      const [inLake] = (await target.run(`SELECT count(*) AS n, count(DISTINCT (source, position)) AS d FROM log_records`)).rows;
      const [inStore] = await queryStore(db, `SELECT count(*) AS n, count(DISTINCT (source, position)) AS d FROM log_records`);
      assert.deepEqual(inLake, inStore);
      assert.equal(Number(inStore!.n), expected);
    } finally {
      await target.close();
    }
  });
});
