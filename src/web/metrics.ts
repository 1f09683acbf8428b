import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchSummary } from '../pipeline/ingest-pipeline.js';

/** The Prometheus metrics of the main job, served on /metrics. */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly records = new Counter({ name: 'auditduck_records_total', help: 'log records stored', labelNames: ['source'], registers: [this.registry] });
  private readonly auditEvents = new Counter({ name: 'auditduck_audit_events_total', help: 'pgaudit entries stored', labelNames: ['source'], registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'auditduck_dead_letters_total', help: 'inputs that could not be read', labelNames: ['source'], registers: [this.registry] });
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
  readonly lastSequence = new Gauge({ name: 'auditduck_partition_last_sequence_number', help: 'last stored sequence number, per partition', labelNames: ['partition'], registers: [this.registry] });
  readonly failures = new Counter({ name: 'auditduck_batch_failures_total', help: 'batches that failed to commit (retried)', labelNames: ['source'], registers: [this.registry] });

  /** Totals since start, for /healthz. */
  readonly totals = { batches: 0, records: 0, auditEvents: 0, deadLetters: 0, lastBatchAt: null as string | null };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'auditduck_' });
  }

  recordBatch(source: string, summary: BatchSummary, seconds: number): void {
    this.records.inc({ source }, summary.records);
    this.auditEvents.inc({ source }, summary.auditEvents);
    this.deadLetters.inc({ source }, summary.deadLetters);
    this.skipped.inc({ source }, summary.skipped);
    this.privilegeChanges.inc({ source }, summary.privilegeChanges);
    this.batchSeconds.observe({ source }, seconds);
    this.totals.batches++;
    this.totals.records += summary.records;
    this.totals.auditEvents += summary.auditEvents;
    this.totals.deadLetters += summary.deadLetters;
    this.totals.lastBatchAt = new Date().toISOString();
  }
}
