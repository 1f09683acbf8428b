/**
 * Two hubs of one namespace, two `auditduck run` instances configured with both (checkpointStore blob):
 * each hub is read by exactly one leader, and `auditduck query --fleet` over both stores counts every
 * record once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { queryStore } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { fleetMembers, runFleetQuery } from '../../src/query/fleet-query.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const HUBS = ['pg-prod', 'pg-test'];

interface Health {
  hubs?: Array<{ hub: string; role: string }>;
}

describe('auditduck run with two hubs and two instances', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  let dir: string;
  const stores: string[] = [];
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  let published = 0;
  const publishedPerHub = new Map<string, number>();

  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: HUBS[0]!, partitionCount: 2, otherHubs: [{ hubName: HUBS[1]!, partitionCount: 2 }] });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-hubs-'));
    const hub = (hubName: string) => ({
      connectionString: broker.namespaceConnectionString,
      hubName,
      checkpointStore: 'blob',
      blobConnectionString: azurite.connectionString,
      blobContainer: 'fleet-hubs',
      maxBatchSize: 50,
      maxWaitTimeInSeconds: 0.2,
      leadership: { leaseTimeMs: 4_000, heartbeatMs: 800 },
    });
    const config = join(dir, 'fleet.json');
    await writeFile(config, JSON.stringify({ eventHubs: HUBS.map(hub) }));
    // Servers grouped by hub, as diagnostic settings send them: each hub gets its own servers' records.
    for (const [h, hubName] of HUBS.entries()) {
      let n = 0;
      for (const body of syntheticBodies({ records: 400, recordsPerBody: 10, servers: 2, seed: 7 + h })) {
        broker.hub(hubName).publish(String(n++ % 2), [Buffer.from(body)]);
        const records = (JSON.parse(body) as { records: unknown[] }).records.length;
        published += records;
        publishedPerHub.set(`eventhubs:${hubName}`, (publishedPerHub.get(`eventhubs:${hubName}`) ?? 0) + records);
      }
    }
    for (const name of ['a', 'b']) {
      const db = join(dir, `${name}.duckdb`);
      const port = await freePort();
      stores.push(db);
      ports.push(port);
      const env = runEnv({ db, port, instanceId: name });
      children.push(spawn(process.execPath, [...CLI, 'run', '--config', config], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
    }
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await azurite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const health = async (port: number): Promise<Health> => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;

  it('has each hub read by exactly one leader', async () => {
    const leaders = await waitFor('one leader per hub', async () => {
      const views = await Promise.all(ports.map(health));
      const perHub = HUBS.map((hub) => views.flatMap((view, i) => (view.hubs?.some((h) => h.hub === hub && h.role === 'leader') ? [i] : [])));
      return perHub.every((instances) => instances.length === 1) ? perHub : undefined;
    }, 120_000);
    assert.deepEqual(leaders.map((instances) => instances.length), [1, 1]);
  });

  it('counts every record once with query --fleet, through the running instances', async () => {
    const members = fleetMembers(stores);
    await waitFor('every record stored', async () => {
      const { rows } = await runFleetQuery(members, 'SELECT count(*) AS n FROM log_records');
      return Number(rows[0]!.n) === published ? true : undefined;
    }, 120_000);
    const { stdout } = await exec(process.execPath, [
      ...CLI, 'query', '--fleet', stores[0]!, '--fleet', stores[1]!, '--format', 'json',
      `SELECT split_part(source, '/', 1) AS hub, count(*) AS records, count(DISTINCT fleet_member) AS members FROM log_records GROUP BY ALL ORDER BY hub`,
    ]);
    const perHub = JSON.parse(stdout) as Array<{ hub: string; records: number; members: number }>;
    assert.deepEqual(perHub.map((row) => row.hub), HUBS.map((hub) => `eventhubs:${hub}`));
    assert.equal(perHub.reduce((sum, row) => sum + row.records, 0), published);
    // Not one member per hub: an instance that led both before it saw the other hands one over (fleet-spread.test.ts).
    assert.deepEqual(perHub.map((row) => [row.hub, row.records]), [...publishedPerHub].sort(), 'each hub its own records, once');
  });

  it('drops a copy that two stores hold under the same (source, position)', async () => {
    for (const child of children) {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
    const [one] = await queryStore(stores[0]!, `SELECT count(*) AS n FROM log_records`);
    const [two] = await queryStore(stores[1]!, `SELECT count(*) AS n FROM log_records`);
    // A copy of a whole store is the worst case: every row of it is held twice.
    const copy = join(dir, 'a-copy.duckdb');
    await copyFile(stores[0]!, copy);
    const { rows } = await runFleetQuery(fleetMembers([stores[0]!, copy, stores[1]!]), 'SELECT count(*) AS n FROM log_records');
    assert.equal(Number(rows[0]!.n), Number(one!.n) + Number(two!.n));
  });
});
