/**
 * `auditduck run`: consume the stream (Event Hubs, or the demo stream from samples/), store, detect,
 * and serve /metrics, /healthz, /readyz and the read-only query API, until stopped. A batch that cannot be
 * stored is retried (pipeline/batch-retry.ts); one failing for its data goes to dead_letters. Stopping
 * finishes the batch in flight, commits it, releases the partitions and closes the store, within
 * `operations.shutdownTimeoutMs`. A start that fails undoes what it started and throws.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/run-config.js';
import { createSinks, startAlertDelivery } from '../alert/index.js';
import { acknowledgeAlerts } from '../detect/acknowledge-alerts.js';
import { createDetector } from '../detect/index.js';
import { compilePrefix } from '../decode/prefix/compile-prefix.js';
import { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { raisePipelineAlert } from '../pipeline/pipeline-alerts.js';
import { confineDatabase } from '../query/confine-database.js';
import { queryLimitsFromEnv, type QueryLimits } from '../query/query-limits.js';
import { ReadOnlySession } from '../query/read-only-session.js';
import { startSnapshotSchedule, type SnapshotSchedule } from '../snapshot/snapshot-schedule.js';
import type { EventsLost } from '../sources/eventhubs/index.js';
import { AuditStore } from '../store/audit-store.js';
import { createDashboardRoutes, resolveUiToken } from '../web/dashboards/index.js';
import { PipelineMetrics } from '../web/metrics.js';
import { startOpsServer, type OpsServer } from '../web/ops-server.js';
import { fleetWithOwnStore } from '../query/fleet-query.js';
import { fixedFleetTokens, watchFleetTokenFile, type FleetTokens } from '../query/fleet-tokens.js';
import { newApiToken, removeDiscoveryFile, startQueryApi, writeDiscoveryFile } from '../web/query-api.js';
import { driveRunBatches } from './run-batches.js';
import { RUN_SOURCES, selectRunSource, type RunSource } from './source-registry.js';
import { assessReadiness, HealthBook, publicLakeStatus, withLakeHealth } from '../web/health-book.js';
import { readHotHorizons, stagingDirOf, type LakeExporter } from '../lake/index.js';
import { openLakeReadThrough } from './lake-read-through.js';
import { startLakeExport } from './start-lake-export.js';

/** Rules over the rebuilt roles (passwords not rotated, dormant roles) need no new rows to be due. */
const SCHEDULED_RULES_EVERY_MS = 60 * 60_000;

export interface MainJob {
  /** The HTTP port of /metrics, /healthz and /readyz (null when off). */
  httpPort: number | null;
  queryApiPort: number;
  /** Resolves when a demo stream has delivered all its samples (never for Event Hubs). */
  caughtUp: Promise<void>;
  /** Resolves true when everything closed in time; false when the time ran out first (the caller exits anyway). */
  stop(): Promise<boolean>;
}

/** How often `run` logs its throughput and each partition's lag. */
const PROGRESS_EVERY_MS = 60_000;

/** Kept for the last steps of stopping (closing the store) out of the shutdown time. */
const CLOSE_RESERVE_MS = 1_000;

export async function startMainJob(config: RunConfig, log: Logger): Promise<MainJob> {
  // Read before anything opens: a bad AUDITDUCK_QUERY_TIMEOUT or _MAX_ROWS stops the start with nothing to undo.
  const queryLimits = queryLimitsFromEnv();
  // What has been started, undone in reverse order when a later step of the start fails.
  const undo: (() => Promise<unknown> | void)[] = [];
  try {
    return await start(config, log, undo, queryLimits);
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (cleanupError) {
        log.warn({ err: cleanupError }, 'cleaning up after a failed start');
      }
    }
    throw error;
  }
}

