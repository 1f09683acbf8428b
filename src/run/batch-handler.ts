/**
 * What `run` does with each source batch: store it (retrying as pipeline/batch-retry.ts says, setting a
 * poison batch aside to dead_letters), then tell health, metrics and the alert delivery.
 */
import type { Logger } from 'pino';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import { commitWithRetry, type BatchRetryPolicy } from '../pipeline/batch-retry.js';
import { ingestHubBatch } from '../pipeline/ingest-hub-batch.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { quarantineHubBatch } from '../pipeline/quarantine-batch.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { PipelineMetrics } from '../web/metrics.js';
import type { HealthBook } from '../web/health-book.js';

export interface BatchHandlerOptions {
  pipeline: IngestPipeline;
  prefix: CompiledPrefix;
  policy: BatchRetryPolicy;
  /** Aborted when stopping: a batch waiting for its next attempt is given up (and read again after a restart). */
  signal: AbortSignal;
  health: HealthBook;
  metrics: PipelineMetrics;
  /** Called after each commit: alerts may be waiting in the outbox. */
  committed(): void;
  log: Logger;
}

export function createBatchHandler(opts: BatchHandlerOptions): (batch: SourceBatch<HubEvent>) => Promise<void> {
  const { pipeline, prefix, health, metrics, log } = opts;
  return async (batch) => {
    const started = performance.now();
    const summary = await commitWithRetry({
      commit: () => ingestHubBatch(pipeline, prefix, batch),
      quarantine: async (error, attempts) => {
        const setAside = await quarantineHubBatch(pipeline, batch, error, attempts);
        health.quarantined(batch.source);
        metrics.poisonBatches.inc({ source: batch.source });
        log.error({ source: batch.source, position: batch.position, events: batch.items.length, attempts, error: (error as Error).message }, 'poison batch: its events went to dead_letters');
        return setAside;
      },
      policy: opts.policy,
      signal: opts.signal,
      onFailure: ({ attempt, cause, error, retryInMs }) => {
        metrics.recordFailure(batch.source, cause);
        health.failed(batch.source, cause, error);
        log.warn({ source: batch.source, position: batch.position, attempt, cause, retryInMs, error: (error as Error).message }, 'storing a batch failed; retrying');
      },
    });
    health.committed(batch.source);
    opts.committed();
    metrics.recordBatch(batch.source, summary, (performance.now() - started) / 1000);
    metrics.lastSequence.set({ partition: batch.source }, Number(batch.position));
    log.debug({ source: batch.source, position: batch.position, records: summary.records }, 'batch committed');
    if (summary.deadLetters > 0) log.warn({ source: batch.source, deadLetters: summary.deadLetters }, 'input that could not be read went to dead_letters');
  };
}
