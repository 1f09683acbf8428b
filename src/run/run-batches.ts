/**
 * How `run` drives its source: every batch through the one driver (pipeline/drive-source.ts), each its own
 * transaction, stored with retries as pipeline/batch-retry.ts says (a poison batch set aside to dead_letters),
 * then health, metrics and the log told after its commit, before any hook the composition adds (the alert
 * delivery's wake-up, an exporter of committed rows).
 */
import type { Logger } from 'pino';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import { commitWithRetry, type BatchRetryPolicy } from '../pipeline/batch-retry.js';
import { driveSource, type AfterCommit } from '../pipeline/drive-source.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { quarantineHubBatch } from '../pipeline/quarantine-batch.js';
import { hubEventDecoder } from '../pipeline/source-decoders.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { PipelineMetrics } from '../web/metrics.js';
import type { HealthBook } from '../web/health-book.js';

export type HubBatch = SourceBatch<HubEvent>;

export interface RunBatchesOptions {
  pipeline: IngestPipeline;
  prefix: CompiledPrefix;
  policy: BatchRetryPolicy;
  /** Aborted when stopping: a batch waiting for its next attempt is given up (and read again after a restart). */
  signal: AbortSignal;
  health: HealthBook;
  metrics: PipelineMetrics;
  log: Logger;
  /** Told after each commit, after health and metrics: alerts may be waiting in the outbox, rows may be exported. */
  afterCommit?: readonly AfterCommit<HubBatch>[];
}

/** Resolves when the source ends (it was closed); rejects only when the driver itself failed. */
export function driveRunBatches(batches: AsyncIterable<HubBatch>, opts: RunBatchesOptions): Promise<void> {
  const { pipeline, health, metrics, log } = opts;
  const started = new WeakMap<HubBatch, number>();
  return driveSource(batches, {
    pipeline,
    decoder: hubEventDecoder(opts.prefix),
    // Each partition waits for its batch's commit before handing over the next: the source keeps the order.
    maxInFlight: Number.POSITIVE_INFINITY,
    commit: (batch, prepared, prepareAgain) => {
      started.set(batch, performance.now());
      let first = true;
      return commitWithRetry({
        commit: async () => {
          const sealed = first ? prepared : prepareAgain();
          first = false;
          // Sealed: the batch's session lines are observed; a fleet leader hands them over before the COMMIT.
          await batch.beforeCommit?.();
          const inTransaction = batch.inTransaction;
          return pipeline.commitBatch(sealed, inTransaction ? () => inTransaction.call(batch) : undefined);
        },
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
    },
    afterCommit: [
      ({ batch, counts }) => {
        health.committed(batch.source);
        metrics.recordBatch(batch.source, counts, (performance.now() - (started.get(batch) ?? performance.now())) / 1000);
        metrics.lastSequence.set({ partition: batch.source }, Number(batch.position));
        log.debug({ source: batch.source, position: batch.position, records: counts.records }, 'batch committed');
        if (counts.deadLetters > 0) log.warn({ source: batch.source, deadLetters: counts.deadLetters }, 'input that could not be read went to dead_letters');
      },
      ...(opts.afterCommit ?? []),
    ],
  });
}
