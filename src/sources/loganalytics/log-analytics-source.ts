/**
 * History from Log Analytics as a source: one batch per time window, oldest first.
 * Output contract: each batch holds a window's rows as Azure records, `sourceKey` =
 * `loganalytics:<scope>:<table>[/<server>]:<window start>` and position = the window's end, so a restarted
 * backfill skips committed windows and resumes inside a split one. A window that stays partial at the
 * smallest size is yielded with no `sourceKey` (its rows are kept, the window is fetched again next time).
 * Its rows may already be stored (they came through Event Hubs, or an earlier partial window): the batch's
 * `window` says where the driver looks for them in the store.
 * Service limits: a window that comes back partial (result too large, timeouts) is halved down to
 * `minWindowMs`; throttling is waited out (fetch-window.ts).
 */
import type { PositionReader, SourceBatch } from '../source-batch.js';
import { fetchWindow, type FetchWindowOptions } from './fetch-window.js';
import { rowsToAzureRecords } from './log-analytics-tables.js';
import { gridWindows, halve, type TimeWindow } from './time-windows.js';

export interface LogAnalyticsBatch extends SourceBatch<Record<string, unknown>> {
  window: TimeWindow;
}

export interface LogAnalyticsSourceOptions extends FetchWindowOptions {
  since: Date;
  until: Date;
  readPosition: PositionReader;
  /** Grid window; default 1 h. */
  windowMs?: number;
  /** A partial window is halved down to this; default 1 min. */
  minWindowMs?: number;
  /** The service returns at most 500,000 rows: a window that reaches this is halved as if partial. */
  maxRows?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told for each window skipped (committed before) and each window whose batch was taken. */
  onWindow?: (window: TimeWindow, rows: number) => void;
}

export interface PartialFailure {
  start: string;
  end: string;
  code: string;
  message: string;
}

/** What the source did, for the backfill's summary. */
export interface WindowStats {
  windowsFetched: number;
  windowsSkipped: number;
  windowsSplit: number;
  rows: number;
  partialFailures: PartialFailure[];
}

const HOUR = 3_600_000;

export function logAnalyticsSource(opts: LogAnalyticsSourceOptions): { stats: WindowStats; batches: AsyncIterable<LogAnalyticsBatch> } {
  const stats: WindowStats = { windowsFetched: 0, windowsSkipped: 0, windowsSplit: 0, rows: 0, partialFailures: [] };
  return { stats, batches: windows(opts, stats) };
}

async function* windows(opts: LogAnalyticsSourceOptions, stats: WindowStats): AsyncGenerator<LogAnalyticsBatch> {
  const windowMs = opts.windowMs ?? HOUR;
  const minWindowMs = opts.minWindowMs ?? 60_000;
  const maxRows = opts.maxRows ?? 500_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const scopeKey = `loganalytics:${opts.scope.id}:${opts.table}${opts.server ? `/${opts.server.toLowerCase()}` : ''}`;
  const source = `loganalytics:${opts.scope.id}`;
  const keyOf = (start: Date) => `${scopeKey}:${start.toISOString()}`;

  for (const grid of gridWindows(opts.since, opts.until, windowMs)) {
    const start = await resumePoint(opts.readPosition, grid, keyOf);
    if (start.getTime() >= grid.end.getTime()) {
      stats.windowsSkipped++;
      opts.onWindow?.(grid, stats.rows);
      continue;
    }
    // Oldest first: the stack holds the rest of the grid window, split as the service demands.
    const stack: TimeWindow[] = [{ start, end: grid.end }];
    while (stack.length > 0) {
      const w = stack.pop()!;
      const answer = await fetchWindow(opts, w, sleep);
      stats.windowsFetched++;
      const tooBig = answer.kind === 'too-big' || (answer.kind !== 'failed' && answer.table.rows.length >= maxRows);
      const partial = answer.kind === 'partial' || tooBig;
      if (partial && w.end.getTime() - w.start.getTime() > minWindowMs) {
        const [first, second] = halve(w);
        stack.push(second, first);
        stats.windowsSplit++;
        opts.log?.debug({ start: w.start, end: w.end, reason: answer.kind }, 'window split');
        continue;
      }
      const table = answer.kind === 'failed' || answer.kind === 'too-big' ? { columnDescriptors: [], rows: [] } : answer.table;
      if (partial) {
        const error = answer.kind === 'partial' || answer.kind === 'too-big' ? answer.error : { code: 'RowLimit', message: `${maxRows} rows or more` };
        stats.partialFailures.push({ start: w.start.toISOString(), end: w.end.toISOString(), ...error });
        opts.log?.warn({ start: w.start, end: w.end, ...error }, 'Log Analytics returned part of a window; its rows are kept, the window will be fetched again next time');
      }
      stats.rows += table.rows.length;
      yield { sourceKey: partial ? null : keyOf(w.start), source, position: w.end.toISOString(), items: rowsToAzureRecords(table), window: w };
      opts.onWindow?.(w, stats.rows);
    }
  }
}

/** Where a grid window continues: after the end of each committed piece, following the chain of keys. */
async function resumePoint(readPosition: PositionReader, grid: TimeWindow, keyOf: (d: Date) => string): Promise<Date> {
  let cursor = grid.start;
  for (;;) {
    const position = await readPosition(keyOf(cursor));
    if (position === null) return cursor;
    const end = new Date(position);
    if (Number.isNaN(end.getTime()) || end <= cursor) return cursor;
    if (end >= grid.end) return grid.end;
    cursor = end;
  }
}
