/**
 * `auditduck backfill`: the Log Analytics source through the driver, one time window per transaction,
 * oldest first. Rows the store holds already (they came through Event Hubs, or an earlier partial window)
 * are dropped before the pipeline sees them: same server, time (ms), pid and redacted message.
 */
import type { Logger } from 'pino';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import type { FetchWindowOptions } from '../sources/loganalytics/fetch-window.js';
import { logAnalyticsSource, type PartialFailure } from '../sources/loganalytics/log-analytics-source.js';
import type { TimeWindow } from '../sources/loganalytics/time-windows.js';
import type { AuditStore } from '../store/audit-store.js';
import { driveSource } from './drive-source.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import { logAnalyticsDecoder } from './source-decoders.js';

export interface BackfillOptions extends FetchWindowOptions {
  since: Date;
  until: Date;
  store: AuditStore;
  pipeline: IngestPipeline;
  prefix: CompiledPrefix;
  /** Grid window; default 1 h. */
  windowMs?: number;
  /** A partial window is halved down to this; default 1 min. */
  minWindowMs?: number;
  /** The service returns at most 500,000 rows: a window that reaches this is halved as if partial. */
  maxRows?: number;
  onProgress?: (p: BackfillProgress) => void;
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
}

export interface BackfillProgress {
  doneMs: number;
  totalMs: number;
  rows: number;
  window: TimeWindow;
}

export interface BackfillSummary {
  windowsFetched: number;
  windowsSkipped: number;
  windowsSplit: number;
  rows: number;
  duplicates: number;
  records: number;
  auditEvents: number;
  deadLetters: number;
  partialFailures: PartialFailure[];
}

export async function runBackfill(opts: BackfillOptions): Promise<BackfillSummary> {
  const totalMs = opts.until.getTime() - opts.since.getTime();
  const { stats, batches } = logAnalyticsSource({
    ...opts,
    readPosition: (key) => opts.pipeline.readPosition(key),
    onWindow: (window, rows) => opts.onProgress?.({ doneMs: window.end.getTime() - opts.since.getTime(), totalMs, rows, window }),
  });
  const dropped = { duplicates: 0 };
  const stored = { records: 0, auditEvents: 0, deadLetters: 0 };
  await driveSource(batches, {
    pipeline: opts.pipeline,
    decoder: logAnalyticsDecoder(opts.prefix, opts.pipeline, opts.store, dropped),
    afterCommit: [
      ({ counts }) => {
        stored.records += counts.records;
        stored.auditEvents += counts.auditEvents;
        stored.deadLetters += counts.deadLetters;
      },
    ],
  });
  return { ...stats, partialFailures: stats.partialFailures, duplicates: dropped.duplicates, ...stored };
}
