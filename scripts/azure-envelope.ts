/**
 * Turns PostgreSQL jsonlog objects into the records Azure Database for PostgreSQL - Flexible Server sends
 * through diagnostic settings (category `PostgreSQLLogs`), so a local capture can stand in for Event Hubs
 * bodies and Storage `PT1H.json` blobs. Pure: no I/O.
 *
 * What Azure does to a log line, and so what this does (facts: azure-postgres-logs.md, section 1):
 * - `properties.message` is the whole rendered line: the `log_line_prefix` output (`%t-%c-` on Azure),
 *   then `LEVEL:  `, then the text;
 * - `properties.detail` carries DETAIL; CONTEXT, STATEMENT and HINT lines are not sent;
 * - `properties.timestamp` keeps milliseconds (`YYYY-MM-DD HH:MM:SS.mmm UTC`), `time` is ISO 8601;
 * - `sqlerrcode` is `00000` for lines without an error code (jsonlog omits `state_code` then).
 */

/** The jsonlog fields (PostgreSQL 15) that the envelope uses; jsonlog omits a field that has no value. */
export interface JsonlogRecord {
  timestamp: string;
  pid: number;
  session_id: string;
  error_severity: string;
  message: string;
  state_code?: string;
  detail?: string;
  backend_type?: string;
  [field: string]: unknown;
}

export interface AzureEnvelopeOptions {
  /** Upper-case ARM id as Azure writes it; the server name is its last segment. */
  resourceId: string;
  location: string;
  /** Add `LogicalServerName` (Azure often leaves it out). */
  withLogicalServerName?: boolean;
}

export interface AzurePostgresLogRecord {
  properties: {
    timestamp: string;
    processId: number;
    errorLevel: string;
    sqlerrcode: string;
    backend_type?: string;
    message: string;
    detail?: string;
  };
  time: string;
  resourceId: string;
  location: string;
  category: 'PostgreSQLLogs';
  operationName: 'LogEvent';
  LogicalServerName?: string;
}

/** `2026-11-24 14:55:15.123 UTC` → its parts; jsonlog writes timestamps in `log_timezone` with milliseconds. */
const JSONLOG_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{3}) (\S+)$/;

function timestampParts(timestamp: string): { date: string; time: string; millis: string; zone: string } {
  const match = JSONLOG_TIMESTAMP.exec(timestamp);
  if (!match) throw new Error(`not a jsonlog timestamp: ${JSON.stringify(timestamp)}`);
  const [, date, time, millis, zone] = match as unknown as [string, string, string, string, string];
  return { date, time, millis, zone };
}

/** What `%t-%c-` (Azure's default `log_line_prefix`) renders for this record: `%t` has whole seconds. */
export function renderAzurePrefix(record: Pick<JsonlogRecord, 'timestamp' | 'session_id'>): string {
  const { date, time, zone } = timestampParts(record.timestamp);
  return `${date} ${time} ${zone}-${record.session_id}-`;
}

/** The rendered line as Azure puts it in `properties.message`: prefix, `LEVEL:  `, text. */
export function renderAzureMessage(record: Pick<JsonlogRecord, 'timestamp' | 'session_id' | 'error_severity' | 'message'>): string {
  return `${renderAzurePrefix(record)}${record.error_severity}:  ${record.message}`;
}

/** `2026-11-24 14:55:15.123 UTC` → `2026-11-24T14:55:15.123Z`. Azure servers log in UTC; other zones are refused. */
export function isoTime(timestamp: string): string {
  const { date, time, millis, zone } = timestampParts(timestamp);
  if (zone !== 'UTC' && zone !== 'GMT') throw new Error(`expected a UTC timestamp (log_timezone = 'UTC'), got ${JSON.stringify(timestamp)}`);
  return `${date}T${time}.${millis}Z`;
}

export function serverNameOf(resourceId: string): string {
  return resourceId.split('/').filter((segment) => segment.length > 0).at(-1) ?? '';
}

export function toAzureRecord(record: JsonlogRecord, options: AzureEnvelopeOptions): AzurePostgresLogRecord {
  const properties: AzurePostgresLogRecord['properties'] = {
    timestamp: record.timestamp,
    processId: record.pid,
    errorLevel: record.error_severity,
    sqlerrcode: record.state_code ?? '00000',
    ...(record.backend_type === undefined ? {} : { backend_type: record.backend_type }),
    message: renderAzureMessage(record),
    ...(record.detail === undefined ? {} : { detail: record.detail }),
  };
  return {
    properties,
    time: isoTime(record.timestamp),
    resourceId: options.resourceId,
    location: options.location,
    category: 'PostgreSQLLogs',
    operationName: 'LogEvent',
    ...(options.withLogicalServerName ? { LogicalServerName: serverNameOf(options.resourceId) } : {}),
  };
}

/**
 * Cuts records into Event Hubs bodies of `nextSize()` records each (the last may be shorter), in order.
 * `nextSize` is injected so callers choose the spread (1–20 in the samples) and tests stay deterministic.
 */
export function batchRecords<T>(records: readonly T[], nextSize: () => number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < records.length; ) {
    const size = Math.max(1, Math.floor(nextSize()));
    batches.push(records.slice(start, start + size));
    start += size;
  }
  return batches;
}

/** Deals bodies round-robin over `partitions` partitions, as Event Hubs does with events that have no partition key. */
export function spreadOverPartitions<T>(bodies: readonly T[], partitions: number): T[][] {
  const spread: T[][] = Array.from({ length: partitions }, () => []);
  bodies.forEach((body, index) => spread[index % partitions]!.push(body));
  return spread;
}

/** A small seeded generator (mulberry32), so a capture's batch sizes are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
