/**
 * `auditduck run`: consume the stream (Event Hubs, or the demo stream from samples/), store, detect,
 * and serve /metrics, /healthz and the read-only query API, until stopped. Stopping finishes the batch
 * in flight, commits it, releases the partitions and closes the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/run-config.js';
import { createSinks, startAlertDelivery } from '../alert/index.js';
import { acknowledgeAlerts } from '../detect/acknowledge-alerts.js';
import { createDetector } from '../detect/index.js';
import { compilePrefix } from '../parse/prefix/compile-prefix.js';
import { ingestHubBatch } from '../pipeline/ingest-hub-batch.js';
import { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { startDemoSource } from '../sources/demo/demo-hub.js';
import { confineDatabase } from '../query/confine-database.js';
import { queryLimitsFromEnv } from '../query/query-limits.js';
import { ReadOnlySession } from '../query/read-only-session.js';
import { startSnapshotSchedule } from '../snapshot/snapshot-schedule.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { PartitionMetrics } from '../sources/eventhubs/index.js';
import { AuditStore } from '../store/audit-store.js';
import { createDashboardRoutes, resolveUiToken } from '../web/dashboards/index.js';
import { PipelineMetrics } from '../web/metrics.js';
import { startOpsServer, type OpsServer } from '../web/ops-server.js';
import { newApiToken, removeDiscoveryFile, startQueryApi, writeDiscoveryFile } from '../web/query-api.js';

/** Rules over the rebuilt roles (passwords not rotated, dormant roles) need no new rows to be due. */
const SCHEDULED_RULES_EVERY_MS = 60 * 60_000;

