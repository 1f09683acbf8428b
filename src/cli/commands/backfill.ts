import { Command, Option } from 'commander';
import { parseDuration, requireTimeOrAgo } from '../../contracts/duration.js';
import { resolveDbPath } from '../../config/store-path.js';
import { createLogger } from '../../logging/logger.js';
import { AZURE_LOG_LINE_PREFIX, compilePrefix } from '../../decode/prefix/compile-prefix.js';
import { IngestPipeline } from '../../pipeline/ingest-pipeline.js';
import { runBackfill } from '../../pipeline/ingest-backfill.js';
import type { BackfillScope } from '../../sources/loganalytics/fetch-window.js';
import { LOG_ANALYTICS_TABLES, validateServerName, type LogAnalyticsTable } from '../../sources/loganalytics/log-analytics-tables.js';
import { AuditStore } from '../../store/audit-store.js';
import { createProgressBar } from '../progress-bar.js';
import { exportStoreToLake } from '../../lake/index.js';

interface BackfillCliOptions {
  db?: string;
  workspace?: string;
  resource?: string;
  since: string;
  until?: string;
  server?: string;
  table: LogAnalyticsTable;
  window: string;
  logLinePrefix: string;
  endpoint?: string;
  json?: boolean;
  lake?: string;
}

export const backfillCommand = new Command('backfill')
  .description('load history from Log Analytics (PGSQLServerLogs or AzureDiagnostics) window by window; resumable, no row stored twice')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .option('--workspace <id>', 'Log Analytics workspace id (GUID)')
  .option('--resource <armId>', 'ARM id of the server (resource-context query)')
  .requiredOption('--since <duration|time>', "start: a duration back from now ('7 days', '36h') or an ISO time")
  .option('--until <duration|time>', 'end: an ISO time or a duration back from now (default now)')
  .option('--server <name>', 'only this server (default all in the workspace)')
  .addOption(new Option('--table <table>', 'Log Analytics table').choices([...LOG_ANALYTICS_TABLES]).default('PGSQLServerLogs'))
  .option('--window <duration>', 'window size; halved where the service returns a partial result', '1h')
  .option('--log-line-prefix <prefix>', "the server's log_line_prefix", AZURE_LOG_LINE_PREFIX)
  .option('--endpoint <url>', 'Logs Query API endpoint (default https://api.loganalytics.io/v1; other clouds differ)')
  .option('--json', 'print the summary as JSON')
  .option('--lake <dirOrUrl>', 'then export what the store committed to this lake (default $AUDITDUCK_LAKE)')
  .action(async (opts: BackfillCliOptions) => {
    if (Boolean(opts.workspace) === Boolean(opts.resource)) throw new Error('give exactly one of --workspace ID or --resource ARM_ID');
    const scope: BackfillScope = opts.workspace ? { kind: 'workspace', id: opts.workspace } : { kind: 'resource', id: opts.resource! };
    const now = new Date();
    const since = requireTimeOrAgo('--since', opts.since, now);
    const until = opts.until ? requireTimeOrAgo('--until', opts.until, now) : now;
    const windowMs = parseDuration(opts.window);
    if (windowMs === null || windowMs < 60_000) throw new Error(`--window ${opts.window} is not a duration of a minute or more`);
    const server = opts.server ? validateServerName(opts.server) : undefined;

    const log = createLogger();
    // The Azure SDKs load with the command that uses them, not with every command.
    const [{ DefaultAzureCredential }, { LogsQueryClient }] = await Promise.all([import('@azure/identity'), import('@azure/monitor-query-logs')]);
    const client = new LogsQueryClient(new DefaultAzureCredential(), opts.endpoint ? { endpoint: opts.endpoint } : {});
    const store = await AuditStore.open(resolveDbPath(opts.db));
    const bar = createProgressBar();
    try {
      const summary = await runBackfill({
        client, scope, table: opts.table, since, until, ...(server ? { server } : {}), windowMs,
        store, pipeline: await IngestPipeline.create(store), prefix: compilePrefix(opts.logLinePrefix), log,
        onProgress: (p) => bar.update(p.doneMs / p.totalMs, `${p.window.end.toISOString()}  ${p.rows} rows`),
      });
      bar.done(`${summary.rows} rows, ${summary.duplicates} already stored`);
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else process.stdout.write(renderSummary(summary));
      if (summary.partialFailures.length > 0) {
        log.warn({ partialFailures: summary.partialFailures.length }, 'some windows came back partial; run the same backfill again to fetch them');
        process.exitCode = 2;
      }
    } finally {
      await store.close();
    }
    const lake = opts.lake ?? process.env.AUDITDUCK_LAKE;
    if (lake) await exportStoreToLake(resolveDbPath(opts.db), lake, log);
  });

function renderSummary(s: Awaited<ReturnType<typeof runBackfill>>): string {
  const lines: [string, unknown][] = [
    ['windows fetched', s.windowsFetched], ['windows already stored', s.windowsSkipped], ['windows split', s.windowsSplit],
    ['rows', s.rows], ['already stored (skipped)', s.duplicates], ['records', s.records], ['audit events', s.auditEvents],
    ['dead letters', s.deadLetters], ['partial windows', s.partialFailures.length],
  ];
  const partial = s.partialFailures.map((p) => `  partial ${p.start}..${p.end}: ${p.code} ${p.message}`);
  return [...lines.map(([k, v]) => `${k.padEnd(28)}${String(v)}`), ...partial].join('\n') + '\n';
}
