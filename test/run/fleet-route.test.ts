/**
 * A hub too busy for one instance, split by `auditduck route` (issue 17, item 3), with the real SDK clients
 * against the test broker and Azurite:
 * - `run` stores a routed origin republished twice once, under the origin's (source, position);
 * - two `route` instances re-key a hub by server into a keyed hub, two `run` instances share the keyed hub
 *   with the SDK's balanced strategy; a route and a run instance are SIGKILLed and restarted while records
 *   keep arriving. Every input record is stored exactly once across the two stores, every audit row has its
 *   user, each attack story is alerted once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventHubProducerClient } from '@azure/event-hubs';
import { ContainerClient } from '@azure/storage-blob';
import { originProperties } from '../../src/contracts/record-origin.js';
import { fleetMembers, runFleetQuery } from '../../src/query/fleet-query.js';
import { startAzuriteBlob, type AzuriteBlob } from '../support/azurite-blob.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { queryStore } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { CLI } from '../support/cli-command.js';

const SOURCE = 'pg-busy';
const KEYED = 'pg-busy-keyed';
const DUPLICATES = 'pg-republished';
const PARTITIONS = 4;
const SERVERS = 4;
const RECORDS = 1_500;
const BODIES = RECORDS / 10;
/**
 * Published once the restarted run instance owns partitions, for it to store: records of every server, so
 * of every keyed partition, whichever the balancing gives it (the end of the first stream names two servers).
 */
const AFTER_RESTART = [...syntheticBodies({ records: 200, recordsPerBody: 10, servers: SERVERS, seed: 7, start: new Date('2026-11-21T00:00:00Z') })];
/** Set to a directory to keep each process's log there (debugging). */
const LOG_DIR = process.env.FLEET_TEST_LOG_DIR;
/**
 * Multiplies every wait (default 1): on a machine loaded far beyond its cores an instance takes minutes to start.
 * The waits are bounds, not what is proven; CI keeps 1, so that a failed wait reports within the file's timeout.
 */
const PATIENCE = Number(process.env.FLEET_TEST_PATIENCE ?? 1);

const retry = { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 };
/** Short, for a quick takeover after the kill; not so short that a loaded machine's late renewals move partitions. */
const balancing = { updateIntervalMs: 1_000, ownershipExpirationMs: 10_000 };

interface Proc {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  child: ChildProcess | null;
}

