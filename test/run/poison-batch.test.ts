/**
 * A batch that fails for a reason in its data (here a detection rule that throws on one record, as a rule
 * with a bug would) is retried with backoff, shows on /readyz and /metrics while it fails, then goes to
 * dead_letters with its reason and a `pipeline.poison-batch` alert; its partition moves on and the other
 * partition keeps flowing all along. The alert's webhook is down: that shows on /readyz and /metrics too.
 * Real parts: the Event Hubs SDK against the test broker, a DuckDB store, the pipeline, the HTTP server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import pino from 'pino';
import { alertingConfigSchema, createSinks, startAlertDelivery, type AlertDelivery } from '../../src/alert/index.js';
import { driveRunBatches } from '../../src/run/run-batches.js';
import { assessReadiness, HealthBook } from '../../src/web/health-book.js';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import type { InTransactionWriter } from '../../src/detect/written-batch.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runQuery } from '../../src/query/run-query.js';
import { openEventHubsBatches, type EventHubsBatches } from '../../src/sources/eventhubs/index.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { PipelineMetrics } from '../../src/web/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/web/ops-server.js';
import { startEventHubsBroker, type EventHubsBroker } from '../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../support/local-ports.js';

const HUB = 'poison';
const ATTEMPTS = 4;

/** One Azure diagnostic-settings body holding one PostgreSQL log line. */
function body(message: string): unknown {
  return {
    records: [
      {
        time: '2026-11-27T02:20:30.729Z',
        category: 'PostgreSQLLogs',
        LogicalServerName: 'demo-flex',
        properties: { errorLevel: 'LOG', processId: 17300, message: `2026-11-27 02:20:30 UTC-6b08e8ee.4394-LOG:  ${message}` },
      },
    ],
  };
}

/** A rule with a bug: it throws on one input, on every attempt. */
const throwsOnPoison: InTransactionWriter = {
  async inTransaction(_connection, batch) {
    if (batch.entries.some((entry) => entry.record.message.includes('POISON'))) throw new TypeError("Cannot read properties of undefined (reading 'role')");
  },
};

