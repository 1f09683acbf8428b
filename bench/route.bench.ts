/**
 * What `auditduck route` costs and what it gives, next to `auditduck ingest` of the same bodies in the same
 * run (docs/fleet.md, "Splitting a busy hub"): records/s one route instance republishes from a backlog
 * into a keyed hub, and records/s one `run` instance (detection on, `ownership: balanced`) stores from that
 * keyed hub. The hubs are the project's test broker in this process, Azurite holds the checkpoints.
 *
 *   BENCH_CLI=src node --import tsx bench/route.bench.ts [records]      (default 50000)
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAzuriteBlob } from '../test/support/azurite-blob.js';
import { startEventHubsBroker } from '../test/support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../test/support/local-ports.js';
import { writeSyntheticBodies } from './generate-bodies.js';

const exec = promisify(execFile);
const PARTITIONS = 4;
const CLI = process.env.BENCH_CLI === 'src' ? ['--import', 'tsx', 'src/cli/main.ts'] : ['dist/cli/main.js'];
const records = Number(process.argv[2] ?? process.env.BENCH_ROUTE_RECORDS ?? 50_000);
const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-route-'));
const broker = await startEventHubsBroker({ hubName: 'busy', partitionCount: PARTITIONS, otherHubs: [{ hubName: 'keyed', partitionCount: PARTITIONS }] });
const azurite = await startAzuriteBlob();
try {
  const input = join(dir, 'hub.jsonl');
  await writeSyntheticBodies(input, records);
  const bytes = (await stat(input)).size;
  const bodies = (await readFile(input, 'utf8')).split('\n').filter(Boolean);
  console.log(`input: ${records} records, ${bodies.length} bodies, ${(bytes / 1e6).toFixed(0)} MB (${Math.round(bytes / records)} bytes a record)`);
  const rows: { scenario: string; seconds: number; recordsPerSecond: number }[] = [];
  const row = (scenario: string, seconds: number) => rows.push({ scenario, seconds: Number(seconds.toFixed(2)), recordsPerSecond: Math.round(records / seconds) });

  const { stdout } = await exec(process.execPath, [...CLI, 'ingest', '--json', '--db', join(dir, 'ingest.duckdb'), input], {
    env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' },
    maxBuffer: 1 << 20,
  });
  row('baseline: auditduck ingest of the file (detection on)', (JSON.parse(stdout) as { seconds: number }).seconds);

  bodies.forEach((body, i) => broker.hub('busy').publish(String(i % PARTITIONS), [Buffer.from(body)]));
  const routePort = await freePort();
  const routeConfig = join(dir, 'route.json');
  await writeFile(
    routeConfig,
    JSON.stringify({
      from: { connectionString: broker.hub('busy').connectionString, blobConnectionString: azurite.connectionString, blobContainer: 'route', maxBatchSize: 500, maxWaitTimeInSeconds: 0.2 },
      to: { connectionString: broker.hub('keyed').connectionString },
      http: { port: routePort },
    }),
  );
  row('auditduck route: one instance, the hub into the keyed hub', await measure(['route', '--config', routeConfig], routePort));

  const runPort = await freePort();
  const runConfig = join(dir, 'run.json');
  await writeFile(
    runConfig,
    JSON.stringify({
      db: join(dir, 'run.duckdb'),
      http: { port: runPort },
      eventHubs: {
        connectionString: broker.hub('keyed').connectionString,
        checkpointStore: 'blob',
        ownership: 'balanced',
        blobConnectionString: azurite.connectionString,
        blobContainer: 'keyed',
        maxBatchSize: 5_000,
        maxWaitTimeInSeconds: 0.2,
      },
    }),
  );
  row('auditduck run: one instance on the keyed hub (balanced, detection on)', await measure(['run', '--config', runConfig], runPort));
  console.table(rows.map((r) => ({ ...r, 'vs ingest': Number((r.recordsPerSecond / rows[0]!.recordsPerSecond).toFixed(2)) })));
} finally {
  await broker.stop();
  await azurite.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Seconds from the process serving /healthz until its `records` reach the input, scaled for what it did before. */
async function measure(args: string[], port: number): Promise<number> {
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const health = async (): Promise<{ records: number } | undefined> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number };
    const before = (await waitFor('to serve', health, 120_000)).records;
    const started = performance.now();
    await waitFor('every record', async () => (((await health())?.records ?? 0) >= records ? true : undefined), 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    return (seconds * records) / Math.max(1, records - before);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
