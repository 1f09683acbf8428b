import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Readiness } from './health-book.js';
import type { CommitFailureCause } from '../pipeline/batch-retry.js';
import type { CommittedBatchCounts } from '../pipeline/ingest-pipeline.js';
import type { LakeStatus } from '../lake/index.js';

/**
 * The Prometheus metrics of the main job, served on /metrics. Per-partition series are removed when this
 * instance stops reading the partition (`forgetPartition`), so a partition that moved to another instance
 * does not keep reporting its last lag here.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly records = new Counter({ name: 'auditduck_records_total', help: 'log records stored', labelNames: ['source'], registers: [this.registry] });
  private readonly auditEvents = new Counter({ name: 'auditduck_audit_events_total', help: 'pgaudit entries stored', labelNames: ['source'], registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'auditduck_dead_letters_total', help: 'inputs that could not be read', labelNames: ['source'], registers: [this.registry] });
  private readonly deadLettersByReason = new Counter({
    name: 'auditduck_dead_letters_by_reason_total',
    help: 'dead letters by the kind of their reason (the text before its first colon)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly skipped = new Counter({ name: 'auditduck_skipped_records_total', help: 'records of categories not handled', labelNames: ['source'], registers: [this.registry] });
  private readonly privilegeChanges = new Counter({ name: 'auditduck_privilege_changes_total', help: 'privilege changes found', labelNames: ['source'], registers: [this.registry] });
  private readonly batchSeconds = new Histogram({
    name: 'auditduck_batch_seconds',
    help: 'time to decode, parse, analyse and commit one batch',
    labelNames: ['source'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly partitionLag = new Gauge({ name: 'auditduck_partition_lag_events', help: 'events enqueued but not yet stored, per partition', labelNames: ['partition'], registers: [this.registry] });
  readonly partitionLagSeconds = new Gauge({
    name: 'auditduck_partition_lag_seconds',
    help: 'age of the oldest event not yet stored (now minus the enqueued time of the last stored event; 0 when caught up), per partition',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  readonly ownedPartitions = new Gauge({ name: 'auditduck_owned_partitions', help: 'partitions this instance reads now', registers: [this.registry] });
  readonly lastSequence = new Gauge({ name: 'auditduck_partition_last_sequence_number', help: 'last stored sequence number, per partition', labelNames: ['partition'], registers: [this.registry] });
  readonly failures = new Counter({
    name: 'auditduck_batch_failures_total',
    help: 'attempts to commit a batch that failed (retried); cause store = disk full or I/O, conflict = another writer, data = the batch itself',
    labelNames: ['source', 'cause'],
    registers: [this.registry],
  });
  readonly poisonBatches = new Counter({ name: 'auditduck_poison_batches_total', help: 'batches set aside to dead_letters after failing every attempt', labelNames: ['source'], registers: [this.registry] });
  readonly retentionGaps = new Counter({ name: 'auditduck_retention_gaps_total', help: 'times events expired from the hub before they were read', labelNames: ['partition'], registers: [this.registry] });
  readonly eventsLost = new Counter({ name: 'auditduck_events_lost_total', help: 'events that expired from the hub before they were read', labelNames: ['partition'], registers: [this.registry] });
  private readonly partitionFailures = new Gauge({
    name: 'auditduck_partition_consecutive_failures',
    help: 'failed commit attempts of the batch a partition is on (0 when its last commit worked)',
    labelNames: ['partition'],
    registers: [this.registry],
    collect: () => this.collectHealth(),
  });
  private readonly storeFailing = new Gauge({ name: 'auditduck_store_commit_failing', help: '1 while the store cannot commit (disk full, I/O error)', registers: [this.registry] });
  private readonly sinkFailures = new Gauge({ name: 'auditduck_alert_sink_consecutive_failures', help: 'failed deliveries in a row, per alert sink', labelNames: ['sink'], registers: [this.registry] });
  private readonly ready = new Gauge({ name: 'auditduck_ready', help: '1 when /readyz answers 200', registers: [this.registry] });
  private readiness: (() => Readiness) | null = null;
  readonly lakeRows = new Counter({ name: 'auditduck_lake_rows_total', help: 'rows published to the lake (events tables and state snapshots)', registers: [this.registry] });
  readonly lakeBytes = new Counter({ name: 'auditduck_lake_bytes_total', help: 'Parquet bytes published to the lake', registers: [this.registry] });
  readonly lakeFailures = new Counter({ name: 'auditduck_lake_export_failures_total', help: 'lake exports that failed (retried at the next interval; ingestion goes on)', registers: [this.registry] });
  readonly queryApiRefused = new Counter({
    name: 'auditduck_query_api_refused_total',
    help: 'query API requests refused for who sent them, per listener (local, fleet) and reason: missing-token, wrong-token, cooling-off (429 after too many from one address), host-or-origin',
    labelNames: ['listener', 'reason'],
    registers: [this.registry],
  });
  readonly uiRefused = uiRefusedCounter(this.registry);
  private lake: (() => LakeStatus) | null = null;
  private readonly lakeLag = new Gauge({
    name: 'auditduck_lake_lag_seconds',
    help: 'age of the oldest committed batch not yet in the lake (0 when the lake has everything)',
    registers: [this.registry],
    collect: () => {
      const status = this.lake?.();
      if (!status) return;
      this.lakeLag.set(status.lagSeconds);
      this.lakePending.set(status.pendingSegments);
    },
  });
  private readonly lakePending = new Gauge({ name: 'auditduck_lake_pending_segments', help: 'segments staged beside the store, waiting to be published to the lake', registers: [this.registry] });

  /** Totals since start, for /healthz. */
  readonly totals = { batches: 0, records: 0, auditEvents: 0, deadLetters: 0, lastBatchAt: null as string | null };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'auditduck_' });
  }

  recordBatch(source: string, summary: CommittedBatchCounts, seconds: number): void {
    this.records.inc({ source }, summary.records);
    this.auditEvents.inc({ source }, summary.auditEvents);
    this.deadLetters.inc({ source }, summary.deadLetters);
    for (const [reason, n] of summary.deadLetterReasons) this.deadLettersByReason.inc({ reason }, n);
    this.skipped.inc({ source }, summary.skipped);
    this.privilegeChanges.inc({ source }, summary.privilegeChanges);
    this.batchSeconds.observe({ source }, seconds);
    this.totals.batches++;
    this.totals.records += summary.records;
    this.totals.auditEvents += summary.auditEvents;
    this.totals.deadLetters += summary.deadLetters;
    this.totals.lastBatchAt = new Date().toISOString();
  }

  recordFailure(source: string, cause: CommitFailureCause): void {
    this.failures.inc({ source, cause });
  }

  /** Health gauges are read from here at each scrape. */
  observeReadiness(readiness: () => Readiness): void {
    this.readiness = readiness;
  }

  /** The lake export's status, read at each scrape. */
  observeLake(status: () => LakeStatus): void {
    this.lake = status;
  }

  forgetPartition(partition: string): void {
    for (const gauge of [this.partitionLag, this.partitionLagSeconds, this.lastSequence]) gauge.remove({ partition });
  }

  private collectHealth(): void {
    if (!this.readiness) return;
    const view = this.readiness();
    // Reset first: a partition or sink no longer reported loses its series.
    this.partitionFailures.reset();
    for (const p of view.partitions) this.partitionFailures.set({ partition: p.partition }, p.consecutiveFailures);
    this.sinkFailures.reset();
    for (const s of view.sinks) this.sinkFailures.set({ sink: s.sink }, s.consecutiveFailures);
    this.storeFailing.set(view.store.failingSince ? 1 : 0);
    this.ready.set(view.ready ? 1 : 0);
  }
}

/**
 * The dashboards' server's refusals, of UI tokens and of foreign Hosts and Origins: on `run`'s registry, and on
 * `serve`'s, which has nothing else. One counter a registry, whoever asks for it.
 */
export function uiRefusedCounter(registry: Registry): Counter<'reason'> {
  const name = 'auditduck_ui_refused_total';
  return (registry.getSingleMetric(name) as Counter<'reason'> | undefined) ?? new Counter({
    name,
    help: "requests refused by the dashboards' server, per reason: missing-token, wrong-token, cooling-off (429 after too many from one address), host-or-origin (403 for a Host not of this server or a cross-site Origin, on any path)",
    labelNames: ['reason'],
    registers: [registry],
  });
}
