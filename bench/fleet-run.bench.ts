/**
 * How many records per second one `auditduck run` instance stores from Event Hubs, with detection on,
 * next to `auditduck ingest` (detection on too) of the same bodies from a file, in the same run. The figure
 * decides how servers are grouped into hubs and whether a hub must be split (docs/fleet.md): a fully scaled
 * Standard hub delivers ~80 MB/s of egress (40 throughput units).
 * The hub is the project's test broker in this process; `run` reads it in its own process, in both modes:
 * `duckdb` (one instance) and `blob` (the leader of a fleet: two partition-register writes per batch, Azurite).
 *
 *   node --import tsx bench/fleet-run.bench.ts [records]      (default 200000; BENCH_FLEET_RECORDS also works)
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
const HUB_EGRESS_MB_PER_SECOND = 80;
/** The compiled CLI when built (npm run bench builds it), else the sources through tsx. */
const CLI = process.env.BENCH_CLI === 'src' ? ['--import', 'tsx', 'src/cli/main.ts'] : ['dist/cli/main.js'];

interface Row {
  scenario: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
}

const records = Number(process.argv[2] ?? process.env.BENCH_FLEET_RECORDS ?? 200_000);
const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-fleet-'));
try {
  const input = join(dir, 'hub.jsonl');
  await writeSyntheticBodies(input, records);
  const bytes = (await stat(input)).size;
  const bodies = (await readFile(input, 'utf8')).split('\n').filter(Boolean);
  const bytesPerRecord = bytes / records;
  console.log(`input: ${records} records, ${bodies.length} bodies, ${(bytes / 1e6).toFixed(0)} MB (${Math.round(bytesPerRecord)} bytes a record)`);
  const row = (scenario: string, seconds: number): Row => ({
    scenario,
    records,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(records / seconds),
    mbPerSecond: Number(((records * bytesPerRecord) / seconds / 1e6).toFixed(1)),
  });

  const rows: Row[] = [];
  const { stdout } = await exec(process.execPath, [...CLI, 'ingest', '--json', '--db', join(dir, 'ingest.duckdb'), input], {
    env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' },
    maxBuffer: 1 << 20,
  });
  rows.push(row('baseline: auditduck ingest of the file (detection on)', (JSON.parse(stdout) as { seconds: number }).seconds));
  for (const mode of ['duckdb', 'blob'] as const) rows.push(row(`auditduck run from the hub, checkpointStore ${mode} (detection on)`, await runFromHub(mode, bodies)));

  console.table(rows.map((r) => ({ ...r, 'vs ingest': Number((r.recordsPerSecond / rows[0]!.recordsPerSecond).toFixed(2)) })));
  const slowest = Math.min(...rows.slice(1).map((r) => r.mbPerSecond));
  console.log(
    slowest >= HUB_EGRESS_MB_PER_SECOND
      ? `one instance keeps up with a fully scaled Standard hub (${slowest} >= ${HUB_EGRESS_MB_PER_SECOND} MB/s): no hub needs splitting`
      : `one instance reads ${slowest} MB/s, below a fully scaled Standard hub's ${HUB_EGRESS_MB_PER_SECOND} MB/s: a hub carrying more than that needs splitting (docs/fleet.md)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Seconds from the instance serving /healthz (started and reading) until it has stored every record. */
async function runFromHub(mode: 'duckdb' | 'blob', bodies: string[]): Promise<number> {
  const broker = await startEventHubsBroker({ hubName: 'bench', partitionCount: PARTITIONS });
  const azurite = mode === 'blob' ? await startAzuriteBlob() : null;
  const port = await freePort();
  const config = join(dir, `run-${mode}.json`);
  await writeFile(
    config,
    JSON.stringify({
      db: join(dir, `run-${mode}.duckdb`),
      http: { port },
      eventHubs: {
        connectionString: broker.connectionString,
        maxBatchSize: 500,
        maxWaitTimeInSeconds: 0.2,
        ...(azurite ? { checkpointStore: 'blob', blobConnectionString: azurite.connectionString, blobContainer: 'bench' } : {}),
      },
    }),
  );
  // Published before the start, as a backlog: the reading rate, not the producer's, is measured.
  bodies.forEach((body, i) => broker.publish(String(i % PARTITIONS), [Buffer.from(body)]));
  const child = spawn(process.execPath, [...CLI, 'run', '--config', config], { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    const health = async (): Promise<{ records: number } | undefined> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number };
    // The source starts reading a moment before /healthz answers: count only what is stored after.
    const before = (await waitFor('run to serve', health, 120_000)).records;
    const started = performance.now();
    await waitFor('every record stored', async () => ((await health())?.records ?? 0) >= records ? true : undefined, 30 * 60_000);
    const seconds = (performance.now() - started) / 1000;
    return (seconds * records) / Math.max(1, records - before);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await broker.stop();
    await azurite?.stop();
  }
}
