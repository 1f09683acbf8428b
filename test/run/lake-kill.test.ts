/**
 * `auditduck run` on Event Hubs with the lake in Blob storage (Azurite), killed with SIGKILL 20 times while
 * events keep arriving: afterwards the lake holds every record exactly once (counted with DuckDB over the
 * Parquet), `lake verify` passes, and deleting or editing one segment's blob makes it fail naming that segment.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { openLakeQueryTarget } from '../../src/lake/index.js';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { queryStore } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const HUB = 'lake-kills';
const KILLS = 20;
/** Per kill, new events arrive: the runs always have something to ingest and export when killed. */
const BODIES_PER_ROUND = 6;
const RECORDS_PER_BODY = 20;

describe('run with the lake on, killed 20 times', () => {
  let broker: EventHubsBroker;
  let azurite: AzuriteBlob;
  let dir: string;
  let db: string;
  let lakeUrl: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let published = 0;
  const children: ChildProcess[] = [];

  const publishRound = (round: number) => {
    const bodies = [...syntheticBodies({ records: BODIES_PER_ROUND * RECORDS_PER_BODY, recordsPerBody: RECORDS_PER_BODY, seed: 1000 + round, start: new Date(Date.UTC(2026, 10, 20 + (round % 3))) })];
    bodies.forEach((body, i) => broker.publish(String(i % 2), [Buffer.from(body)]));
    published += BODIES_PER_ROUND * RECORDS_PER_BODY;
  };
  /** Starts `run`; `committing` resolves at its first batch commit (so a kill then falls among commits and exports). */
  const startRun = (): { child: ChildProcess; committing: Promise<void> } => {
    const child = spawn(process.execPath, [...CLI, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let seen = '';
    const committing = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('"batch committed"')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`run exited (${code}) before its first commit: ${seen.slice(-2000)}`)));
    });
    committing.catch(() => undefined);
    return { child, committing };
  };
  const healthz = async () => {
    try {
      return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number; lake?: { lagSeconds: number; pendingSegments: number } };
    } catch {
      return undefined;
    }
  };
  const lakeCount = async (sql: string) => {
    const target = await openLakeQueryTarget(lakeUrl);
    try {
      return (await target.run(sql)).rows[0]!;
    } finally {
      await target.close();
    }
  };
  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [...CLI, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      return error as { code: number; stdout: string; stderr: string };
    }
  };

  before(async () => {
    [broker, azurite] = await Promise.all([startEventHubsBroker({ hubName: HUB, partitionCount: 2 }), startAzuriteBlob()]);
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-kill-'));
    db = join(dir, 'store.duckdb');
    port = await freePort();
    lakeUrl = `http://127.0.0.1:${azurite.port}/devstoreaccount1/audit-lake/prod`;
    process.env.AUDITDUCK_LAKE_CONNECTION_STRING = azurite.connectionString;
    process.env.AUDITDUCK_LAKE_MIRROR = join(dir, 'lake-mirror');
    env = runEnv({
      db,
      port,
      hub: { connectionString: broker.connectionString, hubName: HUB },
      logLevel: 'debug',
      extra: { AUDITDUCK_LOG_FORMAT: 'json', AUDITDUCK_LAKE: lakeUrl, AUDITDUCK_LAKE_INTERVAL_MS: '1000' },
    });
  });
  after(async () => {
    delete process.env.AUDITDUCK_LAKE_CONNECTION_STRING;
    delete process.env.AUDITDUCK_LAKE_MIRROR;
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await azurite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds every record exactly once after 20 kills, and lake verify passes', async (t) => {
    const started = Date.now();
    for (let kill = 0; kill < KILLS; kill++) {
      publishRound(kill);
      const { child, committing } = startRun();
      // Anywhere from the first commit on: committing, staging a segment, uploading it, recording it, idle.
      await committing;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1500)));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    // The kills cut into work: rows were committed and segments cut between them.
    const [between] = await queryStore(db, `SELECT (SELECT count(*) FROM log_records) AS stored, (SELECT count(*) FROM lake_segments) AS segments`);
    t.diagnostic(`${KILLS} kills in ${Date.now() - started} ms; ${published} records published, ${String(between!.stored)} stored and ${String(between!.segments)} segments cut by then`);
    assert.ok(Number(between!.stored) > 0 && Number(between!.segments) >= 2, JSON.stringify(between));

    const { child: last } = startRun();
    const remaining = published - Number(between!.stored);
    await waitFor(
      'the last run to store the rest and the lake to catch up',
      async () => {
        const h = await healthz();
        return h && h.records === remaining && h.lake?.lagSeconds === 0 && h.lake.pendingSegments === 0 ? true : undefined;
      },
      90_000,
    );
    const exited = new Promise<number | null>((resolve) => last.once('exit', resolve));
    last.kill('SIGTERM');
    assert.equal(await exited, 0);

    const inLake = await lakeCount(`SELECT count(*) AS n, count(DISTINCT (source, position)) AS distinct_positions FROM log_records`);
    assert.deepEqual(inLake, { n: published, distinct_positions: published });
    const [inStore] = await queryStore(db, `SELECT count(*) AS n, count(DISTINCT (source, position)) AS distinct_positions FROM log_records`);
    assert.deepEqual(inStore, { n: published, distinct_positions: published });
    const tables = await lakeCount(`SELECT (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM auth_failures) AS failures, (SELECT count(*) FROM privilege_changes) AS changes`);
    const [storeTables] = await queryStore(db, `SELECT (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM auth_failures) AS failures, (SELECT count(*) FROM privilege_changes) AS changes`);
    assert.deepEqual(tables, storeTables);

    const verify = await cli(['lake', 'verify', '--lake', lakeUrl, '--db', db]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /complete and intact/);
  });

  it('lake verify names the segment whose blob was deleted or edited', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('audit-lake');
    const blobs: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: 'prod/audit_events/' })) blobs.push(b.name);
    const segmentOf = (name: string) => /part-(\d{8}-[0-9a-f]{12})/.exec(name)![1]!;
    const [deleted, edited] = [blobs[0]!, blobs.find((b) => segmentOf(b) !== segmentOf(blobs[0]!)) ?? blobs[1]!];

    await container.deleteBlob(deleted);
    const body = Buffer.from('not the parquet that was published');
    await container.getBlockBlobClient(edited).upload(body, body.length);

    const verify = await cli(['lake', 'verify', '--lake', lakeUrl]);
    assert.equal(verify.code, 5);
    assert.match(verify.stderr, new RegExp(`bad segment ${segmentOf(deleted)}: .*missing`));
    assert.match(verify.stderr, new RegExp(`bad segment ${segmentOf(edited)}: .*altered`));
  });
});
