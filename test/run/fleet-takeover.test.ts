/**
 * Two `auditduck run` instances on one hub (checkpointStore blob, Azurite, the Event Hubs test broker):
 * the leader is killed with SIGKILL ten times while the hub has a backlog and more keeps arriving, and
 * restarted each time (it comes back as the standby). Every record ends up in exactly one of the two stores,
 * every audit row has its user in its own store (the session handover), and every attack story of the input raises
 * its alert in exactly one store (the detection handover), as `auditduck ingest` of it does in one, windowed
 * stories (evidence split by takeovers) included.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { exited, healthz, startFleetInstance, stopChild, type FleetInstance } from '../support/run-child.js';
import { queryStore } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { fleetMembers, runFleetQuery } from '../../src/query/fleet-query.js';
import { CLI } from '../support/cli-command.js';

const HUB = 'fleet-audit';
const PARTITIONS = 4;
const KILLS = Number(process.env.FLEET_TEST_KILLS ?? 10);
const MAX_BODIES = 400;
/** Rules that count over a window of stored rows: the handover carries the window's rows to the next leader. */
const WINDOWED_RULES = new Set(['brute-force', 'password-spray', 'failures-then-success', 'privilege-burst', 'role-created-and-dropped', 'dormant-role-login']);

interface Instance extends FleetInstance {
  env: NodeJS.ProcessEnv;
  config: string;
}

interface Health {
  records?: number;
  hubs?: Array<{ role: string; generation: number | null }>;
}

