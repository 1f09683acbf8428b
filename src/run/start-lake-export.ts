/**
 * The lake in `auditduck run`: the exporter (segments cut on the store's writer, written on a connection
 * beside it), its counts on /metrics, and hot retention after exports that caught up (at most once an hour).
 * An unreachable lake never stops the start or the ingestion: the exporter keeps its segments staged beside
 * the store and retries every interval.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/run-config.js';
import { hotRetention, LakeExporter, type HotRetentionOptions, openLakeStorage, parseLakeLocation, stagingDirOf, type Exclusive } from '../lake/index.js';
import type { PipelineMetrics } from '../web/metrics.js';

const RETENTION_EVERY_MS = 60 * 60_000;

/** `connect` opens another connection to the store: segments are written on it, beside the ingestion. */
export async function startLakeExport(
  config: RunConfig & { lake: string },
  exclusive: Exclusive,
  connect: () => Promise<DuckDBConnection>,
  metrics: PipelineMetrics,
  log: Logger,
  beforeDrop?: HotRetentionOptions['beforeDrop'],
): Promise<LakeExporter> {
  const lake = await openLakeStorage(parseLakeLocation(config.lake));
  // Not awaited: an unreachable lake must not hold up the start (the SDK retries for a while); a failed export retries.
  void lake.ensureReady().catch((error: unknown) =>
    log.warn({ err: error, lake: lake.description }, 'the lake cannot be reached or created now; segments wait beside the store until it can'),
  );
  const retain = config.retention.hotDays === undefined ? null : hotRetention({ lake, exclusive, hotDays: config.retention.hotDays, log, ...(beforeDrop ? { beforeDrop } : {}) });
  let retainedAt = 0;
  const exporter = await LakeExporter.start({
    lake,
    stagingDir: stagingDirOf(config.db),
    exclusive,
    connect,
    intervalMs: config.lakeExport.intervalMs,
    log,
    onPublished: (rows, bytes) => {
      metrics.lakeRows.inc(rows);
      metrics.lakeBytes.inc(bytes);
    },
    onFailure: () => metrics.lakeFailures.inc(),
    ...(retain
      ? {
          onCaughtUp: async () => {
            if (Date.now() - retainedAt < RETENTION_EVERY_MS) return;
            retainedAt = Date.now();
            await retain().catch((error: unknown) => log.error({ err: error }, 'hot retention failed; the store keeps its rows'));
          },
        }
      : {}),
  });
  metrics.observeLake(() => exporter.status());
  log.info({ lake: lake.description, intervalMs: config.lakeExport.intervalMs, hotDays: config.retention.hotDays ?? null }, 'exporting committed rows to the lake');
  return exporter;
}
