/**
 * How long one read may run and how many rows it may return, on every query surface (CLI, shell, the
 * query API and dashboards of `run`, `serve`). A runaway query ends by itself instead of holding the
 * connection (and shutdown) for good; a huge result is refused before it fills the heap.
 *
 *   AUDITDUCK_QUERY_TIMEOUT   a duration (30s, 2m, PT1M); default 30s
 *   AUDITDUCK_QUERY_MAX_ROWS  rows a result may hold; default 100000 (files written with COPY are not capped)
 */
import { parseDuration } from '../config/duration.js';

export interface QueryLimits {
  timeoutMs: number;
  maxRows: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { timeoutMs: 30_000, maxRows: 100_000 };

export const QUERY_TIMEOUT_ENV = 'AUDITDUCK_QUERY_TIMEOUT';
export const QUERY_MAX_ROWS_ENV = 'AUDITDUCK_QUERY_MAX_ROWS';

export function queryLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): QueryLimits {
  const limits = { ...DEFAULT_QUERY_LIMITS };
  const timeout = env[QUERY_TIMEOUT_ENV];
  if (timeout !== undefined && timeout !== '') {
    const ms = parseDuration(timeout);
    if (ms === null || ms <= 0) throw new Error(`${QUERY_TIMEOUT_ENV}=${timeout} is not a duration (30s, 2m, PT1M)`);
    limits.timeoutMs = ms;
  }
  const maxRows = env[QUERY_MAX_ROWS_ENV];
  if (maxRows !== undefined && maxRows !== '') {
    if (!/^\d+$/.test(maxRows) || Number(maxRows) < 1) throw new Error(`${QUERY_MAX_ROWS_ENV}=${maxRows} is not a positive whole number`);
    limits.maxRows = Number(maxRows);
  }
  return limits;
}