describe('auditduck run: the leader of a hub killed ten times during a backlog', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  let dir: string;
  const instances: Instance[] = [];

  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({ hubName: HUB, partitionCount: PARTITIONS });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-'));
    const config = join(dir, 'fleet.json');
    await writeFile(
      config,
      JSON.stringify({
        eventHubs: {
          connectionString: broker.connectionString,
          checkpointStore: 'blob',
          blobConnectionString: azurite.connectionString,
          blobContainer: 'fleet',
          maxBatchSize: 20,
          maxWaitTimeInSeconds: 0.2,
          leadership: { leaseTimeMs: 4_000, heartbeatMs: 800, inDoubtTimeoutMs: 60_000 },
          retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 },
        },
      }),
    );
    for (const name of ['a', 'b']) {
      const db = join(dir, `${name}.duckdb`);
      const port = await freePort();
      instances.push({
        name,
        db,
        port,
        config,
        child: null,
        env: runEnv({ db, port, instanceId: name }),
      });
    }
  });
  after(async () => {
    for (const instance of instances) if (instance.child?.exitCode === null) instance.child.kill('SIGKILL');
    await broker?.stop();
    await azurite?.stop();
    // FLEET_TEST_KEEP=1 keeps the stores, the input and the reference for a look after a failed run.
    if (process.env.FLEET_TEST_KEEP) console.log(`# kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });

  const start = (instance: Instance): void => startFleetInstance(instance, { config: instance.config, env: instance.env, quiet: true });
  /** The instance that leads and has stored something since it started (so it is killed mid-stream). */
  const workingLeader = (): Promise<Instance> =>
    waitFor('a leader that stores', async () => {
      for (const instance of instances) {
        const body = await healthz<Health>(instance.port);
        if (body?.hubs?.[0]?.role === 'leader' && (body.records ?? 0) > 0) return instance;
      }
      return undefined;
    }, 120_000);

  let published = 0;
  let bodyNumber = 0;
  const publishedBodies: string[] = [];
  const bodies = syntheticBodies({ records: 1_000_000, recordsPerBody: 10, servers: 2 });
  /** Diagnostic settings publish without a partition key: bodies land on partitions in turn. */
  const publish = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const body = bodies.next().value as string;
      broker.publish(String(bodyNumber++ % PARTITIONS), [Buffer.from(body)]);
      publishedBodies.push(body);
      published += (JSON.parse(body) as { records: unknown[] }).records.length;
    }
  };

  it('stores every record exactly once across the two stores', async (t) => {
    publish(150);
    for (const instance of instances) start(instance);
    // More keeps arriving during the kills, up to a bound: the test is about takeovers, not throughput.
    const trickle = setInterval(() => bodyNumber < MAX_BODIES && publish(2), 200);
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // A fast leader may have drained the backlog: fresh bodies give the one it is waiting for something to store.
        publish(4);
        const current = await workingLeader();
        // Let it commit for a moment, at a different point of its batches each time.
        await new Promise((resolve) => setTimeout(resolve, (kill * 137) % 700));
        const child = current.child!;
        child.kill('SIGKILL');
        await exited(child);
        start(current);
      }
    } finally {
      clearInterval(trickle);
    }
    publish(4);
    await workingLeader();
    const lastEnqueued = broker.events('0').length + broker.events('1').length + broker.events('2').length + broker.events('3').length;
    assert.equal(lastEnqueued, bodyNumber);
    // Drained: every record is in one of the stores (read through the instances' query APIs, one copy each).
    await waitFor('every record stored', async () => {
      const { rows } = await runFleetQuery(fleetMembers(instances.map((i) => i.db)), 'SELECT count(*) AS n FROM log_records');
      return Number(rows[0]!.n) === published ? true : undefined;
    }, 300_000);
    // A standby fills the rows it stored while it led once the leader's handover brings their sessions.
    await waitFor('every audit row attributed in its own store', async () => {
      const { rows } = await runFleetQuery(fleetMembers(instances.map((i) => i.db)), 'SELECT count(*) FILTER (WHERE user_name IS NULL) AS n FROM audit_events');
      return Number(rows[0]!.n) === 0 ? true : undefined;
    }, 30_000).catch(() => undefined);
    for (const instance of instances) await stopChild(instance.child!);

    const perStore = [];
    for (const instance of instances) {
      const [row] = await queryStore(instance.db, `SELECT count(*) AS n FROM log_records`);
      perStore.push(Number(row!.n));
    }
    assert.ok(perStore.every((n) => n > 0), `both instances led at some point: ${perStore.join(' + ')}`);
    const keys = new Map<string, number>();
    for (const instance of instances) {
      for (const row of await queryStore(instance.db, `SELECT source || '@' || position AS k FROM log_records`)) keys.set(String(row.k), (keys.get(String(row.k)) ?? 0) + 1);
    }
    const duplicates = [...keys].filter(([, n]) => n > 1).map(([k]) => k);
    assert.deepEqual(duplicates.slice(0, 5), [], `${duplicates.length} records stored twice`);
    assert.equal(perStore.reduce((sum, n) => sum + n, 0), published, 'every record once across the stores');

    // No alert raised by both instances: each record, so each piece of evidence, is in one store.
    const alerts = new Map<string, number>();
    for (const instance of instances) {
      for (const row of await queryStore(instance.db, `SELECT rule_id || '|' || coalesce(server, '') || '|' || coalesce(target, '') || '|' || first_seen AS k FROM alerts`)) {
        alerts.set(String(row.k), (alerts.get(String(row.k)) ?? 0) + 1);
      }
    }
    assert.deepEqual([...alerts].filter(([, n]) => n > 1), [], 'an alert raised in both stores');
    const unattributed = [];
    for (const instance of instances) unattributed.push(Number((await queryStore(instance.db, `SELECT count(*) FILTER (WHERE user_name IS NULL) AS n FROM audit_events`))[0]!.n));
    t.diagnostic(`${perStore.join(' + ')} records, ${alerts.size} alerts, ${unattributed.join(' + ')} audit rows without a user in their own store`);
    assert.deepEqual(unattributed, [0, 0], 'every audit row attributed in its own store');

    // The stories of the input, as one instance reading it all raises them.
    const input = join(dir, 'published.jsonl');
    await writeFile(input, publishedBodies.join('\n') + '\n');
    const reference = join(dir, 'reference.duckdb');
    await promisify(execFile)(process.execPath, [...CLI, 'ingest', '--db', reference, input], { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' } });
    const storyOf = (row: Record<string, unknown>) => `${String(row.rule_id)}|${String(row.server)}|${String(row.dedup_key)}`;
    const expected = new Map((await queryStore(reference, `SELECT rule_id, server, dedup_key, count FROM alerts`)).map((row) => [storyOf(row), Number(row.count)]));
    const raisedIn = new Map<string, string[]>();
    for (const instance of instances) {
      for (const row of await queryStore(instance.db, `SELECT DISTINCT rule_id, server, dedup_key FROM alerts`)) raisedIn.set(storyOf(row), [...(raisedIn.get(storyOf(row)) ?? []), instance.name]);
    }
    assert.ok(expected.size >= 5, `the input holds stories to check: ${[...expected.keys()].join(', ')}`);
    assert.ok([...expected.keys()].some((story) => WINDOWED_RULES.has(story.split('|')[0]!)), 'the input holds a windowed story');
    // Every story once: an alert the old leader raised is not raised again (its key is handed over), a change
    // whose BEGIN and COMMIT fell on both sides is judged by statement id, and a windowed story's evidence split
    // by a takeover is counted whole (windows are defined on the set of rows, not their arrival order).
    const windowed = (story: string) => WINDOWED_RULES.has(story.split('|')[0]!);
    const notOnce = [...expected.keys()].filter((story) => raisedIn.get(story)?.length !== 1);
    const unexpected = [...raisedIn.keys()].filter((story) => !expected.has(story));
    // What each store holds of a missed burst's changes: a miss in a noisy run can then be told apart (a change
    // stored ineffective in one store, or not stored at all) without running it again.
    for (const story of notOnce.filter((s) => s.startsWith('privilege-burst|'))) {
      const [, server, actor] = story.split('|');
      const held = [];
      for (const instance of [...instances, { name: 'reference', db: reference }]) {
        const [row] = await queryStore(instance.db, `SELECT count(*) FILTER (WHERE effective) AS effective, count(*) AS n FROM privilege_changes WHERE server = '${server}' AND actor = '${actor}'`);
        held.push(`${instance.name}: ${String(row!.effective)} effective of ${String(row!.n)}`);
      }
      t.diagnostic(`${story}: ${held.join(', ')}`);
    }
    t.diagnostic(`stories: ${expected.size}, windowed: ${[...expected.keys()].filter(windowed).join(', ')}; not once: ${notOnce.map((story) => `${story} (x${expected.get(story)} in the reference) in ${raisedIn.get(story)?.join('+') || 'no store'}`).join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'}`);
    assert.deepEqual(notOnce, [], 'every story of the input raised in exactly one store');
    assert.deepEqual(unexpected, [], 'no alert the input does not hold');
  });
});
