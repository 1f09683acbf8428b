/**
 * History from Log Analytics into the store, one time window per transaction.
 * Input contract: windows are fetched oldest first; each window's rows are stored with its position
 * (`sourceKey` = `loganalytics:<scope>:<table>[/<server>]:<window start>`, position = window end) in one
 * transaction, so a restarted backfill skips committed windows and resumes inside a split one. Rows that
 * the store already holds (they came through Event Hubs, or an earlier partial window) are dropped before
 * the pipeline sees them: same server, time (ms), pid and redacted message.
 * Service limits: a window that comes back partial (result too large, timeouts) is halved down to
 * `minWindowMs`; throttling (429 + Retry-After) is retried by the SDK, then here with backoff.
 */
import { LogsQueryResultStatus, type LogsQueryClient } from '@azure/monitor-query-logs';
import type { Logger } from 'pino';
import { decodeAzureRecord } from '../../decode/azure/azure-record.js';
import type { DecodeResult, LogRecord } from '../../contracts/log-record.js';
import { parseRecord } from '../../parse/parse-record.js';
import type { CompiledPrefix } from '../../decode/prefix/compile-prefix.js';
import type { IngestPipeline } from '../../pipeline/ingest-pipeline.js';
import type { AuditStore } from '../../store/audit-store.js';
import { buildWindowQuery, rowsToAzureRecords, type LogAnalyticsTable, type ResultTable } from './log-analytics-tables.js';
import { gridWindows, halve, type TimeWindow } from './time-windows.js';

/** The part of LogsQueryClient the backfill uses. */
export type LogsQueryPort = Pick<LogsQueryClient, 'queryWorkspace' | 'queryResource'>;

export type BackfillScope = { kind: 'workspace'; id: string } | { kind: 'resource'; id: string };

export interface BackfillOptions {
  client: LogsQueryPort;
  scope: BackfillScope;
  table: LogAnalyticsTable;
  since: Date;
  until: Date;
  server?: string;
  store: AuditStore;
  pipeline: IngestPipeline;
  prefix: CompiledPrefix;
  /** Grid window; default 1 h. */
  windowMs?: number;
  /** A partial window is halved down to this; default 1 min. */
  minWindowMs?: number;
  /** The service returns at most 500,000 rows: a window that reaches this is halved as if partial. */
  maxRows?: number;
  /** Attempts at a window the service keeps throttling (after the SDK's own retries). */
  throttleAttempts?: number;
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

export interface PartialFailure {
  start: string;
  end: string;
  code: string;
  message: string;
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

const HOUR = 3_600_000;
const THROTTLED = new Set([429, 503]);
/** A window the service cannot finish in time is also a window that is too big. */
const TOO_BIG_STATUS = new Set([504]);

export async function runBackfill(opts: BackfillOptions): Promise<BackfillSummary> {
  const windowMs = opts.windowMs ?? HOUR;
  const minWindowMs = opts.minWindowMs ?? 60_000;
  const maxRows = opts.maxRows ?? 500_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const scopeKey = `loganalytics:${opts.scope.id}:${opts.table}${opts.server ? `/${opts.server.toLowerCase()}` : ''}`;
  const source = `loganalytics:${opts.scope.id}`;
  const keyOf = (start: Date) => `${scopeKey}:${start.toISOString()}`;
  const summary: BackfillSummary = {
    windowsFetched: 0, windowsSkipped: 0, windowsSplit: 0, rows: 0, duplicates: 0, records: 0, auditEvents: 0, deadLetters: 0, partialFailures: [],
  };
  const totalMs = opts.until.getTime() - opts.since.getTime();
  const progress = (window: TimeWindow) =>
    opts.onProgress?.({ doneMs: window.end.getTime() - opts.since.getTime(), totalMs, rows: summary.rows, window });

  for (const grid of gridWindows(opts.since, opts.until, windowMs)) {
    const start = await resumePoint(opts.store, grid, keyOf);
    if (start.getTime() >= grid.end.getTime()) {
      summary.windowsSkipped++;
      progress(grid);
      continue;
    }
    // Oldest first: the stack holds the rest of the grid window, split as the service demands.
    const stack: TimeWindow[] = [{ start, end: grid.end }];
    while (stack.length > 0) {
      const w = stack.pop()!;
      const answer = await fetchWindow(opts, w, sleep);
      summary.windowsFetched++;
      const tooBig = answer.kind === 'too-big' || (answer.kind !== 'failed' && answer.table.rows.length >= maxRows);
      const partial = answer.kind === 'partial' || tooBig;
      if (partial && w.end.getTime() - w.start.getTime() > minWindowMs) {
        const [first, second] = halve(w);
        stack.push(second, first);
        summary.windowsSplit++;
        opts.log?.debug({ start: w.start, end: w.end, reason: answer.kind }, 'window split');
        continue;
      }
      const table = answer.kind === 'failed' || answer.kind === 'too-big' ? { columnDescriptors: [], rows: [] } : answer.table;
      if (partial) {
        const error = answer.kind === 'partial' || answer.kind === 'too-big' ? answer.error : { code: 'RowLimit', message: `${maxRows} rows or more` };
        summary.partialFailures.push({ start: w.start.toISOString(), end: w.end.toISOString(), ...error });
        opts.log?.warn({ start: w.start, end: w.end, ...error }, 'Log Analytics returned part of a window; its rows are kept, the window will be fetched again next time');
      }
      await storeWindow(opts, summary, table, w, source, partial ? null : keyOf(w.start));
      progress(w);
    }
  }
  return summary;
}

/** Where a grid window continues: after the end of each committed piece, following the chain of keys. */
async function resumePoint(store: AuditStore, grid: TimeWindow, keyOf: (d: Date) => string): Promise<Date> {
  let cursor = grid.start;
  for (;;) {
    const position = await store.readPosition(keyOf(cursor));
    if (position === null) return cursor;
    const end = new Date(position);
    if (Number.isNaN(end.getTime()) || end <= cursor) return cursor;
    if (end >= grid.end) return grid.end;
    cursor = end;
  }
}

type WindowAnswer =
  | { kind: 'ok'; table: ResultTable }
  | { kind: 'partial'; table: ResultTable; error: { code: string; message: string } }
  | { kind: 'too-big'; error: { code: string; message: string } }
  | { kind: 'failed' };

async function fetchWindow(opts: BackfillOptions, w: TimeWindow, sleep: (ms: number) => Promise<void>): Promise<WindowAnswer> {
  const query = buildWindowQuery(opts.table, w.start, w.end, opts.server);
  const timespan = { startTime: w.start, endTime: w.end };
  const attempts = opts.throttleAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer =
        opts.scope.kind === 'workspace'
          ? await opts.client.queryWorkspace(opts.scope.id, query, timespan)
          : await opts.client.queryResource(opts.scope.id, query, timespan);
      if (answer.status === LogsQueryResultStatus.Success) return { kind: 'ok', table: mergeTables(answer.tables) };
      return {
        kind: 'partial',
        table: mergeTables(answer.partialTables),
        error: { code: answer.partialError.code ?? 'PartialError', message: innermostMessage(answer.partialError) },
      };
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && TOO_BIG_STATUS.has(status)) return { kind: 'too-big', error: { code: String(status), message: (error as Error).message } };
      if (status !== undefined && THROTTLED.has(status) && attempt < attempts) {
        const wait = retryAfterMs(error) ?? Math.min(60_000, 1_000 * 2 ** attempt);
        opts.log?.warn({ status, wait, attempt }, 'Log Analytics is throttling; waiting');
        await sleep(wait);
        continue;
      }
      throw new Error(
        `Log Analytics query for ${w.start.toISOString()}..${w.end.toISOString()} failed${status ? ` (HTTP ${status})` : ''}: ${(error as Error).message}. ` +
          'Windows before it are stored; run the same backfill again to resume.',
      );
    }
  }
}

