/**
 * Two hubs, two `auditduck run` instances configured with both (checkpointStore blob, Azurite, the test
 * broker), started one after the other: the hubs are spread, one per instance (it was first come, first
 * served: the first instance led both). One is SIGKILLed: the survivor leads both. It is restarted: the hubs
 * are spread again, by a clean hand-over. Records keep arriving throughout; every one is stored exactly once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { exited, ledHubs, startFleetInstance, stopChild, waitServing, type FleetInstance } from '../support/run-child.js';
import { queryStore } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { fleetMembers, runFleetQuery } from '../../src/query/fleet-query.js';

const HUBS = ['pg-prod', 'pg-test'];
const PARTITIONS = 2;

describe('auditduck run: two hubs spread over two instances', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  let dir: string;
  let config: string;
  const instances: FleetInstance[] = [];
  let published = 0;
  let bodyNumber = 0;
  const bodies = HUBS.map((_, h) => syntheticBodies({ records: 1_000_000, recordsPerBody: 10, servers: 2, seed: 30 + h }));

  /** Each hub gets its own servers' records, spread over its partitions (no partition key). */
  const publish = (perHub: number): void => {
    for (let i = 0; i < perHub; i++, bodyNumber++) {
      for (const [h, hubName] of HUBS.entries()) {
        const body = bodies[h]!.next().value as string;
        broker.hub(hubName).publish(String(bodyNumber % PARTITIONS), [Buffer.from(body)]);
        published += (JSON.parse(body) as { records: unknown[] }).records.length;
      }
    }
  };

  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: HUBS[0]!, partitionCount: PARTITIONS, otherHubs: [{ hubName: HUBS[1]!, partitionCount: PARTITIONS }] });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-spread-'));
    const hub = (hubName: string) => ({
      connectionString: broker.namespaceConnectionString,
      hubName,
      checkpointStore: 'blob',
      blobConnectionString: azurite.connectionString,
      blobContainer: 'fleet-spread',
      maxBatchSize: 20,
      maxWaitTimeInSeconds: 0.2,
      leadership: { leaseTimeMs: 4_000, heartbeatMs: 800, inDoubtTimeoutMs: 60_000 },
      retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
    });
    config = join(dir, 'fleet.json');
    await writeFile(config, JSON.stringify({ eventHubs: HUBS.map(hub) }));
    for (const name of ['a', 'b']) instances.push({ name, db: join(dir, `${name}.duckdb`), port: await freePort(), child: null });
  });
  after(async () => {
    for (const instance of instances) if (instance.child?.exitCode === null) instance.child.kill('SIGKILL');
    await broker?.stop();
    await azurite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (instance: FleetInstance): void =>
    startFleetInstance(instance, { config, env: runEnv({ db: instance.db, port: instance.port, instanceId: instance.name }) });
  const until = (what: string, ok: (led: string[][]) => boolean, ms: number): Promise<string[][]> =>
    waitFor(what, async () => {
      const led = await ledHubs(instances);
      return ok(led) ? led : undefined;
    }, ms);
  /** Booting takes long on a loaded machine: the hand-over is timed from when the instance answers. */
  const serving = (instance: FleetInstance): Promise<unknown> => waitServing(instance.name, instance.port);
  const spread = (led: string[][]): boolean => led.every((hubs) => hubs.length === 1) && new Set(led.flat()).size === HUBS.length;

  it('leads one hub per instance, both after a kill, and one each again after the restart; every record once', async () => {
    publish(40);
    start(instances[0]!);
    await until('the first instance to lead both hubs', (led) => led[0]!.length === HUBS.length, 120_000);
    publish(20);
    start(instances[1]!);
    await serving(instances[1]!);
    // A hand-over takes a heartbeat or two once the second instance is seen (plus a slow machine's pauses).
    await until('one hub per instance after the second started', spread, 60_000);

    publish(20);
    const victim = instances[1]!;
    victim.child!.kill('SIGKILL');
    await exited(victim.child!);
    await until('the survivor to lead both hubs', (led) => led[0]!.length === HUBS.length, 60_000);

    publish(20);
    start(victim);
    await serving(victim);
    await until('one hub per instance after the restart', spread, 60_000);
    publish(20);

    await waitFor('every record stored', async () => {
      const { rows } = await runFleetQuery(fleetMembers(instances.map((i) => i.db)), 'SELECT count(*) AS n FROM log_records');
      return Number(rows[0]!.n) === published ? true : undefined;
    }, 120_000);
    for (const instance of instances) await stopChild(instance.child!);

    const keys = new Map<string, number>();
    const perStore: number[] = [];
    for (const instance of instances) {
      const rows = await queryStore(instance.db, `SELECT source || '@' || position AS k FROM log_records`);
      perStore.push(rows.length);
      for (const row of rows) keys.set(String(row.k), (keys.get(String(row.k)) ?? 0) + 1);
    }
    const duplicates = [...keys].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(duplicates.slice(0, 5), [], `${duplicates.length} records stored twice`);
    assert.equal(perStore[0]! + perStore[1]!, published, `every record once across the stores (${perStore.join(' + ')})`);
    assert.ok(perStore.every((n) => n > 0), `both instances stored records: ${perStore.join(' + ')}`);
  });
});
