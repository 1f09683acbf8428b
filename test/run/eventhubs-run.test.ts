/**
 * `auditduck run` against Event Hubs, with the real SDK clients and a local broker that speaks their
 * protocol: `auditduck replay` sends the samples in, `run` stores every record once, survives the broker
 * dropping its connections, stops on SIGTERM, and resumes after a restart without a duplicate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { queryStore } from '../support/store-reader.js';
import { freePort, waitFor } from '../support/local-ports.js';
import { runEnv } from '../support/run-env.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const HUB = 'pg-audit-logs';

describe('auditduck run on Event Hubs', () => {
  let broker: EventHubsBroker;
  let dir: string;
  let db: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let sampleFiles: string[];
  let sampleBodies: string[];
  let expected: number;
  const children: ChildProcess[] = [];

  const startRun = (): ChildProcess => {
    const child = spawn(process.execPath, [...CLI, 'run'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const stop = (child: ChildProcess) => new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
  const stored = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { records: number; source: string };

  before(async () => {
    broker = await startEventHubsBroker({ hubName: HUB, partitionCount: 2 });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-eh-run-'));
    db = join(dir, 'store.duckdb');
    port = await freePort();
    env = runEnv({ db, port, hub: { connectionString: broker.connectionString, hubName: HUB } });
    sampleFiles = (await readdir('samples/eventhubs')).map((f) => join('samples/eventhubs', f));
    sampleBodies = (await Promise.all(sampleFiles.map((f) => readFile(f, 'utf8')))).flatMap((t) => t.split('\n').filter(Boolean));
    expected = sampleBodies.reduce((n, b) => n + (JSON.parse(b) as { records: unknown[] }).records.length, 0);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the samples into the hub with auditduck replay', async () => {
    await exec(process.execPath, [...CLI, 'replay', ...sampleFiles], { env });
    assert.equal(broker.events('0').length + broker.events('1').length, sampleBodies.length);
  });

  it('stores every record once, across a broker connection drop, a stop and a restart', async () => {
    const first = startRun();
    const health = await waitFor('all replayed records', async () => {
      const h = await stored();
      return h.records === expected ? h : undefined;
    });
    assert.equal(health.source, 'eventhubs');

    // The broker cuts every connection; what arrives after must still come through, once.
    broker.dropConnections();
    broker.publish('0', [Buffer.from(sampleBodies[0]!)]);
    const one = (JSON.parse(sampleBodies[0]!) as { records: unknown[] }).records.length;
    await waitFor('the event sent after the drop', async () => ((await stored()).records === expected + one ? true : undefined));
    assert.equal(await stop(first), 0);

    // Stopped: more arrives. The restarted job resumes after what it committed.
    broker.publish('1', [Buffer.from(sampleBodies[1]!)]);
    const two = (JSON.parse(sampleBodies[1]!) as { records: unknown[] }).records.length;
    const second = startRun();
    await waitFor('the event sent while stopped', async () => ((await stored()).records === two ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await stop(second), 0);

    const [row] = await queryStore(db, `SELECT count(*) AS n, count(DISTINCT (source, position)) AS distinct_positions FROM log_records`);
    assert.equal(row!.n, expected + one + two);
    assert.equal(row!.distinct_positions, expected + one + two);
    const positions = await queryStore(db, `SELECT source_key, position FROM source_positions WHERE source_key LIKE 'eventhubs:%' ORDER BY source_key`);
    assert.equal(positions.length, 2);
  });

  it('raises from the hub the alerts that ingesting the same samples from files raises', async () => {
    // The samples were captured over loopback, as Azure's PgBouncer connects: run with a hub must not hide them.
    // The hub's store holds the samples and, again, the two bodies published after the drop and while stopped: the
    // files hold the same records. (Without those copies the files hold 15 of dba_alice's changes, the hub 23:
    // a privilege-burst of 20 is in the one and not the other, whatever the order the hub was read in.)
    const fileDb = join(dir, 'files.duckdb');
    const again = [join(dir, 'published-after-the-drop.json'), join(dir, 'published-while-stopped.json')];
    await writeFile(again[0]!, `${sampleBodies[0]!}\n`);
    await writeFile(again[1]!, `${sampleBodies[1]!}\n`);
    await exec(process.execPath, [...CLI, 'ingest', '--db', fileDb, ...sampleFiles, ...again]);
    const rules = async (store: string) => (await queryStore(store, `SELECT DISTINCT rule_id FROM alerts ORDER BY rule_id`)).map((r) => r.rule_id);
    const fromHub = await rules(db);
    assert.ok(fromHub.length > 0, 'run on the hub raised no alert for the samples');
    assert.deepEqual(fromHub, await rules(fileDb));
  });
});