export interface MainJob {
  /** The HTTP port of /metrics and /healthz (null when off). */
  httpPort: number | null;
  queryApiPort: number;
  /** Resolves when a demo stream has delivered all its samples (never for Event Hubs). */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

interface Source {
  done: Promise<void>;
  close(): Promise<void>;
  /** Per-partition progress, for the periodic progress line (Event Hubs only). */
  partitions?(): PartitionMetrics[];
}

/** How often `run` logs its throughput and each partition's lag. */
const PROGRESS_EVERY_MS = 60_000;

export async function startMainJob(config: RunConfig, log: Logger): Promise<MainJob> {
  // Read before anything opens: a bad AUDITDUCK_QUERY_TIMEOUT or _MAX_ROWS stops the start with nothing to undo.
  const queryLimits = queryLimitsFromEnv();
  const store = await AuditStore.open(config.db);
  // The bundled samples were captured over loopback, which the default exclusions drop as Azure's own traffic.
  const detection = config.eventHubs ? config.detection : { ...config.detection, exclude: { ...config.detection.exclude, clientAddrs: [] } };
  const detector = createDetector(detection);
  const pipeline = await IngestPipeline.create(store, { observers: [detector] });
  const prefix = compilePrefix(config.logLinePrefix);
  const metrics = new PipelineMetrics();

  // Alerts committed with a batch are delivered from the outbox by a loop with a connection of its own.
  const delivery = startAlertDelivery({
    connection: await store.db.instance.connect(),
    sinks: createSinks(config.alerting, log),
    log,
    pollMs: config.alerting.pollMs,
    initialBackoffMs: config.alerting.initialBackoffMs,
    maxBackoffMs: config.alerting.maxBackoffMs,
  });
  const scheduledRules = setInterval(() => {
    pipeline.exclusive((connection) => detector.runScheduledRules(connection)).then(
      (ids) => ids.length > 0 && delivery.wake(),
      (error: unknown) => log.error({ err: error }, 'scheduled rules failed'),
    );
  }, SCHEDULED_RULES_EVERY_MS);

  const onBatch = async (batch: SourceBatch<HubEvent>): Promise<void> => {
    const started = performance.now();
    try {
      const summary = await ingestHubBatch(pipeline, prefix, batch);
      delivery.wake();
      metrics.recordBatch(batch.source, summary, (performance.now() - started) / 1000);
      metrics.lastSequence.set({ partition: batch.source }, Number(batch.position));
      log.debug({ source: batch.source, position: batch.position, records: summary.records }, 'batch committed');
      if (summary.deadLetters > 0) log.warn({ source: batch.source, deadLetters: summary.deadLetters }, 'input that could not be read went to dead_letters');
    } catch (error) {
      metrics.failures.inc({ source: batch.source });
      throw error;
    }
  };

  // The query API gets a connection of its own: statements on one connection share its transaction.
  // From here on the instance reads and writes no file but the store and the API's export folder.
  const exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-files-'));
  await confineDatabase(store.db.connection, { writableDirs: [exportDir] });
  const queryConnection = await store.db.instance.connect();
  const token = newApiToken();
  const queryApi = await startQueryApi({ connection: queryConnection, exportDir, limits: queryLimits, port: 0, token });
  writeDiscoveryFile(config.db, { port: queryApi.port, token });

  let source: Source;
  let sourceKind: 'eventhubs' | 'demo';
  if (config.eventHubs) {
    sourceKind = 'eventhubs';
    source = await startEventHubs(config, store, onBatch, metrics, log);
  } else {
    sourceKind = 'demo';
    log.warn(
      'no Event Hub configured: running the DEMO stream from samples/ (a real PostgreSQL + pgaudit capture). ' +
        'To read your servers, set AUDITDUCK_EVENTHUB_CONNECTION_STRING (or AUDITDUCK_EVENTHUB_NAMESPACE) and AUDITDUCK_EVENTHUB_NAME; see docs/eventhubs.md',
    );
    source = await startDemoSource({ readPosition: (key) => store.readPosition(key), onBatch });
    source.done.then(
      () => log.info({ records: metrics.totals.records }, 'demo stream delivered all samples; still serving (Ctrl-C to stop)'),
      (error: unknown) => log.error({ err: error }, 'the demo stream failed'),
    );
  }

  let ops: OpsServer | null = null;
  // The dashboards read on a connection of their own (the query API queues its requests on queryConnection);
  // acknowledging an alert is a write, so it waits its turn on the writer between batch commits.
  const dashboardConnection = config.http.port !== 0 ? await store.db.instance.connect() : null;
  const dashboardReads = dashboardConnection ? new ReadOnlySession(dashboardConnection, queryLimits) : null;
  if (dashboardConnection && dashboardReads) {
    const ui = resolveUiToken(config.http.host);
    ops = await startOpsServer({
      host: config.http.host,
      port: config.http.port,
      registry: metrics.registry,
      health: () => ({ source: sourceKind, ...metrics.totals }),
      routes: createDashboardRoutes({
        connection: dashboardConnection,
        session: dashboardReads,
        log,
        ...(ui.token ? { token: ui.token } : {}),
        acknowledgeAlert: async (ids, by) => ({ acknowledged: await pipeline.exclusive((writer) => acknowledgeAlerts(writer, ids, by)) }),
      }),
    });
    log.info({ url: `http://${config.http.host}:${ops.port}` }, 'serving the dashboards, /metrics and /healthz');
    // On stderr, not in the log: the log may be shipped elsewhere, and the token is a key.
    if (ui.generated) process.stderr.write(`auditduck: the dashboards need a token off loopback: http://${config.http.host}:${ops.port}/?token=${ui.token} (set AUDITDUCK_UI_TOKEN to choose one)\n`);
  }

  const snapshots =
    config.snapshots.servers.length > 0
      ? startSnapshotSchedule({
          store,
          servers: config.snapshots.servers,
          intervalMs: config.snapshots.interval,
          passwordMaxAgeDays: config.snapshots.passwordMaxAgeDays,
          log,
        })
      : null;

  let lastRecords = 0;
  const progress = setInterval(() => {
    const records = metrics.totals.records;
    log.info(
      {
        recordsPerSecond: Math.round(((records - lastRecords) * 1000) / PROGRESS_EVERY_MS),
        ...metrics.totals,
        partitions: source.partitions?.().map((p) => ({ partition: p.partitionId, events: p.events, lag: p.lag, lastSequenceNumber: p.lastSequenceNumber })),
      },
      'progress',
    );
    lastRecords = records;
  }, PROGRESS_EVERY_MS);
  progress.unref();

  let stopping: Promise<void> | null = null;
  return {
    httpPort: ops?.port ?? null,
    queryApiPort: queryApi.port,
    caughtUp: source.done,
    stop() {
      stopping ??= (async () => {
        await source.close();
        clearInterval(scheduledRules);
        clearInterval(progress);
        await delivery.stop();
        await snapshots?.stop();
        await ops?.close();
        await dashboardReads?.close();
        await queryApi.close();
        removeDiscoveryFile(config.db);
        // DuckDB blocks for good when a connection closes under a running statement: let every one finish.
        await pipeline.drain();
        queryConnection.closeSync();
        dashboardConnection?.closeSync();
        await store.close();
        await rm(exportDir, { recursive: true, force: true });
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

async function startEventHubs(
  config: RunConfig,
  store: AuditStore,
  onBatch: (batch: SourceBatch<HubEvent>) => Promise<void>,
  metrics: PipelineMetrics,
  log: Logger,
): Promise<Source> {
  const { startEventHubsSource } = await import('../sources/eventhubs/index.js');
  const subscription = await startEventHubsSource({
    config: config.eventHubs!,
    readPosition: (key) => store.readPosition(key),
    onBatch,
    log,
    metrics,
  });
  return { done: new Promise<void>(() => undefined), close: () => subscription.close(), partitions: () => subscription.metrics() };
}