async function storeWindow(
  opts: BackfillOptions,
  summary: BackfillSummary,
  table: ResultTable,
  w: TimeWindow,
  source: string,
  sourceKey: string | null,
): Promise<void> {
  summary.rows += table.rows.length;
  const seen = await storedKeys(opts.store, w);
  const results: DecodeResult[] = [];
  rowsToAzureRecords(table).forEach((record, i) => {
    const result = decodeAzureRecord(record, { source, position: `${w.start.toISOString()}#${i}`, prefix: opts.prefix });
    if (result.kind === 'record') {
      const key = dedupeKey(result.record);
      if (seen.has(key)) {
        summary.duplicates++;
        return;
      }
      seen.add(key);
    }
    results.push(result);
  });
  const counts = await opts.pipeline.processBatch(results, { sourceKey, source, position: w.end.toISOString() });
  summary.records += counts.records;
  summary.auditEvents += counts.auditEvents;
  summary.deadLetters += counts.deadLetters;
}

/** What identifies one log record across sources: the stored message is redacted, so compare redacted. */
function dedupeKey(record: LogRecord): string {
  const stored = parseRecord(record).entry.record;
  return keyOf(stored.server, stored.loggedAt.getTime(), stored.pid, stored.message);
}

function keyOf(server: string, ms: number, pid: number | null, message: string): string {
  return `${server}\u0000${ms}\u0000${pid ?? ''}\u0000${message}`;
}

async function storedKeys(store: AuditStore, w: TimeWindow): Promise<Set<string>> {
  const stmt = await store.connection.prepare(
    `SELECT server, epoch_ms(logged_at) AS ms, pid, message FROM log_records
     WHERE logged_at >= CAST($1 AS TIMESTAMPTZ) AND logged_at < CAST($2 AS TIMESTAMPTZ)`,
  );
  stmt.bindVarchar(1, w.start.toISOString());
  stmt.bindVarchar(2, w.end.toISOString());
  const rows = (await stmt.runAndReadAll()).getRows();
  return new Set(rows.map(([server, ms, pid, message]) => keyOf(String(server), Number(ms), pid === null ? null : Number(pid), String(message ?? ''))));
}

function mergeTables(tables: ResultTable[]): ResultTable {
  const [first] = tables;
  return first ?? { columnDescriptors: [], rows: [] };
}

function innermostMessage(error: { message?: string; innererror?: unknown; details?: unknown }): string {
  let e: { message?: string; innererror?: unknown } | undefined = error;
  let message = error.message ?? 'partial result';
  while (e && typeof e === 'object') {
    if (e.message) message = e.message;
    e = e.innererror as typeof e;
  }
  return message;
}

function statusOf(error: unknown): number | undefined {
  const s = (error as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as { response?: { headers?: { get?(n: string): string | undefined } } }).response?.headers;
  const value = headers?.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
