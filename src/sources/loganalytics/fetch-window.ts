/**
 * One time window asked of the Logs Query API. Service limits: a result too large or a query that timed out
 * comes back partial or as 504 (the caller halves the window); throttling (429/503 + Retry-After) is retried
 * by the SDK, then here with backoff; any other failure is thrown with what to do.
 */
import { LogsQueryResultStatus, type LogsQueryClient } from '@azure/monitor-query-logs';
import type { Logger } from 'pino';
import { buildWindowQuery, type LogAnalyticsTable, type ResultTable } from './log-analytics-tables.js';
import type { TimeWindow } from './time-windows.js';

/** The part of LogsQueryClient the backfill uses. */
export type LogsQueryPort = Pick<LogsQueryClient, 'queryWorkspace' | 'queryResource'>;

export type BackfillScope = { kind: 'workspace'; id: string } | { kind: 'resource'; id: string };

export interface FetchWindowOptions {
  client: LogsQueryPort;
  scope: BackfillScope;
  table: LogAnalyticsTable;
  server?: string;
  /** Attempts at a window the service keeps throttling (after the SDK's own retries); default 5. */
  throttleAttempts?: number;
  log?: Logger;
}

const THROTTLED = new Set([429, 503]);
/** A window the service cannot finish in time is also a window that is too big. */
const TOO_BIG_STATUS = new Set([504]);

export type WindowAnswer =
  | { kind: 'ok'; table: ResultTable }
  | { kind: 'partial'; table: ResultTable; error: { code: string; message: string } }
  | { kind: 'too-big'; error: { code: string; message: string } }
  | { kind: 'failed' };

export async function fetchWindow(opts: FetchWindowOptions, w: TimeWindow, sleep: (ms: number) => Promise<void>): Promise<WindowAnswer> {
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