async function start(config: RunConfig, log: Logger, undo: (() => Promise<unknown> | void)[], queryLimits: QueryLimits): Promise<MainJob> {
  const store = await AuditStore.open(config.db);
  undo.push(() => store.close());
  const sourceKind = selectRunSource(config);
  const detector = createDetector(config.detection, { handsOver: RUN_SOURCES[sourceKind].handsOver });
  const pipeline = await IngestPipeline.create(store, { observers: [detector] });
  undo.push(() => pipeline.drain());
  const prefix = compilePrefix(config.logLinePrefix);
  const metrics = new PipelineMetrics();
  const health = new HealthBook();
  const ops = config.operations;
  /** Aborted on stop: a batch waiting to be retried gives up (it is read again after the restart). */
  const stopping = new AbortController();

  // Alerts committed with a batch are delivered from the outbox by a loop with a connection of its own.
  const delivery = startAlertDelivery({
    connection: await store.db.instance.connect(),
    sinks: createSinks(config.alerting, log),
    log,
    pollMs: config.alerting.pollMs,
    initialBackoffMs: config.alerting.initialBackoffMs,
    maxBackoffMs: config.alerting.maxBackoffMs,
  });
  undo.push(() => delivery.stop());
  const scheduledRules = setInterval(() => {
    pipeline.exclusive((connection) => detector.runScheduledRules(connection)).then(
      (ids) => ids.length > 0 && delivery.wake(),
      (error: unknown) => log.error({ err: error }, 'scheduled rules failed'),
    );
  }, SCHEDULED_RULES_EVERY_MS);
  undo.push(() => clearInterval(scheduledRules));

  // The lake hears of every commit: it counts its lag from the first commit it has not exported.
  let lake: LakeExporter | null = null;

  const onEventsLost = async (lost: EventsLost): Promise<void> => {
    metrics.retentionGaps.inc({ partition: lost.source });
    metrics.eventsLost.inc({ partition: lost.source }, lost.count);
    log.error(lost, 'events expired from the hub before they were read: the audit trail has a hole');
    await pipeline.exclusive((connection) =>
      raisePipelineAlert(connection, {
        ruleId: 'pipeline.events-lost',
        source: lost.source,
        summary: `${lost.count} events of ${lost.source} expired before they were read (sequence numbers ${lost.afterSequenceNumber + 1}..${lost.resumedAt - 1}); the consumer was down longer than the hub's retention`,
        evidence: { ...lost },
        dedupKey: `${lost.source}@${lost.resumedAt}`,
      }),
    );
    delivery.wake();
  };

  // The query API gets a connection of its own: statements on one connection share its transaction.
  // From here on the instance reads and writes no file but the store and the API's export folder.
  const exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-files-'));
  undo.push(() => rm(exportDir, { recursive: true, force: true }));
  // The lake's segments are written by DuckDB into a staging folder beside the store, then uploaded.
  const lakeStaging = config.lake ? stagingDirOf(config.db) : null;
  if (lakeStaging) await mkdir(lakeStaging, { recursive: true });
  // The query API and the dashboards read the rows hot retention dropped from the lake, as `query` does.
  const readThrough = config.lake ? await openLakeReadThrough(config.lake, config.db, () => pipeline.exclusive(readHotHorizons), log) : null;
  await confineDatabase(store.db.connection, { writableDirs: [exportDir, ...(lakeStaging ? [lakeStaging] : []), ...(readThrough ? [readThrough.dir] : [])] });
  const queryConnection = await store.db.instance.connect();
  undo.push(() => closeConnection(queryConnection));
  const queryReads = new ReadOnlySession(queryConnection, queryLimits);
  readThrough?.attach(queryReads);
  if (config.lake) {
    const exporter = await startLakeExport({ ...config, lake: config.lake }, (work) => pipeline.exclusive(work), () => store.db.instance.connect(), metrics, log, readThrough?.beforeDrop);
    lake = exporter;
    undo.push(() => exporter.cancel());
  }
  const token = newApiToken();
  // A token file is read again when it changes: a rotation needs no restart (docs/fleet.md).
  const { tokenFile } = config.queryApi;
  const fleetTokens: FleetTokens | null = tokenFile ? watchFleetTokenFile(tokenFile, { log }) : config.queryApi.token ? fixedFleetTokens(config.queryApi.token) : null;
  if (fleetTokens) undo.push(() => fleetTokens.close());
  const queryApi = await startQueryApi({
    connection: queryConnection,
    session: queryReads,
    exportDir,
    limits: queryLimits,
    port: 0,
    token,
    // Peers on other machines query here with the fleet's token (loadRunConfig refused a host without one).
    ...(config.queryApi.host !== undefined ? { fleet: { host: config.queryApi.host, port: config.queryApi.port, tokens: () => fleetTokens!.accepted(), trustedProxies: config.queryApi.trustedProxies } } : {}),
    log,
    onRefused: (listener, reason) => metrics.queryApiRefused.inc({ listener, reason }),
    // `auditduck alerts ack` cannot open the store this process holds: it asks here, and waits its turn on the writer.
    acknowledgeAlerts: async (ids, by, comment, classification = null) => {
      const acknowledged = await pipeline.exclusive((writer) => acknowledgeAlerts(writer, ids, by, comment, classification));
      log.info({ ids: acknowledged, by }, 'alerts acknowledged with auditduck alerts ack');
      return acknowledged;
    },
  });
  undo.push(() => queryApi.close());
  writeDiscoveryFile(config.db, { port: queryApi.port, token });
  // The file holds the API's token: an exit that skips the stop (its deadline passed) must not leave it behind.
  const dropDiscoveryFileOnExit = () => removeDiscoveryFile(config.db);
  process.once('exit', dropDiscoveryFileOnExit);
  const dropDiscoveryFile = () => {
    process.off('exit', dropDiscoveryFileOnExit);
    removeDiscoveryFile(config.db);
  };
  undo.push(dropDiscoveryFile);
  if (queryApi.fleetPort !== null) log.info({ host: config.queryApi.host, port: queryApi.fleetPort }, "the query API answers the fleet's peers (POST /api/query with the fleet's token)");

  const source: RunSource = await RUN_SOURCES[sourceKind].open({ config, readPosition: (key) => pipeline.readPosition(key), sessions: pipeline.sessionHandover, metrics, health, log, onEventsLost });
  undo.push(() => {
    stopping.abort();
    return source.close();
  });
  // The one driver pulls the source's batches until it is closed. After each commit: health, metrics, then
  // these hooks (alerts may be waiting in the outbox; an exporter of committed rows subscribes here too).
  const driving = driveRunBatches(source.batches, {
    pipeline, prefix, policy: ops.retry, signal: stopping.signal, health, metrics, log,
    afterCommit: [() => delivery.wake(), () => lake?.committed()],
  });
  driving.catch((error: unknown) => log.error({ err: error }, 'the pipeline stopped reading the source'));

  const snapshots: SnapshotSchedule | null =
    config.snapshots.servers.length > 0
      ? startSnapshotSchedule({
          store,
          bases: pipeline.replayBases,
          servers: config.snapshots.servers,
          intervalMs: config.snapshots.interval,
          passwordMaxAgeDays: config.snapshots.passwordMaxAgeDays,
          log,
        })
      : null;
  if (snapshots) undo.push(() => snapshots.stop());

  const readiness = () => {
    const verdict = assessReadiness(
      health.view(),
      delivery.health(),
      (snapshots?.status() ?? []).map((s) => ({ server: s.server, consecutiveFailures: s.consecutiveFailures, lastError: s.lastError })),
      ops.readiness,
    );
    return lake ? withLakeHealth(verdict, lake.status(), ops.readiness.lakeFailingMs) : verdict;
  };
  metrics.observeReadiness(readiness);

  let opsServer: OpsServer | null = null;
  // The dashboards read on a connection of their own (the query API queues its requests on queryConnection);
  // acknowledging an alert is a write, so it waits its turn on the writer between batch commits.
  const dashboardConnection = config.http.port !== 0 ? await store.db.instance.connect() : null;
  const dashboardReads = dashboardConnection ? new ReadOnlySession(dashboardConnection, queryLimits) : null;
  if (dashboardReads) readThrough?.attach(dashboardReads);
  if (dashboardConnection && dashboardReads) {
    undo.push(() => closeConnection(dashboardConnection));
    const ui = resolveUiToken(config.http.host);
    opsServer = await startOpsServer({
      host: config.http.host,
      port: config.http.port,
      registry: metrics.registry,
      health: () => ({
        source: sourceKind,
        ...metrics.totals,
        partitions: health.view().partitions,
        ...(source.hubs ? { hubs: source.hubs() } : {}),
        ...(lake ? { lake: publicLakeStatus(lake.status()) } : {}),
      }),
      readiness,
      onHostOrOriginRefused: () => metrics.uiRefused.inc({ reason: 'host-or-origin' }),
      routes: createDashboardRoutes({
        connection: dashboardConnection,
        session: dashboardReads,
        ...(config.fleetPeers.length > 0 ? { fleet: fleetWithOwnStore(config.db, config.fleetPeers, (sql, params) => dashboardReads.run(sql, params), () => fleetTokens?.current()) } : {}),
        log,
        ...(ui.token ? { token: ui.token } : {}),
        onTokenRefused: (reason) => metrics.uiRefused.inc({ reason }),
        trustedProxies: config.http.trustedProxies,
        acknowledgeAlert: async (ids, by, note) => ({
          acknowledged: await pipeline.exclusive((writer) => acknowledgeAlerts(writer, ids, by, note.comment, note.classification)),
        }),
      }),
    });
    undo.push(() => opsServer!.close());
    log.info({ url: `http://${config.http.host}:${opsServer.port}` }, 'serving the dashboards, /metrics, /healthz and /readyz');
    // On stderr, not in the log: the log may be shipped elsewhere, and the token is a key.
    if (ui.generated) process.stderr.write(`auditduck: the dashboards need a token off loopback: http://${config.http.host}:${opsServer.port}/?token=${ui.token} (set AUDITDUCK_UI_TOKEN to choose one)\n`);
  }

  let lastRecords = 0;
  const progress = setInterval(() => {
    const records = metrics.totals.records;
    log.info(
      {
        recordsPerSecond: Math.round(((records - lastRecords) * 1000) / PROGRESS_EVERY_MS),
        ...metrics.totals,
        partitions: source.partitions?.().map((p) => ({ partition: p.source ?? p.partitionId, events: p.events, lag: p.lag, lastSequenceNumber: p.lastSequenceNumber })),
      },
      'progress',
    );
    lastRecords = records;
  }, PROGRESS_EVERY_MS);
  progress.unref();

  let stopped: Promise<boolean> | null = null;
  return {
    httpPort: opsServer?.port ?? null,
    queryApiPort: queryApi.port,
    caughtUp: source.done,
    stop() {
      stopped ??= (async () => {
        const deadline = Date.now() + Math.max(0, ops.shutdownTimeoutMs - CLOSE_RESERVE_MS);
        const inTime = (work: Promise<unknown>, what: string) => settleBy(work, deadline, () => log.warn(`stopping: ${what} did not finish in time`));
        stopping.abort();
        clearInterval(scheduledRules);
        clearInterval(progress);
        // A read can run for minutes: cancel it rather than wait (the query API answers it with an error).
        queryConnection.interrupt();
        dashboardConnection?.interrupt();
        let clean = await inTime(source.close(), 'releasing the source');
        clean = (await inTime(driving.catch(() => undefined), 'the batches in flight')) && clean;
        clean = (await inTime(delivery.stop(), 'the alert delivery in flight')) && clean;
        if (snapshots) clean = (await inTime(snapshots.stop(), 'the snapshot in flight')) && clean;
        if (opsServer) clean = (await inTime(opsServer.close(), 'closing the HTTP server')) && clean;
        clean = (await inTime(queryApi.close(), 'the query in flight')) && clean;
        fleetTokens?.close();
        // No batch commits any more: what was committed goes to the lake now, or waits staged for the next start.
        if (lake) clean = (await inTime(lake.stop(), 'the last lake export')) && clean;
        dropDiscoveryFile();
        // DuckDB blocks for good when a connection closes under a running statement: close only when all finished.
        clean = (await inTime(pipeline.drain(), 'the commit in flight')) && clean;
        if (dashboardReads) clean = (await inTime(dashboardReads.close(), 'the dashboard read in flight')) && clean;
        if (!clean) {
          log.error('stopping took longer than operations.shutdownTimeoutMs: exiting without closing the store (committed batches are safe; the batch in flight is read again)');
          return false;
        }
        closeConnection(queryConnection);
        if (dashboardConnection) closeConnection(dashboardConnection);
        await store.close();
        await rm(exportDir, { recursive: true, force: true });
        log.info('stopped');
        return true;
      })();
      return stopped;
    },
  };
}

function closeConnection(connection: DuckDBConnection): void {
  connection.interrupt();
  connection.closeSync();
}

/** Waits for `work` (its failure too) until `deadline`; true when it finished in time. */
async function settleBy(work: Promise<unknown>, deadline: number, onLate: () => void): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const finished = await Promise.race([work.then(() => true as const, () => true as const), late]);
  clearTimeout(timer);
  if (!finished) onLate();
  return finished;
}