describe('a poison batch in run', () => {
  let broker: EventHubsBroker;
  let dir: string;
  let store: AuditStore;
  let reader: DuckDBConnection;
  let source: EventHubsBatches;
  let delivery: AlertDelivery;
  let ops: OpsServer;
  const stopping = new AbortController();
  let driving: Promise<void> | undefined;

  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${ops.port}/readyz`);
    return { status: res.status, body: (await res.json()) as { ready: boolean; reasons: string[]; partitions: { partition: string; state: string; consecutiveFailures: number }[] } };
  };
  const metricsText = async () => (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
  const rowsOf = async (sql: string) => (await runQuery(reader, sql)).rows;
  const storedFrom = async (partition: string) => Number((await rowsOf(`SELECT count(*) AS n FROM log_records WHERE source = 'eventhubs:${HUB}/${partition}'`))[0]!.n);

  before(async () => {
    broker = await startEventHubsBroker({ hubName: HUB, partitionCount: 2 });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-poison-'));
    store = await AuditStore.open(join(dir, 'store.duckdb'));
    reader = await store.db.instance.connect();
    const log = pino({ level: 'silent' });
    const pipeline = await IngestPipeline.create(store, { observers: [throwsOnPoison] });
    const health = new HealthBook();
    const metrics = new PipelineMetrics();
    const closedPort = await freePort();
    delivery = startAlertDelivery({
      connection: await store.db.instance.connect(),
      sinks: createSinks(alertingConfigSchema.parse({ log: { enabled: false }, webhook: { url: `http://127.0.0.1:${closedPort}/hook`, timeoutMs: 500 } }), log),
      log,
      pollMs: 100,
      initialBackoffMs: 100,
      maxBackoffMs: 200,
    });
    const readiness = () => assessReadiness(health.view(), delivery.health(), [], { partitionFailingMs: 300, sinkFailingMs: 0 });
    metrics.observeReadiness(readiness);
    ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, health: () => ({}), readiness });
    const hub = await openEventHubsBatches([{
      config: { connectionString: broker.connectionString, maxBatchSize: 1, maxWaitTimeInSeconds: 0.2, retry: { retryDelayInMs: 50, maxRetryDelayInMs: 200, maxRetries: 30, timeoutInMs: 5_000 } },
      readPosition: (key) => store.readPosition(key),
      metrics,
      log,
    }]);
    source = hub;
    driving = driveRunBatches(hub.batches, {
      pipeline,
      prefix: compilePrefix(AZURE_LOG_LINE_PREFIX),
      policy: { maxAttempts: ATTEMPTS, initialBackoffMs: 400, maxBackoffMs: 1_600 },
      signal: stopping.signal,
      health,
      metrics,
      log,
      afterCommit: [() => delivery.wake()],
    });
  });
  after(async () => {
    stopping.abort();
    await source?.close();
    await driving?.catch(() => undefined);
    await delivery?.stop();
    await ops?.close();
    reader?.closeSync();
    await store?.close();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries it with backoff, shows it on /readyz and /metrics, then dead-letters it while the other partition flows', async () => {
    broker.publish('0', [body('connection received: host=10.0.0.5 port=5432'), body('POISON statement'), body('connection received: host=10.0.0.6 port=5432')]);
    broker.publish('1', [body('connection received: host=10.0.0.7 port=5432')]);

    const failing = await waitFor('/readyz to name the failing partition', async () => {
      const r = await readyz();
      return r.status === 503 && r.body.reasons.some((reason) => reason.startsWith(`partition eventhubs:${HUB}/0 has failed`)) ? r : undefined;
    }, 15_000);
    assert.equal(failing.body.ready, false);
    const p0 = failing.body.partitions.find((p) => p.partition === `eventhubs:${HUB}/0`)!;
    assert.equal(p0.state, 'retrying');
    assert.ok(p0.consecutiveFailures >= 1);
    assert.match(await metricsText(), new RegExp(`auditduck_batch_failures_total\\{source="eventhubs:${HUB}/0",cause="data"\\} [1-9]`));

    // While partition 0 is stuck on its poison batch, partition 1 still stores what arrives.
    broker.publish('1', [body('connection received: host=10.0.0.8 port=5432')]);
    await waitFor('partition 1 to keep flowing', async () => ((await storedFrom('1')) === 2 ? true : undefined), 15_000);
    assert.equal(Number((await rowsOf(`SELECT count(*) AS n FROM dead_letters`))[0]!.n), 0, 'partition 1 flowed before the poison batch was set aside');

    // After ATTEMPTS failures: dead letter, alert, and the partition moves on to the event after it.
    await waitFor('the event after the poison batch', async () => ((await storedFrom('0')) === 2 ? true : undefined), 20_000);
    const dead = await rowsOf(`SELECT source, position, reason, raw FROM dead_letters`);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.source, `eventhubs:${HUB}/0`);
    assert.equal(dead[0]!.position, '1');
    assert.match(String(dead[0]!.reason), new RegExp(`^poison batch: failed ${ATTEMPTS} times: .*reading 'role'`));
    assert.match(String(dead[0]!.raw), /POISON statement/);
    const alerts = await rowsOf(`SELECT rule_id, severity, server FROM alerts`);
    assert.deepEqual(alerts.map((a) => [a.rule_id, a.severity, a.server]), [['pipeline.poison-batch', 'high', `eventhubs:${HUB}/0`]]);
    const positions = await rowsOf(`SELECT position FROM source_positions WHERE source_key LIKE '%/0'`);
    assert.equal(positions[0]!.position, '2');

    const text = await metricsText();
    assert.match(text, new RegExp(`auditduck_poison_batches_total\\{source="eventhubs:${HUB}/0"\\} 1`));
    assert.match(text, /auditduck_dead_letters_by_reason_total\{reason="poison batch"\} 1/);
    assert.match(text, new RegExp(`auditduck_partition_consecutive_failures\\{partition="eventhubs:${HUB}/0"\\} 0`));
    assert.match(text, /auditduck_owned_partitions 2/);
  });

  it('fails /readyz and shows in /metrics while the alert webhook cannot be reached', async () => {
    const r = await waitFor('/readyz to name the failing sink', async () => {
      const now = await readyz();
      return now.status === 503 && now.body.reasons.some((reason) => reason.startsWith('alert sink webhook has failed')) ? now : undefined;
    }, 15_000);
    assert.ok(!r.body.reasons.some((reason) => reason.startsWith('partition ')), 'the partition recovered');
    assert.match(await metricsText(), /auditduck_alert_sink_consecutive_failures\{sink="webhook"\} [1-9]/);
    assert.match(await metricsText(), /auditduck_ready 0/);
  });
});