describe('auditduck route: a busy hub re-keyed by server, read by two run instances', () => {
  let azurite: AzuriteBlob;
  let broker: EventHubsBroker;
  let dir: string;
  const procs: Proc[] = [];

  before(async () => {
    azurite = await startAzuriteBlob();
    broker = await startEventHubsBroker({
      hubName: SOURCE,
      partitionCount: PARTITIONS,
      otherHubs: [
        { hubName: KEYED, partitionCount: PARTITIONS },
        { hubName: DUPLICATES, partitionCount: 2 },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-route-'));
  });
  after(async () => {
    for (const proc of procs) if (proc.child && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.child && exited(p.child)));
    await broker?.stop();
    await azurite?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // A test file cut off by the runner's timeout gets SIGTERM and runs no `after`: its instances would live on
  // (retrying a broker that is gone) and slow every test after it.
  const killAll = (): void => {
    for (const proc of procs) if (proc.child && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  process.once('SIGTERM', () => {
    killAll();
    process.exit(143);
  });

  const start = (proc: Proc): void => {
    const child = spawn(process.execPath, [...CLI, ...proc.args], {
      env: LOG_DIR ? { ...proc.env, AUDITDUCK_LOG_LEVEL: 'info' } : proc.env,
      stdio: ['ignore', 'ignore', LOG_DIR ? 'pipe' : 'ignore'],
    });
    if (LOG_DIR) child.stderr!.pipe(createWriteStream(join(LOG_DIR, `${proc.name}.log`), { flags: 'a' }));
    proc.child = child;
  };
  const exited = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const kill = async (proc: Proc, signal: NodeJS.Signals): Promise<void> => {
    proc.child!.kill(signal);
    await exited(proc.child!);
  };
  const runProc = async (name: string, config: object): Promise<Proc & { db: string; port: number }> => {
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(config));
    const db = join(dir, `${name}.duckdb`);
    const port = await freePort();
    const proc = { name, db, port, child: null, args: ['run', '--config', file], env: { ...process.env, AUDITDUCK_DB: db, AUDITDUCK_HTTP_PORT: String(port), AUDITDUCK_LOG_LEVEL: 'warn' } };
    procs.push(proc);
    return proc;
  };
  const records = async (port: number): Promise<number> => {
    try {
      return ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records?: number }).records ?? 0;
    } catch {
      return 0;
    }
  };
  /** The partitions the instance reads now (its /metrics gauge); null while it is not up. */
  const ownedPartitions = async (port: number): Promise<number | null> => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const match = /^auditduck_owned_partitions (\d+)/m.exec(text);
      return match ? Number(match[1]) : null;
    } catch {
      return null;
    }
  };

  it('stores an origin republished twice once, under the origin\'s source and position', async () => {
    const producer = new EventHubProducerClient(broker.hub(DUPLICATES).connectionString);
    const bodies = [...syntheticBodies({ records: 60, recordsPerBody: 1, servers: 2 })];
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        const server = (JSON.parse(bodies[i]!) as { records: Array<{ resourceId: string }> }).records[0]!.resourceId.split('/').at(-1)!.toLowerCase();
        const batch = await producer.createBatch({ partitionKey: server });
        // As route writes them: origin partition 2 of the source hub, sequence numbers from 100.
        assert.ok(batch.tryAdd({ body: Buffer.from(bodies[i]!), properties: originProperties({ hub: SOURCE, partitionId: '2', sequenceNumber: 100 + i, index: 0 }) }));
        await producer.sendBatch(batch);
      }
    };
    // A route instance sent 0..39 and died before its checkpoint at 20: the next one sends 20..59 again.
    await send(0, 40);
    await send(20, 60);
    await producer.close();
    const run = await runProc('republished', { eventHubs: { connectionString: broker.hub(DUPLICATES).connectionString, maxBatchSize: 7, maxWaitTimeInSeconds: 0.2, retry } });
    start(run);
    await waitFor('the keyed hub read', async () => ((await records(run.port)) >= 60 ? true : undefined), 60_000 * PATIENCE);
    // Stored: nothing more arrives than 60 (a duplicate would make it 80).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await kill(run, 'SIGTERM');
    const rows = await queryStore(run.db, `SELECT source, position FROM log_records ORDER BY TRY_CAST(split_part(position, '#', 1) AS INTEGER)`);
    assert.equal(rows.length, 60);
    assert.deepEqual(
      rows.map((r) => `${r.source}@${r.position}`),
      Array.from({ length: 60 }, (_, i) => `eventhubs:${SOURCE}/2@${100 + i}#0`),
    );
  });

  it('two route and two run instances, one of each SIGKILLed: every record in exactly one store, attributed, stories alerted once', async (t) => {
    const blob = { blobConnectionString: azurite.connectionString };
    const routeConfig = join(dir, 'route.json');
    await writeFile(
      routeConfig,
      JSON.stringify({
        from: { connectionString: broker.hub(SOURCE).connectionString, ...blob, blobContainer: 'route', maxBatchSize: 10, maxWaitTimeInSeconds: 0.2, balancing, retry },
        to: { connectionString: broker.hub(KEYED).connectionString, retry },
        logIntervalMs: 2_000,
      }),
    );
    const routes: Proc[] = ['route-1', 'route-2'].map((name) => ({ name, child: null, args: ['route', '--config', routeConfig], env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' } }));
    procs.push(...routes);
    const hubConfig = {
      eventHubs: {
        connectionString: broker.hub(KEYED).connectionString,
        checkpointStore: 'blob',
        ownership: 'balanced',
        ...blob,
        blobContainer: 'keyed',
        // One record an event: a keyed hub's batches want more events than a diagnostic setting's.
        maxBatchSize: 200,
        maxWaitTimeInSeconds: 0.2,
        balancing,
        retry,
      },
    };
    const runs = [await runProc('a', hubConfig), await runProc('b', hubConfig)];

    /** What a failed wait says: each run instance's records and partitions, the keyed hub's ownership and registers. */
    const fleetState = async (): Promise<string> => {
      const lines: string[] = [];
      for (const run of runs) {
        const running = run.child && run.child.exitCode === null && run.child.signalCode === null;
        lines.push(`run ${run.name}: ${running ? 'running' : 'not running'}, ${await records(run.port)} records since start, owns ${await ownedPartitions(run.port)} partitions`);
      }
      const now = Date.now();
      for await (const blob of new ContainerClient(azurite.connectionString, 'keyed').listBlobsFlat({ includeMetadata: true })) {
        const name = blob.name.split('/').slice(-2).join('/');
        const meta = Object.entries(blob.metadata ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
        lines.push(`  ${name}: ${meta} (written ${Math.round((now - blob.properties.lastModified.getTime()) / 1000)} s ago)`);
      }
      return lines.join('\n');
    };
    const waitExplained = async (what: string, probe: () => Promise<true | undefined>, ms: number): Promise<void> => {
      try {
        await waitFor(what, probe, ms);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${await fleetState()}`);
      }
    };

    // Diagnostic settings publish without a key: bodies land on the source partitions in turn.
    let published = 0;
    let bodyNumber = 0;
    const publish = (body: string): void => {
      broker.hub(SOURCE).publish(String(bodyNumber++ % PARTITIONS), [Buffer.from(body)]);
      published += (JSON.parse(body) as { records: unknown[] }).records.length;
    };
    const bodies = syntheticBodies({ records: RECORDS, recordsPerBody: 10, servers: SERVERS });
    const publishSome = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const next = bodies.next();
        if (next.done) return;
        publish(next.value);
      }
    };
    const stories = attackStories();
    const serversAfterRestart = new Set(AFTER_RESTART.flatMap((body) => (JSON.parse(body) as { records: Array<{ resourceId: string }> }).records.map((r) => r.resourceId.split('/').at(-1))));
    assert.equal(serversAfterRestart.size, SERVERS, 'the bodies for the restarted instance name every server');
    publishSome(50);
    for (const proc of [...routes, ...runs]) start(proc);
    const trickle = setInterval(() => publishSome(1), 100);
    try {
      await waitExplained('both run instances storing', async () => ((await records(runs[0]!.port)) > 0 && (await records(runs[1]!.port)) > 0 ? true : undefined), 120_000 * PATIENCE);
      publish(stories.bruteForce);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await kill(routes[0]!, 'SIGKILL');
      start(routes[0]!);
      publish(stories.superuser);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await kill(runs[0]!, 'SIGKILL');
      start(runs[0]!);
      // Up before any fleet query: a store no instance holds is opened as a file, which would keep it from starting.
      await waitFor('the killed run instance back', async () => {
        try {
          return (await fetch(`http://127.0.0.1:${runs[0]!.port}/healthz`)).ok || undefined;
        } catch {
          return undefined;
        }
      }, 120_000 * PATIENCE);
    } finally {
      clearInterval(trickle);
    }
    // The restarted instance is given partitions again by the balancing (at once: it releases the claims it
    // left when killed), and stores what arrives after that: records of every server, published only now. (Records
    // published before could all be stored by the survivor, or be of servers on the other partitions: the
    // CI timeout.)
    await waitExplained('the restarted run instance given partitions', async () => ((await ownedPartitions(runs[0]!.port)) ?? 0) > 0 || undefined, 60_000 * PATIENCE);
    publishSome(BODIES);
    for (const body of AFTER_RESTART) publish(body);
    await waitExplained('the restarted run instance storing', async () => ((await records(runs[0]!.port)) > 0 ? true : undefined), 60_000 * PATIENCE);

    const members = fleetMembers(runs.map((r) => r.db));
    await waitExplained('every record stored', async () => {
      try {
        const { rows } = await runFleetQuery(members, 'SELECT count(*) AS n FROM log_records');
        return Number(rows[0]!.n) === published ? true : undefined;
      } catch {
        return undefined; // an instance restarting: its query API is not up yet
      }
    }, 150_000 * PATIENCE);
    assert.equal(bodyNumber, BODIES + 2 + AFTER_RESTART.length);
    const routed = await runFleetQuery(members, 'SELECT count(*) AS n, count(DISTINCT source || position) AS distinct_origins FROM log_records');
    assert.deepEqual(routed.rows.map((r) => [Number(r.n), Number(r.distinct_origins)]), [[published, published]], 'every origin once in the fleet');
    // The rows are those of the source hub, not of the keyed hub.
    const sources = await runFleetQuery(members, `SELECT DISTINCT split_part(source, '/', 1) AS hub FROM log_records`);
    assert.deepEqual(sources.rows.map((r) => r.hub), [`eventhubs:${SOURCE}`]);
    for (const run of runs) await kill(run, 'SIGTERM');
    for (const route of routes) await kill(route, 'SIGTERM');

    // Each server's records went to one keyed partition: the stores split servers, not sessions.
    const perStore: number[] = [];
    const copies = new Map<string, number>();
    for (const run of runs) {
      perStore.push(Number((await queryStore(run.db, 'SELECT count(*) AS n FROM log_records'))[0]!.n));
      for (const row of await queryStore(run.db, `SELECT source || '@' || position AS k FROM log_records`)) copies.set(String(row.k), (copies.get(String(row.k)) ?? 0) + 1);
    }
    assert.ok(perStore.every((n) => n > 0), `both run instances stored: ${perStore.join(' + ')}`);
    assert.equal(copies.size, published, 'every input record is in one of the stores');
    // Partitions moved between the run instances (the kill, the restart): the partition register fences each
    // commit, so the batch in flight at a move is stored by one of them only.
    const twice = [...copies].filter(([, n]) => n > 1).map(([key]) => key);
    assert.equal(twice.length, 0, `records stored by both run instances: ${twice.slice(0, 10).join(', ')}`);

    // Attribution: every audit row has its user, in its own store or (a session split by the kill) in the other's.
    const unattributed = await runFleetQuery(
      members,
      `SELECT count(*) AS n FROM audit_events a WHERE a.user_name IS NULL
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.server = a.server AND s.session_id = a.session_id AND s.user_name IS NOT NULL)`,
    );
    assert.equal(Number(unattributed.rows[0]!.n), 0, 'audit rows without a user anywhere in the fleet');
    let withoutUserInOwnStore = 0;
    for (const run of runs) withoutUserInOwnStore += Number((await queryStore(run.db, `SELECT count(*) FILTER (WHERE user_name IS NULL) AS n FROM audit_events`))[0]!.n);

    // The stories: alerted once across the fleet, and nothing raised in both stores. The same alert key from
    // two statements (the synthetic data creates report_10011 twice in one session) is two alerts when a
    // partition move puts the statements in different stores; from the same statement it is a copy.
    const alerts = new Map<string, number>();
    const raised = new Map<string, number>();
    for (const run of runs) {
      for (const row of await queryStore(
        run.db,
        `SELECT rule_id || '|' || coalesce(server, '') || '|' || coalesce(target, '') AS k, CAST(first_seen AS VARCHAR) AS at FROM alerts WHERE status <> 'retracted'`,
      )) {
        alerts.set(String(row.k), (alerts.get(String(row.k)) ?? 0) + 1);
        raised.set(`${row.k}@${row.at}`, (raised.get(`${row.k}@${row.at}`) ?? 0) + 1);
      }
    }
    assert.equal(alerts.get(`brute-force|${stories.server}|mallory`), 1, `brute force alerted once: ${[...alerts.keys()].join(', ')}`);
    assert.equal(alerts.get(`admin-granted|${stories.server}|mallory`), 1, 'the superuser grant alerted once');
    assert.deepEqual([...raised].filter(([, n]) => n > 1), [], 'an alert raised in both stores from the same statement');
    t.diagnostic(
      `${published} records: ${perStore.join(' + ')} in the stores, ` +
        `${alerts.size} alerts, ${withoutUserInOwnStore} audit rows whose user is in the other store`,
    );
  });
});

/** Two attack stories on one server, as Azure's diagnostic settings write them (`%t-%c-` prefix). */
function attackStories(): { server: string; bruteForce: string; superuser: string } {
  const server = 'bench-pg-1';
  const t0 = Date.parse('2026-11-20T00:30:00Z');
  let pid = 90_000;
  const failures = Array.from({ length: 12 }, (_, i) => {
    const at = t0 + i * 1_000;
    const sessionId = `${Math.floor(at / 1000).toString(16)}.${(++pid).toString(16)}`;
    return [
      azureRecord(server, sessionId, pid, 'LOG', 'connection received: host=10.9.9.9 port=50000', at),
      azureRecord(server, sessionId, pid, 'FATAL', 'password authentication failed for user "mallory"', at + 1),
    ];
  }).flat();
  const at = t0 + 60_000;
  const sessionId = `${Math.floor(at / 1000).toString(16)}.${(++pid).toString(16)}`;
  const escalation = [
    azureRecord(server, sessionId, pid, 'LOG', 'connection received: host=10.9.9.8 port=50001', at),
    azureRecord(server, sessionId, pid, 'LOG', 'connection authenticated: identity="dba_eve" method=scram-sha-256 (/datadrive/pg/data/pg_hba.conf:12)', at + 1),
    azureRecord(server, sessionId, pid, 'LOG', 'connection authorized: user=dba_eve database=appdb application_name=psql', at + 2),
    azureRecord(server, sessionId, pid, 'LOG', 'AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,ALTER ROLE mallory SUPERUSER;,<not logged>', at + 3),
  ];
  return { server, bruteForce: JSON.stringify({ records: failures }), superuser: JSON.stringify({ records: escalation }) };
}

function azureRecord(server: string, sessionId: string, pid: number, level: string, text: string, millis: number): object {
  const iso = new Date(millis).toISOString();
  const pgTime = `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
  return {
    properties: { timestamp: pgTime, processId: pid, errorLevel: level, sqlerrcode: level === 'FATAL' ? '28P01' : '00000', message: `${pgTime.slice(0, 19)} UTC-${sessionId}-${level}:  ${text}` },
    time: iso,
    resourceId: `/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/BENCH/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/${server.toUpperCase()}`,
    category: 'PostgreSQLLogs',
  };
}
